#include "server/net/store_writer.h"

#include <vector>

namespace ergon::server {

core::Result<std::unique_ptr<StoreWriter>> StoreWriter::start(const std::filesystem::path& data) {
  auto store = MasterStore::open(data);
  if (!store) return core::fail(store.error());
  return std::unique_ptr<StoreWriter>(new StoreWriter(std::move(*store)));
}

StoreWriter::StoreWriter(MasterStore store)
    : store_(std::move(store)), merge_(store_), thread_([this] { loop(); }) {}

StoreWriter::~StoreWriter() { stop(); }

void StoreWriter::submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

std::optional<StoreWriter::Job> StoreWriter::next_job(bool wait) {
  std::unique_lock lock(mutex_);
  if (wait) wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
  if (jobs_.empty()) return std::nullopt;
  auto job = std::move(jobs_.front());
  jobs_.pop_front();
  return job;
}

void StoreWriter::loop() {
  while (auto job = next_job(/*wait=*/true)) run_group(std::move(*job));
}

void StoreWriter::run_group(Job first) {
  auto started = std::chrono::steady_clock::now();
  // When the group cannot begin (another process holds the write lock past the busy timeout),
  // the job runs on its own, as every job did before groups: its own transactions answer.
  auto group = store_.begin_group();
  std::vector<Job> ran;
  core::Status committed;
  for (std::optional<Job> job = std::move(first); job;) {
    job->work(store_, merge_);
    ran.push_back(std::move(*job));
    if (!group) break;
    if (!group->is_open()) {
      // SQLite rolled the whole group back by itself (an I/O error, a full disk).
      committed = core::fail(core::ErrorCode::kStorage,
                             "the server's store rolled back a group of writes after an error; "
                             "nothing of it was kept: try again");
      break;
    }
    if (std::chrono::steady_clock::now() - started >= kGroupBudget) break;
    job = next_job(/*wait=*/false);
  }
  if (group && committed) committed = group->commit();
  if (group && committed) ++groups_committed_;
  jobs_run_ += ran.size();
  for (auto& job : ran) job.deliver(committed ? nullptr : &committed.error());
}

void StoreWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ergon::server
