#pragma once
// Who may change what (DESIGN.md's role table and stage locks), as data the merge decision
// reads. Value types; thread-compatible.

#include <map>
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
  std::string directorate;          // for Role::kDirectorate: the one it works for
  std::map<int, StageLock> stages;  // by programme year; a year missing is at `proposals`
  std::vector<int> open_years;      // the programme years the server takes; empty: not yet known

  StageLock stage_of(int year) const {
    auto it = stages.find(year);
    return it == stages.end() ? StageLock{} : it->second;
  }
};

}  // namespace ergon::merge
