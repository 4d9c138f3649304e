#pragma once
// LogEntry: one row of the server's append-only change log — a change with its outcome at its
// log position — and the bytes the SHA-256 chain hashes. Value type; pure functions.

#include <string>

#include "shared/changelog/change.h"
#include "shared/changelog/outcome.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"

namespace ergon::changelog {

struct LogEntry {
  Change change;
  Outcome outcome;        // outcome.position is the entry's log position
  crypto::Digest hash{};  // SHA-256(previous hash || entry_bytes)
};

/// canonical_bytes(change) followed by the outcome: position, kind, new-revision flag, conflict
/// id (0,0 when none) and reason, in the canonical layout. Never changes for version 1.
std::string entry_bytes(const Change& change, const Outcome& outcome);

/// The chain step: SHA-256 over the previous hash and the entry's bytes.
crypto::Digest chain_hash(const crypto::Digest& previous, const Change& change,
                          const Outcome& outcome);

/// A chain head as people copy it: "EPOCH.SEQ:HEX" (the row and its SHA-256, 64 hex digits).
std::string head_text(const Revision& at, const crypto::Digest& hash);
/// Parses head_text's form; kUsage says what the form is.
core::Result<std::pair<Revision, crypto::Digest>> parse_head(std::string_view text);

/// The digest of a programme state: the XOR of SHA-256(entity 0 field 0 value) over every field
/// of every entity, so it can be updated one field at a time and compared across replicas.
class StateDigest {
 public:
  StateDigest() = default;
  explicit StateDigest(const crypto::Digest& value) : value_(value) {}
  void toggle(std::string_view entity, std::string_view field, std::string_view value);
  /// Moves the digest from `before` to `after` for one entity's fields: only the fields whose
  /// text differs are toggled out and in.
  void replace(std::string_view entity, const model::FieldValues& before,
               const model::FieldValues& after);
  const crypto::Digest& value() const { return value_; }
  std::string hex() const { return crypto::to_hex(value_); }
  friend bool operator==(const StateDigest&, const StateDigest&) = default;

 private:
  crypto::Digest value_{};
};

}  // namespace ergon::changelog
