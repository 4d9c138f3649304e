#pragma once
// What a client does with the server's answers, whether they come over a connection (sync) or
// in an answer bundle carried on a stick (bundle import): adopt the welcome, apply each pull
// page in its own transaction, compare the digest. One implementation for both, so a directorate
// that syncs by bundle ends exactly where one that syncs over the network does.

#include <cstdint>
#include <string>

#include "client/store/local_store.h"
#include "client/sync/sync_session.h"
#include "shared/core/result.h"

#include "shared/proto/ergon.pb.h"

namespace ergon::client {

/// Where a paged bootstrap stands: the snapshot's parts, then the device's own entries.
struct Bootstrap {
  bool is_active = false;
  bool has_first_part = false;
  std::string snapshot_after;
  bool is_snapshot_done = false;
  std::uint64_t own_after = 0;
};

/// Own entries still worth fetching: those of changes whose outcome this client does not know.
core::Result<std::uint64_t> first_unknown_outcome(LocalStore& store);

/// Takes in what the welcome says: the server's identity (never mixed with another's), a
/// restore (a new epoch, or a log shorter than what this client applied: changes the server lost
/// go back to pending), and this device's role, directorate and year. Returns whether the pull
/// must bootstrap (new, restored, interrupted, or far behind).
core::Result<bool> adopt_welcome(LocalStore& store, const wire::Welcome& w,
                                 const SyncOptions& options, SyncReport& report);

/// Whether a client at `cursor` with the log at `head` is so far behind that the changed state
/// (a snapshot) costs less than every entry since: more than 5,000 rows and more than four
/// times the proposals it holds. Asked at the welcome and again after each page, because
/// laptops that sync together fall behind while they pull.
core::Result<bool> is_far_behind(LocalStore& store, std::uint64_t head, std::uint64_t cursor);

/// Applies one pull page: a bootstrap's snapshot part, the own entries and the log entries,
/// moving `boot` on; ends the bootstrap when its last part and own entry are in.
core::Status apply_page(LocalStore& store, const wire::PullReply& page, Bootstrap& boot,
                        SyncReport& report);

/// On the last page: whether this client's state digest is the server's (into report.digest).
core::Result<bool> digest_matches(LocalStore& store, const wire::PullReply& page,
                                  SyncReport& report);

}  // namespace ergon::client
