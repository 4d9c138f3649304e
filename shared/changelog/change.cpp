#include "shared/changelog/change.h"

namespace ergon::changelog {

std::string_view to_string(EntityKind kind) {
  switch (kind) {
    case EntityKind::kProposal: return "proposal";
    case EntityKind::kEnvelope: return "envelope";
    case EntityKind::kStage: return "stage";
  }
  return "proposal";
}

std::string change_id(const Change& c) {
  return c.device_id.hex() + ":" + std::to_string(c.device_seq);
}

}  // namespace ergon::changelog
