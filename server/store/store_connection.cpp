#include "server/store/store_connection.h"

namespace ergon::server {

using changelog::OutcomeKind;
using changelog::Revision;
using core::ErrorCode;
using core::fail;

core::Result<crypto::Digest> parse_digest(const std::string& hex) {
  auto first = core::parse_hex16(hex.substr(0, 32));
  auto second = core::parse_hex16(hex.size() == 64 ? hex.substr(32) : "");
  if (!first || !second) return fail(ErrorCode::kCorrupt, "the stored state digest is damaged");
  crypto::Digest value{};
  std::copy(first->begin(), first->end(), value.begin());
  std::copy(second->begin(), second->end(), value.begin() + 16);
  return value;
}

changelog::Outcome outcome_from_row(storage::Statement& s, int first) {
  changelog::Outcome o;
  o.position = {u64(s.column_int64(first)), u64(s.column_int64(first + 1))};
  o.kind = changelog::parse_outcome_kind(s.column_text(first + 2)).value_or(OutcomeKind::kRejected);
  o.reason = s.column_text(first + 3);
  o.is_new_revision = s.column_int64(first + 4) != 0;
  Revision conflict{u64(s.column_int64(first + 5)), u64(s.column_int64(first + 6))};
  if (conflict.seq != 0) o.conflict = conflict;
  return o;
}

core::Result<changelog::RevisionRow> revision_row(storage::Statement& s) {
  auto device = core::DeviceId::parse(s.column_text(4));
  if (!device) return fail(ErrorCode::kCorrupt, "a stored revision names a damaged device id");
  return changelog::RevisionRow{
      s.column_text(0),
      s.column_text(1),
      {{u64(s.column_int64(2)), u64(s.column_int64(3))}, *device, u64(s.column_int64(5))}};
}

}  // namespace ergon::server
