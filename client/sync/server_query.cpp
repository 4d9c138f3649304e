#include "client/sync/server_query.h"

#include "client/store/sync_state.h"
#include "client/sync/session_io.h"

namespace ergon::client {
namespace {

using namespace io;

// Hello and welcome; the answering server must be the one this home belongs to.
template <class Stream>
asio::awaitable<core::Status> greet(Stream& stream, LocalStore& store, std::uint64_t& next_id,
                                    std::chrono::milliseconds timeout) {
  auto hello = make_hello(stream, store);
  if (!hello) co_return fail(hello.error());
  auto welcomed = co_await ask(stream, *hello, next_id, timeout);
  if (!welcomed) co_return fail(welcomed.error());
  if (!welcomed->has_welcome()) co_return fail(ErrorCode::kProtocol, "expected a welcome");
  auto known = store.setting("server_id");
  if (!known.empty() && known != welcomed->welcome().server_id())
    co_return fail(ErrorCode::kCorrupt, "this client belongs to server " + known + " but " +
                                            welcomed->welcome().server_id() + " answered");
  co_return core::Status{};
}

struct HistoryTalk {
  using Result = std::vector<wire::HistoryEvent>;
  LocalStore* store;
  wire::HistoryRequest query;
  std::function<void(std::size_t)> progress;
  std::chrono::milliseconds timeout;

  template <class Stream>
  asio::awaitable<core::Result<Result>> run(Stream& stream) {
    std::uint64_t next_id = 0;
    if (auto greeted = co_await greet(stream, *store, next_id, timeout); !greeted)
      co_return fail(greeted.error());
    Result events;
    for (;;) {
      wire::Message request;
      *request.mutable_history() = query;
      auto reply = co_await ask(stream, request, next_id, timeout);
      if (!reply) co_return fail(reply.error());
      if (!reply->has_history_reply())
        co_return fail(ErrorCode::kProtocol, "expected a history page");
      const auto& page = reply->history_reply();
      for (const auto& e : page.events()) events.push_back(e);
      if (progress) progress(events.size());
      if (!page.more()) break;
      if (page.next_after() <= query.after_seq())
        co_return fail(ErrorCode::kProtocol, "the history pages do not advance");
      query.set_after_seq(page.next_after());
    }
    co_return events;
  }
};

struct VerifyTalk {
  using Result = wire::AuditVerifyReply;
  LocalStore* store;
  std::chrono::milliseconds timeout;

  template <class Stream>
  asio::awaitable<core::Result<Result>> run(Stream& stream) {
    std::uint64_t next_id = 0;
    if (auto greeted = co_await greet(stream, *store, next_id, timeout); !greeted)
      co_return fail(greeted.error());
    wire::Message request;
    auto* asked = request.mutable_audit_verify();
    auto held = SyncState(*store).held_head();
    if (!held) co_return fail(held.error());
    if (*held) {
      asked->mutable_held()->set_epoch((*held)->first.epoch);
      asked->mutable_held()->set_seq((*held)->first.seq);
      asked->set_held_hash(std::string(crypto::as_bytes((*held)->second)));
    }
    auto reply = co_await ask(stream, request, next_id, timeout);
    if (!reply) co_return fail(reply.error());
    if (!reply->has_audit_verify_reply())
      co_return fail(ErrorCode::kProtocol, "expected a verification report");
    co_return reply->audit_verify_reply();
  }
};

}  // namespace

core::Result<std::vector<wire::HistoryEvent>> fetch_history(
    LocalStore& store, wire::HistoryRequest query, const std::function<void(std::size_t)>& progress,
    std::chrono::milliseconds timeout) {
  auto settings = settings_of(store);
  if (!settings) return fail(settings.error());
  return run_on_new_context(run_connected(
      std::move(*settings), timeout, HistoryTalk{&store, std::move(query), progress, timeout}));
}

core::Result<wire::AuditVerifyReply> verify_on_server(LocalStore& store,
                                                      std::chrono::milliseconds timeout) {
  auto settings = settings_of(store);
  if (!settings) return fail(settings.error());
  return run_on_new_context(
      run_connected(std::move(*settings), timeout, VerifyTalk{&store, timeout}));
}

}  // namespace ergon::client
