// Verification of the hash chain over every log row.

#include "server/store/master_store.h"
#include "server/store/store_connection.h"

namespace ergon::server {

using core::ErrorCode;
using core::fail;

core::Result<std::uint64_t> MasterStore::verify_chain() {
  crypto::Digest previous{};
  std::uint64_t rows = 0;
  ERGON_TRY(impl_->query(
      "SELECT epoch, seq, outcome, reason, new_revision, conflict_epoch, conflict_seq, change_id, "
      "canonical, hash FROM log ORDER BY seq",
      [](storage::Statement&) {},
      [&](storage::Statement& s) -> core::Status {
        auto entry = log_entry_row(s);
        if (!entry) return fail(entry.error());
        auto expected = changelog::chain_hash(previous, entry->change, entry->outcome);
        if (entry->hash != expected)
          return fail(ErrorCode::kCorrupt,
                      "log row " + std::to_string(entry->outcome.position.seq) +
                          ": its hash does not match its contents and the previous row's hash");
        previous = expected;
        ++rows;
        return {};
      }));
  return rows;
}

}  // namespace ergon::server
