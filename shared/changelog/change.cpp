#include "shared/changelog/change.h"

namespace ergon::changelog {

std::string_view to_string(EntityKind kind) {
  switch (kind) {
    case EntityKind::kProposal:
      return "proposal";
    case EntityKind::kEnvelope:
      return "envelope";
    case EntityKind::kStage:
      return "stage";
  }
  return "proposal";
}

std::string change_id(const Change& c) {
  return c.device_id.hex() + ":" + std::to_string(c.device_seq);
}

}  // namespace ergon::changelog

#include "shared/changelog/outcome.h"

namespace ergon::changelog {

std::string_view to_string(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::kAccepted:
      return "accepted";
    case OutcomeKind::kConflict:
      return "conflict";
    case OutcomeKind::kRejected:
      return "rejected";
  }
  return "rejected";
}

core::Result<OutcomeKind> parse_outcome_kind(std::string_view text) {
  for (auto kind : {OutcomeKind::kAccepted, OutcomeKind::kConflict, OutcomeKind::kRejected})
    if (to_string(kind) == text) return kind;
  return core::fail(core::ErrorCode::kCorrupt, "unknown outcome '" + std::string(text) + "'");
}

}  // namespace ergon::changelog
