#include "shared/changelog/change.h"

#include "shared/crypto/crypto.h"

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

std::size_t values_size(const Change& c) {
  std::size_t bytes = 0;
  for (const auto& [name, value] : c.values) bytes += name.size() + value.size();
  return bytes;
}

Change without_values(const Change& c) {
  std::string all;
  for (const auto& [name, value] : c.values) {
    for (std::string_view part : {std::string_view(name), std::string_view(value)}) {
      all += std::to_string(part.size());
      all += ':';
      all += part;
    }
  }
  Change compact = c;
  compact.values = {{"sha256", crypto::to_hex(crypto::sha256(all))},
                    {"bytes", std::to_string(values_size(c))}};
  return compact;
}

}  // namespace ergon::changelog
