#pragma once
// Outcome: what the server decided about one change. Outcomes are data, not errors: a conflict
// is normal business. Every outcome has its own log position; a retried change gets its
// original outcome back with `is_duplicate` set. Value type.

#include <optional>
#include <string>
#include <string_view>

#include "shared/changelog/change.h"
#include "shared/core/result.h"

namespace ergon::changelog {

enum class OutcomeKind : std::uint8_t { kAccepted = 0, kConflict = 1, kRejected = 2 };
std::string_view to_string(OutcomeKind kind);
core::Result<OutcomeKind> parse_outcome_kind(std::string_view text);

struct Outcome {
  std::string change_id;  // device:seq
  OutcomeKind kind = OutcomeKind::kAccepted;
  Revision position;                 // the log row of this outcome (epoch, seq)
  bool is_new_revision = false;      // accepted and changed a value (equal values do not)
  std::optional<Revision> conflict;  // the conflict it parked or joined: the first parked change
  std::string reason;                // why it was rejected, or what the conflict is about
  bool is_duplicate = false;         // a retry: the original outcome again
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

}  // namespace ergon::changelog
