#pragma once
// Who may change what (DESIGN.md's role table and stage locks), as data the merge decision
// reads. Value types; thread-compatible.

#include <string>
#include <string_view>
#include <vector>

#include "shared/core/result.h"

namespace ergon::merge {

enum class Role { kDirectorate, kPlanning, kBudget, kAuditor };
std::string_view to_string(Role role);
core::Result<Role> parse_role(std::string_view text);

/// The programme's stage: `proposals`, `draft`, `draft-2`…, `consultation`, `committee`,
/// `approved`, `amendment-1`…
struct StageLock {
  std::string stage = "proposals";
  bool is_amendment_open = false;
};

/// What the authenticated device carries into every decision.
struct Permission {
  Role role = Role::kAuditor;
  std::string directorate;  // for Role::kDirectorate: the one it works for
  StageLock stage;
  std::vector<int> open_years;  // the programme years the server takes; empty: not yet known
};

}  // namespace ergon::merge
