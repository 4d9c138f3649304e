#include "client/sync/page_apply.h"

#include <limits>

#include "client/store/sync_state.h"
#include "shared/crypto/crypto.h"
#include "shared/wire/convert.h"

namespace ergon::client {

using core::ErrorCode;
using core::fail;

namespace {

// A client this many log rows behind, and more than kCatchUpFactor times the proposals it
// holds, catches up by snapshot instead of entry by entry.
constexpr std::uint64_t kCatchUpMinimum = 5'000;
constexpr std::uint64_t kCatchUpFactor = 4;

// Applies a page's snapshot part; the bootstrap goes on while parts or own entries remain.
core::Status take_snapshot_part(LocalStore& store, const wire::PullReply& page, Bootstrap& boot) {
  SyncState sync(store);
  auto snapshot = wire::from_proto(page.snapshot());
  if (!snapshot) return fail(snapshot.error());
  if (!boot.has_first_part) {
    if (!snapshot->reference_files.empty())
      ERGON_TRY(sync.replace_reference(snapshot->reference_files));
    ERGON_TRY(sync.apply_snapshot(*snapshot));
    // A bootstrap cut between parts starts again at the next sync, not from a partial copy.
    ERGON_TRY(store.set_setting("bootstrap_pending", "1"));
    boot.has_first_part = true;
  } else {
    ERGON_TRY(sync.apply_snapshot_part(*snapshot));
  }
  boot.snapshot_after = page.snapshot_more() ? page.snapshot_next() : std::string();
  boot.is_snapshot_done = !page.snapshot_more();
  return {};
}

// A page's log entries: the device's own outcomes first, then the log after the cursor.
core::Result<std::vector<changelog::LogEntry>> entries_of(const wire::PullReply& page) {
  std::vector<changelog::LogEntry> entries;
  for (const auto* list : {&page.own(), &page.entries()})
    for (const auto& e : *list) {
      auto entry = wire::from_proto(e);
      if (!entry) return fail(entry.error());
      entries.push_back(std::move(*entry));
    }
  return entries;
}

}  // namespace

// Own entries still worth fetching: those of changes whose outcome this client does not know.
core::Result<std::uint64_t> first_unknown_outcome(LocalStore& store) {
  auto pending = store.outbox(true);
  if (!pending) return fail(pending.error());
  if (!pending->empty()) return pending->front().change.device_seq - 1;
  return static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());  // none needed
}

core::Result<bool> adopt_welcome(LocalStore& store, const wire::Welcome& w,
                                 const SyncOptions& options, SyncReport& report) {
  SyncState sync(store);
  auto known_server = store.setting("server_id");
  if (!known_server.empty() && known_server != w.server_id())
    return fail(ErrorCode::kCorrupt,
                "this client's data belongs to server " + known_server + " but " + w.server_id() +
                    " answered: the two are never mixed; point this client at its own server, or "
                    "make a new home (--home) for the other one");
  auto cursor = sync.cursor();
  if (!cursor) return fail(cursor.error());
  bool bootstrap = *cursor == 0 || store.setting("bootstrap_pending") == "1";
  auto known_epoch = store.setting("epoch");
  // A new epoch is a restore from a backup; a log shorter than what this client applied is one
  // too (its files were put back by hand): either way, keep every local change, re-push what
  // the server lost.
  bool rewound = !known_epoch.empty() && known_epoch == std::to_string(w.epoch()) &&
                 w.log_head() > 0 && w.log_head() < *cursor;
  if ((!known_epoch.empty() && known_epoch != std::to_string(w.epoch())) || rewound) {
    auto requeued = sync.requeue_after(w.high_water_mark(), {w.epoch(), w.log_head()});
    if (!requeued) return fail(requeued.error());
    report.requeued = *requeued;
    bootstrap = true;
    if (options.progress)
      options.progress("the server was restored (epoch " + known_epoch + " → " +
                       std::to_string(w.epoch()) +
                       (rewound ? ", its log shorter than before" : "") + "); re-sending " +
                       std::to_string(*requeued) + " changes");
  }
  if (!bootstrap) {
    // Far behind, catch up by snapshot (which carries the parked conflicts and flag
    // acknowledgements; own outcomes follow it).
    auto far = is_far_behind(store, w.log_head(), *cursor);
    if (!far) return fail(far.error());
    bootstrap = *far;
  }
  auto role = merge::parse_role(w.role());
  if (!role) return fail(ErrorCode::kProtocol, "the welcome names " + role.error().message);
  std::vector<merge::YearStage> years;
  for (const auto& y : w.years())
    years.push_back({y.year(), y.stage(), y.amendment_open(), y.drafts(), y.amendments()});
  ERGON_TRY(sync.set_identity(*role, w.directorate(), w.year(), years));
  ERGON_TRY(store.set_setting("municipality", w.municipality()));
  if (known_server.empty()) ERGON_TRY(store.set_setting("server_id", w.server_id()));
  return bootstrap;
}

core::Result<bool> is_far_behind(LocalStore& store, std::uint64_t head, std::uint64_t cursor) {
  if (head <= cursor + kCatchUpMinimum) return false;
  auto held = SyncState(store).held_proposals();
  if (!held) return fail(held.error());
  return head - cursor > kCatchUpFactor * std::max<std::uint64_t>(*held, 1);
}

core::Status apply_page(LocalStore& store, const wire::PullReply& page, Bootstrap& boot,
                        SyncReport& report) {
  if (boot.is_active && page.has_snapshot()) {
    ERGON_TRY(take_snapshot_part(store, page, boot));
    report.bootstrapped = true;
  }
  auto entries = entries_of(page);
  if (!entries) return fail(entries.error());
  if (!page.own().empty()) boot.own_after = page.own(page.own_size() - 1).change().device_seq();
  auto applied = SyncState(store).apply_log(*entries);
  if (!applied) return fail(applied.error());
  report.received += applied->entries;
  if (boot.is_active && boot.is_snapshot_done && !page.own_more()) {
    boot.is_active = false;
    ERGON_TRY(store.set_setting("bootstrap_pending", ""));
  }
  return {};
}

core::Result<bool> digest_matches(LocalStore& store, const wire::PullReply& page,
                                  SyncReport& report) {
  SyncState sync(store);
  auto mine = sync.kept_digest();
  if (!mine) return fail(mine.error());
  if (crypto::as_bytes(mine->value()) != page.digest()) {
    // Before fetching a fresh copy, the digest computed from every field: when that one agrees,
    // only the kept one was wrong, and it is replaced.
    mine = sync.server_digest();
    if (!mine) return fail(mine.error());
    if (crypto::as_bytes(mine->value()) != page.digest()) return false;
    ERGON_TRY(sync.keep_digest(*mine));
  }
  report.digest = mine->hex();
  return true;
}

}  // namespace ergon::client
