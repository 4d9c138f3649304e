#pragma once
// Syncing by carrying a file: `ergon bundle export` writes the pending changes and where this
// client stands, signed with its device key and authenticated by its enrolment's bundle key (the
// token's secret never travels); `ergond bundle apply` answers it; `ergon bundle import` applies
// the answer exactly as a sync applies the server's replies (page_apply.h). Importing the same
// answer twice, or an older one after a newer, changes nothing.

#include <filesystem>

#include "client/store/local_store.h"
#include "client/sync/sync_session.h"
#include "shared/core/result.h"

namespace ergon::client {

struct BundleExport {
  std::size_t changes = 0;  // pending changes it carries
  std::uint64_t cursor = 0;
  bool asks_bootstrap = false;
  std::uintmax_t bytes = 0;
};

core::Result<BundleExport> export_bundle(LocalStore& store, const std::filesystem::path& out);

struct BundleImport {
  SyncReport report;
  bool is_unchanged = false;    // the same answer again, or an older one: nothing was applied
  bool needs_resend = false;    // the server was restored: export again to re-send
  bool digest_differs = false;  // the next export asks for a fresh copy
};

core::Result<BundleImport> import_answer(LocalStore& store, const std::filesystem::path& in,
                                         const SyncOptions& options);

}  // namespace ergon::client
