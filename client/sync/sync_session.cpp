#include "client/sync/sync_session.h"

#include <chrono>
#include <limits>
#include <optional>

#include "client/store/sync_state.h"
#include "client/sync/page_apply.h"
#include "client/sync/session_io.h"
#include "shared/wire/pull_plan.h"

namespace ergon::client {
namespace {

using namespace io;  // the transport: connect, hello, ask

// The pull request for where the client and its bootstrap stand.
core::Result<wire::Message> pull_request(SyncState& sync, const Bootstrap& boot,
                                         const SyncOptions& options) {
  auto cursor = sync.cursor();
  if (!cursor) return fail(cursor.error());
  wire::Message pull;
  auto* request = pull.mutable_pull();
  request->set_cursor(*cursor);
  request->set_max_entries(static_cast<std::uint32_t>(options.page_entries));
  request->set_bootstrap(boot.is_active);
  request->set_snapshot_after(boot.snapshot_after);
  request->set_snapshot_done(boot.is_snapshot_done);
  request->set_own_after(boot.own_after);
  return pull;
}

// The request after `page` when the page alone decides it (not the last page): the same the
// store gives once the page is applied (wire::PullPlan mirrors apply_page).
std::optional<wire::Message> request_after(const wire::PullReply& page, const Bootstrap& boot,
                                           std::uint64_t cursor, const SyncOptions& options) {
  if (page.last_page()) return std::nullopt;
  wire::PullPlan plan{cursor,
                      boot.is_active,
                      boot.has_first_part,
                      boot.snapshot_after,
                      boot.is_snapshot_done,
                      boot.own_after};
  plan.advance(page);
  wire::Message next;
  *next.mutable_pull() = plan.request(static_cast<std::uint32_t>(options.page_entries));
  return next;
}

// Tells how far a long pull has come.
void note_progress(const wire::PullReply& page, std::uint64_t reached, const SyncOptions& options) {
  if (options.progress && page.head_seq() > reached + options.page_entries)
    options.progress("received up to " + std::to_string(reached) + " / " +
                     std::to_string(page.head_seq()));
}

// After a page that was not the last: others pushed while this client pulled, and past the
// catch-up line the changed state costs less than the rest of the entries.
core::Result<bool> falls_behind(LocalStore& store, const wire::PullReply& page,
                                std::uint64_t reached, const SyncOptions& options) {
  auto far = is_far_behind(store, page.head_seq(), reached);
  if (far && *far && options.progress)
    options.progress("far behind (" + std::to_string(page.head_seq() - reached) +
                     " log rows): taking the changed state instead of every entry");
  return far;
}

// Pulls pages until the client is up to date, checking the digest on the last page and
// bootstrapping again (once) on a mismatch. The next request goes out before a page is
// applied, so the server reads the next page while this client writes this one.
template <class Stream>
asio::awaitable<core::Status> pull_until_current(Stream& stream, LocalStore& store,
                                                 const SyncOptions& options, std::uint64_t& next_id,
                                                 bool bootstrap, SyncReport& report) {
  bool rebootstrapped = false, in_flight = false;
  Bootstrap boot;
  SyncState sync(store);
  for (;;) {
    if (bootstrap && !boot.is_active) {
      auto own_after = first_unknown_outcome(store);
      if (!own_after) co_return fail(own_after.error());
      boot = Bootstrap{true, false, {}, false, *own_after};
    }
    if (!in_flight) {
      auto pull = pull_request(sync, boot, options);
      if (!pull) co_return fail(pull.error());
      auto sent = co_await send_request(stream, *pull, next_id, options.timeout);
      if (!sent) co_return fail(sent.error());
    }
    auto replied = co_await read_reply(stream, next_id, false, options.timeout);
    if (!replied) co_return fail(replied.error());
    if (!replied->has_pull_reply()) co_return fail(ErrorCode::kProtocol, "expected a pull reply");
    const auto& page = replied->pull_reply();
    auto cursor = sync.cursor();
    if (!cursor) co_return fail(cursor.error());
    auto next = request_after(page, boot, *cursor, options);
    if ((in_flight = next.has_value())) {
      auto sent = co_await send_request(stream, *next, next_id, options.timeout);
      if (!sent) co_return fail(sent.error());
    }
    if (auto applied = apply_page(store, page, boot, report); !applied)
      co_return fail(applied.error());
    bootstrap = boot.is_active;
    auto reached = sync.cursor();
    if (!reached) co_return fail(reached.error());
    if (next && next->pull().cursor() != *reached)
      co_return fail(ErrorCode::kInternal, "the pull's next request and the page applied differ");
    note_progress(page, *reached, options);
    if (!page.last_page()) {
      auto far =
          bootstrap ? core::Result<bool>(false) : falls_behind(store, page, *reached, options);
      if (!far) co_return fail(far.error());
      bootstrap = bootstrap || *far;
      continue;
    }
    auto same = digest_matches(store, page, report);
    if (!same) co_return fail(same.error());
    if (*same) co_return core::Status{};
    if (rebootstrapped)
      co_return fail(ErrorCode::kCorrupt,
                     "after a fresh copy of the programme this client's digest still differs from "
                     "the server's; keep this home for inspection and report it");
    if (options.progress)
      options.progress(
          "this client's copy differs from the server's (digest); fetching a fresh copy, "
          "keeping local edits");
    rebootstrapped = true;
    bootstrap = true;
  }
}

// Pushes the outbox in batches, counting the outcomes.
template <class Stream>
asio::awaitable<core::Status> push_outbox(Stream& stream, LocalStore& store,
                                          const SyncOptions& options, std::uint64_t& next_id,
                                          SyncReport& report) {
  auto pending = SyncState(store).pending_changes(std::numeric_limits<std::size_t>::max());
  if (!pending) co_return fail(pending.error());
  // A batch stops at batch_changes or kMaxPushBytes, well inside what the server unpacks.
  for (std::size_t i = 0, end = 0; i < pending->size(); i = end) {
    wire::Message push;
    std::size_t bytes = 0;
    for (end = i; end < pending->size() && end - i < options.batch_changes &&
                  (end == i || bytes < kMaxPushBytes);
         ++end) {
      auto* change = push.mutable_push()->add_changes();
      wire::to_proto((*pending)[end], change);
      bytes += change->ByteSizeLong();
    }
    auto replied = co_await ask(stream, push, next_id, options.timeout);
    if (!replied) co_return fail(replied.error());
    if (!replied->has_push_reply()) co_return fail(ErrorCode::kProtocol, "expected a push reply");
    for (const auto& o : replied->push_reply().outcomes()) {
      ++report.sent;
      if (o.duplicate()) ++report.duplicates;
      if (o.kind() == wire::OUTCOME_ACCEPTED) ++report.accepted;
      if (o.kind() == wire::OUTCOME_CONFLICT) ++report.conflicts;
      if (o.kind() == wire::OUTCOME_REJECTED) ++report.rejected;
    }
    if (pending->size() > options.batch_changes && options.progress)
      options.progress("sent " + std::to_string(end) + " / " + std::to_string(pending->size()) +
                       " changes");
  }
  co_return core::Status{};
}

using Clock = std::chrono::steady_clock;

// Seconds from `start` to now, and `start` moved to now.
double lap(Clock::time_point& start) {
  auto now = Clock::now();
  double seconds = std::chrono::duration<double>(now - start).count();
  start = now;
  return seconds;
}

template <class Stream>
asio::awaitable<core::Result<SyncReport>> converse(Stream& stream, LocalStore& store,
                                                   const SyncOptions& options,
                                                   Clock::time_point started) {
  SyncReport report;
  std::uint64_t next_id = 0;
  auto hello = make_hello(stream, store);
  if (!hello) co_return fail(hello.error());
  auto welcomed = co_await ask(stream, *hello, next_id, options.timeout);
  if (!welcomed) co_return fail(welcomed.error());
  if (!welcomed->has_welcome()) co_return fail(ErrorCode::kProtocol, "expected a welcome");
  const auto& w = welcomed->welcome();
  auto bootstrap = adopt_welcome(store, w, options, report);
  if (!bootstrap) co_return fail(bootstrap.error());
  report.welcome_s = lap(started);
  if (auto pushed = co_await push_outbox(stream, store, options, next_id, report); !pushed)
    co_return fail(pushed.error());
  report.push_s = lap(started);
  auto pulled = co_await pull_until_current(stream, store, options, next_id, *bootstrap, report);
  if (!pulled) co_return fail(pulled.error());
  report.pull_s = lap(started);
  if (auto ok = store.set_setting("epoch", std::to_string(w.epoch())); !ok)
    co_return fail(ok.error());
  auto reached = SyncState(store).cursor();
  if (!reached) co_return fail(reached.error());
  report.cursor = *reached;
  co_return report;
}

// A sync as a conversation run_connected drives.
struct SyncTalk {
  using Result = SyncReport;
  LocalStore* store;
  SyncOptions options;
  Clock::time_point started = Clock::now();
  template <class Stream>
  asio::awaitable<core::Result<SyncReport>> run(Stream& stream) {
    return converse(stream, *store, options, started);
  }
};

}  // namespace

core::Result<SyncReport> sync_once(LocalStore& store, const SyncOptions& options) {
  auto settings = settings_of(store);
  if (!settings) return fail(settings.error());
  auto result = run_on_new_context(
      run_connected(std::move(*settings), options.timeout, SyncTalk{&store, options}));
  if (result) {
    (void)store.set_setting("last_sync_ms", std::to_string(core::system_clock().now_ms()));
    (void)store.set_setting("last_sync_error", "");
  } else {
    (void)store.set_setting("last_sync_error", result.error().message);
  }
  return result;
}

core::Result<std::string> probe_fingerprint(const std::string& host_port,
                                            std::chrono::milliseconds timeout) {
  auto probe =
      [](std::string server,
         std::chrono::milliseconds deadline) -> asio::awaitable<core::Result<std::string>> {
    auto socket = co_await connect(server, deadline);
    if (!socket) co_return fail(socket.error());
    auto context = net::client_context();
    TlsStream stream(std::move(*socket), context);
    co_return co_await handshake(stream, server, deadline);
  };
  return run_on_new_context(probe(host_port, timeout));
}

}  // namespace ergon::client
