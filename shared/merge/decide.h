#pragma once
// The merge decision of DESIGN.md's change model, as a pure function: (change, the state of its
// group on the master, the permission the device carries) → outcome. The server calls it once
// per change, in arrival order, inside the batch's transaction; tests call it directly.
// No I/O; thread-safe.

#include <cstdint>
#include <optional>
#include <string>

#include "shared/changelog/change.h"
#include "shared/changelog/outcome.h"
#include "shared/changelog/snapshot.h"
#include "shared/core/error.h"
#include "shared/core/ids.h"
#include "shared/merge/permission.h"
#include "shared/model/proposal.h"
#include "shared/model/reference.h"

namespace ergon::merge {

using changelog::GroupRevision;

/// A parked conflict as the master has it, read for a resolution.
struct ConflictRecord {
  changelog::Revision id;
  std::string entity;  // the proposal
  std::string group;
  bool is_open = true;
};

/// The master's side of one decision, read by the store inside the batch's transaction.
struct GroupState {
  std::optional<model::Proposal> current;       // the master row; nullopt: no such proposal
  std::optional<model::Money> envelope;         // for envelope changes: the current amount
  changelog::Revision horizon;                  // what the editor had seen (from the base)
  std::optional<changelog::Revision> log_head;  // the server's last log row before this change
  std::optional<changelog::Revision> parked;    // an open conflict of this device on this group
  // Whether another device's accepted change lies after the editor's horizon (DESIGN.md, rule
  // 2): to the change's group (a create counts for every group), to the state group, to any
  // group of the entity. "The newest revision is my own" is not enough: an equal write of
  // another device after the horizon counts too.
  bool is_group_changed_by_other = false;
  bool is_state_changed_by_other = false;
  bool is_entity_changed_by_other = false;
  std::optional<ConflictRecord> resolving;  // for a resolution: the conflict it names
  std::optional<std::int64_t> flag_level;   // for a flag acknowledgement: raised now, how far
};

struct Decision {
  changelog::OutcomeKind kind = changelog::OutcomeKind::kRejected;
  core::ErrorCode code = core::ErrorCode::kInvalidArgument;  // for rejections
  std::string reason;                         // rejection reason, or what the conflict is about
  bool is_new_revision = false;               // accepted and changed something
  std::optional<changelog::Revision> joins;   // conflict: the parked conflict it joins
  std::optional<model::Proposal> merged;      // accepted proposal change: the row afterwards
  std::optional<model::Money> envelope;       // accepted envelope change: the new amount
  std::optional<changelog::Revision> closes;  // accepted resolution: the conflict it settles
};

/// The envelope check a session makes before deciding: is this change the device's next one?
enum class Envelope { kNext, kDuplicate, kForeign, kGap };
Envelope check_envelope(const changelog::Change& change, const core::DeviceId& authenticated,
                        std::uint64_t high_water_mark);

/// The one group an envelope change has, and the one of a flag acknowledgement.
inline constexpr std::string_view kEnvelopeGroup = "amount";
inline constexpr std::string_view kFlagAckGroup = "ack";

/// A rejection: its code and the reason the editor reads.
Decision rejected(core::ErrorCode code, std::string reason);

/// The first rule of every decision, on the server and offline: a change carries values of its
/// own group only (a proposal's group its fields, an envelope its amount, a flag acknowledgement
/// its reason and level). nullopt: it does; otherwise the rejection naming the foreign value.
std::optional<Decision> check_values_in_group(const changelog::Change& change);

/// The second, on the server: the change's horizon lies within the log (`state.log_head`, when
/// known). A home of another server, or a forged change claiming to have seen writes it has
/// not, would otherwise overwrite them without a conflict.
std::optional<Decision> check_horizon(const GroupState& state);

/// The outcome of `change` (see docs/merge.md for the table).
Decision decide(const changelog::Change& change, const GroupState& state,
                const Permission& permission, const model::ReferenceData& reference);

/// The part of decide() that needs only the proposal as the editor sees it and the editor's
/// permission: the role table, the stage lock (as far as the permission knows the stage: the
/// client learns it at every sync), the life state and the state transitions (not
/// concurrency). The client runs it before queuing a change, so offline it refuses exactly what
/// the server would, in its words. nullopt: allowed.
std::optional<Decision> check_edit(const changelog::Change& change, const model::Proposal& current,
                                   const Permission& permission);

/// What decide() refuses of an envelope change without looking at the master: the role, the
/// stage, the key (YEAR:SOURCE) and the amount. The client asks it offline too.
std::optional<Decision> check_envelope_change(const changelog::Change& change,
                                              const Permission& permission,
                                              const model::ReferenceData& reference);

/// A new proposal's year must be one the server has open (DESIGN.md: the years are the
/// server's). nullopt: allowed, or the open years are not known yet.
std::optional<Decision> check_open_year(int year, const std::vector<int>& open_years);

/// Who may settle a conflict on `group` of `current` (DESIGN.md): planning, the owning
/// directorate, budget on money; nullopt: allowed. The client asks it offline too.
std::optional<Decision> check_resolver(std::string_view group, const model::Proposal& current,
                                       const Permission& permission);

/// The field group a name belongs to as the permission table sees it.
enum class GroupKind { kCreate, kDescriptive, kMoney, kClassification, kState, kOwner, kFixed };
GroupKind kind_of_group(std::string_view group);

}  // namespace ergon::merge
