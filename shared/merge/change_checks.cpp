// The shape of a change before any rule of the role table: the fields it carries belong to its
// group, and the horizon it claims lies within the server's log.

#include "shared/merge/decide.h"
#include "shared/model/fields.h"

namespace ergon::merge {

using core::ErrorCode;

std::optional<Decision> check_values_in_group(const changelog::Change& change) {
  // The names each entity kind's change may carry: a proposal's group its own fields (a create
  // every field, checked by apply_values), an envelope its amount, a flag acknowledgement its
  // reason and the level it saw. Anything else would be applied beside the group the role
  // table judged: a directorate's `remarks` change carrying `state` would decide its proposal.
  auto refuse = [&](const std::string& name, const std::string& allowed) {
    return rejected(ErrorCode::kInvalidArgument, "'" + name + "' is not in the change's group '" +
                                                     change.group + "'; it carries " + allowed);
  };
  switch (change.entity.kind) {
    case changelog::EntityKind::kEnvelope:
      if (change.group != kEnvelopeGroup)
        return rejected(ErrorCode::kInvalidArgument,
                        "an envelope change is of the group 'amount', not '" + change.group + "'");
      for (const auto& [name, value] : change.values)
        if (name != "amount") return refuse(name, "'amount' only");
      return std::nullopt;
    case changelog::EntityKind::kFlag:
      if (change.group != kFlagAckGroup)
        return rejected(ErrorCode::kInvalidArgument,
                        "a flag acknowledgement is of the group 'ack', not '" + change.group + "'");
      for (const auto& [name, value] : change.values)
        if (name != "reason" && name != "level") return refuse(name, "'reason' and 'level' only");
      return std::nullopt;
    case changelog::EntityKind::kProposal:
      break;
    default:
      return std::nullopt;  // stages and server events are refused as edits by decide()
  }
  if (change.group == changelog::kCreateGroup) return std::nullopt;
  for (const auto& [name, value] : changelog::field_values(change)) {
    const auto* spec = model::find_field(name);
    if (spec && spec->group == change.group) continue;
    std::string allowed;
    for (auto field : model::fields_of_group(change.group))
      allowed += (allowed.empty() ? "'" : ", '") + std::string(field) + "'";
    return refuse(name, allowed.empty() ? "no fields (it is not a field group)"
                                        : "only its own fields: " + allowed);
  }
  return std::nullopt;
}

std::optional<Decision> check_horizon(const GroupState& state) {
  if (!state.log_head || state.horizon <= *state.log_head) return std::nullopt;
  return rejected(ErrorCode::kInvalidArgument,
                  "the change says its editor had seen this server's log up to " +
                      changelog::conflict_id_text(state.horizon) + ", beyond its last entry " +
                      changelog::conflict_id_text(*state.log_head) +
                      ": the home that made it was synchronised with another server");
}

}  // namespace ergon::merge
