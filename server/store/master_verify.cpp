// Verification of the hash chain over every log row.

#include "server/store/master_store.h"
#include "server/store/store_connection.h"

namespace ergon::server {

using changelog::envelope_entity;
using changelog::OutcomeKind;
using changelog::Revision;
using core::ErrorCode;
using core::fail;

core::Result<std::uint64_t> MasterStore::verify_chain() {
  crypto::Digest previous{};
  std::uint64_t rows = 0;
  core::Status broken;
  ERGON_TRY(impl_->query(
      "SELECT " + std::string(kOutcomeColumns) +
          ", change_id, canonical, hash FROM log ORDER BY seq",
      [](storage::Statement&) {},
      [&](storage::Statement& s) {
        if (!broken) return;
        auto outcome = outcome_from_row(s, 0);
        auto change = changelog::parse_canonical(s.column_blob(8));
        auto stored = s.column_blob(9);
        if (!change) {
          broken = fail(ErrorCode::kCorrupt, "log row " + std::to_string(outcome.position.seq) +
                                                 ": " + change.error().message);
          return;
        }
        auto expected = changelog::chain_hash(previous, *change, outcome);
        if (stored != crypto::as_bytes(expected)) {
          broken = fail(ErrorCode::kCorrupt, "log row " + std::to_string(outcome.position.seq) +
                                                 ": its hash does not match its contents and the "
                                                 "previous row's hash");
          return;
        }
        previous = expected;
        ++rows;
      }));
  ERGON_TRY(broken);
  return rows;
}

}  // namespace ergon::server
