#include "shared/merge/permission.h"

namespace ergon::merge {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::kDirectorate:
      return "directorate";
    case Role::kPlanning:
      return "planning";
    case Role::kBudget:
      return "budget";
    case Role::kAuditor:
      return "auditor";
  }
  return "auditor";
}

core::Result<Role> parse_role(std::string_view text) {
  for (auto role : {Role::kDirectorate, Role::kPlanning, Role::kBudget, Role::kAuditor})
    if (to_string(role) == text) return role;
  return core::fail(core::ErrorCode::kInvalidArgument,
                    "role: '" + std::string(text) +
                        "' is not a role; use directorate, planning, budget or auditor");
}

}  // namespace ergon::merge
