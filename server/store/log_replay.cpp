#include "server/store/log_replay.h"

#include "shared/changelog/canonical.h"
#include "shared/model/fields.h"
#include "shared/model/money.h"

namespace ergon::server {
namespace {

constexpr std::size_t kBatchRows = 1024;
constexpr std::size_t kMaxQueued = 4;  // bounds memory: the reader waits for the worker

}  // namespace

core::Status Replay::apply(const changelog::Change& change) {
  if (change.entity.kind == changelog::EntityKind::kEnvelope) {
    auto it = change.values.find("amount");
    auto amount = model::Money::parse(it == change.values.end() ? "" : it->second);
    if (!amount) return core::fail(core::ErrorCode::kCorrupt, amount.error().message);
    envelopes[change.entity.key] = amount->cents();
    return {};
  }
  if (change.entity.kind != changelog::EntityKind::kProposal) return {};
  auto& p = proposals[change.entity.key];
  return model::apply_values(p, changelog::field_values(change));
}

LogReplayer::LogReplayer() : worker_([this] { run(); }) {}

LogReplayer::~LogReplayer() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void LogReplayer::add(std::uint64_t seq, std::string_view canonical, bool applies) {
  if (filled_ == filling_.size()) filling_.emplace_back();
  auto& row = filling_[filled_++];
  row.seq = seq;
  row.applies = applies;
  row.canonical.assign(canonical);
  if (filled_ == kBatchRows) hand_over();
}

void LogReplayer::hand_over() {
  filling_.resize(filled_);
  filled_ = 0;
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queued_.size() < kMaxQueued; });
  queued_.push_back(std::move(filling_));
  filling_.clear();
  if (!spare_.empty()) {
    filling_ = std::move(spare_.back());
    spare_.pop_back();
  }
  lock.unlock();
  changed_.notify_all();
}

std::pair<Replay, ReplayProblem> LogReplayer::finish() {
  if (filled_ > 0) hand_over();
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  changed_.notify_all();
  worker_.join();
  return {std::move(replay_), std::move(problem_)};
}

void LogReplayer::run() {
  for (;;) {
    Batch batch;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return done_ || !queued_.empty(); });
      if (queued_.empty()) return;  // done, and everything processed
      batch = std::move(queued_.front());
      queued_.pop_front();
    }
    changed_.notify_all();
    process(batch);
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(batch));
  }
}

void LogReplayer::process(const Batch& batch) {
  for (const auto& row : batch) {
    if (problem_.seq != 0) return;  // the first problem is the one reported
    auto change = changelog::parse_canonical(row.canonical);
    if (!change) {
      problem_ = {row.seq, "its canonical bytes are damaged"};
    } else if (row.applies) {
      if (auto applied = replay_.apply(*change); !applied)
        problem_ = {row.seq, "its accepted values do not apply: " + applied.error().message};
    }
  }
}

}  // namespace ergon::server
