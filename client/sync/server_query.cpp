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

struct OneRequestTalk {
  using Result = wire::Message;
  LocalStore* store;
  wire::Message request;
  wire::Message::BodyCase expected;
  std::chrono::milliseconds timeout;

  template <class Stream>
  asio::awaitable<core::Result<Result>> run(Stream& stream) {
    std::uint64_t next_id = 0;
    if (auto greeted = co_await greet(stream, *store, next_id, timeout); !greeted)
      co_return fail(greeted.error());
    auto reply = co_await ask(stream, request, next_id, timeout);
    if (!reply) co_return fail(reply.error());
    if (reply->body_case() != expected)
      co_return fail(ErrorCode::kProtocol, "the server answered with another kind of message");
    co_return std::move(*reply);
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
  wire::Message request;
  auto* asked = request.mutable_audit_verify();
  auto held = SyncState(store).held_head();
  if (!held) return fail(held.error());
  if (*held) {
    asked->mutable_held()->set_epoch((*held)->first.epoch);
    asked->mutable_held()->set_seq((*held)->first.seq);
    asked->set_held_hash(std::string(crypto::as_bytes((*held)->second)));
  }
  auto reply = ask_server(store, std::move(request), wire::Message::kAuditVerifyReply, timeout);
  if (!reply) return fail(reply.error());
  return reply->audit_verify_reply();
}

core::Result<wire::Message> ask_server(LocalStore& store, wire::Message request,
                                       wire::Message::BodyCase expected,
                                       std::chrono::milliseconds timeout) {
  auto settings = settings_of(store);
  if (!settings) return fail(settings.error());
  return run_on_new_context(
      run_connected(std::move(*settings), timeout,
                    OneRequestTalk{&store, std::move(request), expected, timeout}));
}

core::Result<RemoteProgramme> fetch_programme(LocalStore& store, int year, const std::string& stage,
                                              std::int64_t as_of_ms) {
  wire::Message request;
  auto* asked = request.mutable_programme();
  asked->set_year(year);
  asked->set_stage(stage);
  asked->set_as_of_ms(as_of_ms);
  auto reply = ask_server(store, std::move(request), wire::Message::kProgrammeReply);
  if (!reply) return fail(reply.error());
  const auto& answer = reply->programme_reply();
  RemoteProgramme out;
  out.year = answer.year();
  for (const auto& state : answer.proposals()) {
    model::FieldValues values;
    for (const auto& field : state.values()) values[field.name()] = field.value();
    model::Proposal p;
    if (auto applied = model::apply_values(p, values); !applied)
      return fail(ErrorCode::kProtocol,
                  "the server sent a proposal that does not read: " + applied.error().message);
    out.proposals.push_back(std::move(p));
  }
  for (const auto& e : answer.envelopes())
    out.envelopes[e.key()] = model::Money::from_cents(e.amount_cents());
  if (answer.has_stage()) out.stage = answer.stage();
  out.standing = answer.standing();
  out.at = {answer.at().epoch(), answer.at().seq()};
  return out;
}

}  // namespace ergon::client
