#include "shared/merge/decide.h"

#include <algorithm>
#include <charconv>

#include "shared/merge/flags.h"
#include "shared/model/fields.h"
#include "shared/model/validate.h"

namespace ergon::merge {

Decision rejected(core::ErrorCode code, std::string reason) {
  Decision d;
  d.kind = changelog::OutcomeKind::kRejected;
  d.code = code;
  d.reason = std::move(reason);
  return d;
}

namespace {

using changelog::OutcomeKind;
using core::ErrorCode;
using model::State;

Decision conflict(std::string reason, std::optional<changelog::Revision> joins = std::nullopt) {
  Decision d;
  d.kind = OutcomeKind::kConflict;
  d.reason = std::move(reason);
  d.joins = joins;
  return d;
}

bool is_central(Role role) { return role == Role::kPlanning || role == Role::kBudget; }

// Stage locks come on top of the role table.
std::optional<Decision> check_stage(const Permission& p, int year) {
  const auto lock = p.stage_of(year);
  const auto& stage = lock.stage;
  if (stage == "proposals" || stage.starts_with("draft")) return std::nullopt;
  if (stage == "consultation" || stage == "committee") {
    if (is_central(p.role)) return std::nullopt;
    return rejected(ErrorCode::kStageLocked,
                    "the programme is at stage '" + stage +
                        "': only planning and budget change it until the council approves");
  }
  if (!is_central(p.role))
    return rejected(
        ErrorCode::kStageLocked,
        "the programme is at stage '" + stage +
            "': after approval only planning and budget change it, inside an amendment");
  if (!lock.is_amendment_open)
    return rejected(ErrorCode::kStageLocked,
                    "the programme is at stage '" + stage +
                        "': changes need an open amendment; planning opens one");
  return std::nullopt;
}

int year_of_key(std::string_view text) {
  int year = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), year);
  return ec == std::errc{} && end == text.data() + text.size() ? year : 0;
}

// The year a create names (0 when it names none: the create is refused further on).
int created_year(const changelog::Change& change) {
  auto it = change.values.find("year");
  return it == change.values.end() ? 0 : year_of_key(it->second);
}

std::string state_target(const changelog::Change& change) {
  auto it = change.values.find("state");
  return it == change.values.end() ? std::string{} : it->second;
}

// The role table for proposals, given the row as it stands (DESIGN.md "Who may change what").
std::optional<Decision> check_role(const changelog::Change& change, GroupKind kind,
                                   const model::Proposal* current, const Permission& p) {
  if (p.role == Role::kAuditor)
    return rejected(ErrorCode::kPermissionDenied, "auditors read everything and change nothing");
  if (kind == GroupKind::kFixed)
    return rejected(ErrorCode::kPermissionDenied,
                    "'" + change.group + "' is fixed when a proposal is created");
  if (kind == GroupKind::kCreate) {
    if (p.role == Role::kBudget)
      return rejected(ErrorCode::kPermissionDenied, "budget does not create proposals");
    auto directorate = change.values.find("directorate");
    if (p.role == Role::kDirectorate &&
        (directorate == change.values.end() || directorate->second != p.directorate))
      return rejected(ErrorCode::kPermissionDenied,
                      "a directorate creates proposals only for itself (" + p.directorate + ")");
    return std::nullopt;
  }
  if (!current) return std::nullopt;  // "no such proposal" is reported by the caller
  bool is_own = p.role == Role::kDirectorate && current->directorate == p.directorate;
  if (p.role == Role::kDirectorate && !is_own)
    return rejected(ErrorCode::kPermissionDenied,
                    "proposal " + current->id.hex().substr(0, 8) + " belongs to " +
                        current->directorate + "; a directorate changes only its own proposals");
  switch (kind) {
    case GroupKind::kOwner:
      if (p.role != Role::kPlanning)
        return rejected(ErrorCode::kPermissionDenied,
                        "only planning moves a proposal to another directorate");
      return std::nullopt;
    case GroupKind::kDescriptive:
      if (p.role == Role::kBudget)
        return rejected(ErrorCode::kPermissionDenied,
                        "budget changes money, funding and ΚΑ codes, not '" + change.group + "'");
      return std::nullopt;
    case GroupKind::kMoney:
    case GroupKind::kClassification:
      return std::nullopt;
    case GroupKind::kState: {
      auto target = state_target(change);
      if (p.role == Role::kBudget)
        return rejected(ErrorCode::kPermissionDenied,
                        "budget does not submit, withdraw or decide proposals");
      if (p.role == Role::kDirectorate && target != "submitted" && target != "withdrawn")
        return rejected(ErrorCode::kPermissionDenied,
                        "only planning decides (included, deferred, rejected); a directorate "
                        "submits or withdraws");
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

// The directorate's limits that depend on the proposal's life state.
std::optional<Decision> check_life(GroupKind kind, const model::Proposal& current,
                                   const Permission& p) {
  if (p.role != Role::kDirectorate) return std::nullopt;
  auto id = current.id.hex().substr(0, 8);
  auto now = std::string(model::to_string(current.state));
  bool undecided = current.state == State::kDraft || current.state == State::kSubmitted;
  if ((kind == GroupKind::kDescriptive || kind == GroupKind::kMoney || kind == GroupKind::kState) &&
      !undecided)
    return rejected(ErrorCode::kPermissionDenied,
                    "proposal " + id + " is " + now +
                        "; a directorate changes it only while draft or submitted and undecided");
  if (kind == GroupKind::kClassification && current.state != State::kDraft)
    return rejected(ErrorCode::kPermissionDenied,
                    "proposal " + id + " is " + now +
                        "; a directorate changes category and ΚΑ code only while it is a draft");
  return std::nullopt;
}

std::optional<Decision> check_transition(const model::Proposal& current,
                                         const changelog::Change& change) {
  auto target = model::parse_enum<State>(state_target(change));
  if (!target) return rejected(ErrorCode::kInvalidArgument, target.error().message);
  auto id = current.id.hex().substr(0, 8);
  auto now = std::string(model::to_string(current.state));
  if (current.state == State::kWithdrawn && *target != State::kWithdrawn)
    return rejected(ErrorCode::kInvalidArgument, "proposal " + id + " is withdrawn; it stays so");
  if (*target == State::kSubmitted && current.state != State::kDraft &&
      current.state != State::kSubmitted)
    return rejected(ErrorCode::kInvalidArgument,
                    "proposal " + id + " is " + now + "; only a draft can be submitted");
  if (*target == State::kWithdrawn && model::is_decided(current.state))
    return rejected(ErrorCode::kInvalidArgument,
                    "proposal " + id + " is " + now + "; a decided proposal cannot be withdrawn");
  auto reason = change.values.find("decision_reason");
  if ((*target == State::kRejected || *target == State::kDeferred) &&
      (reason == change.values.end() || reason->second.empty()))
    return rejected(ErrorCode::kInvalidArgument, "decision_reason: a proposal is " +
                                                     std::string(model::to_string(*target)) +
                                                     " with a reason; give one");
  return std::nullopt;
}

Decision decide_envelope(const changelog::Change& change, const GroupState& state,
                         const Permission& p, const model::ReferenceData& reference) {
  if (auto refused = check_envelope_change(change, p, reference)) return *refused;
  auto amount = model::Money::parse(change.values.at("amount"));
  // An equal amount is accepted as a revision too: the write is on record (DESIGN.md rule 2).
  bool is_equal = state.envelope && *state.envelope == *amount;
  if (!is_equal && state.is_group_changed_by_other)
    return conflict("the envelope " + change.entity.key + " was changed since you last saw it");
  Decision d;
  d.kind = OutcomeKind::kAccepted;
  d.is_new_revision = true;
  d.envelope = *amount;
  return d;
}

}  // namespace

GroupKind kind_of_group(std::string_view group) {
  if (group == changelog::kCreateGroup) return GroupKind::kCreate;
  if (group == model::kMoneyGroup) return GroupKind::kMoney;
  if (group == model::kClassificationGroup) return GroupKind::kClassification;
  if (group == model::kStateGroup) return GroupKind::kState;
  if (group == "directorate") return GroupKind::kOwner;
  if (group == "id" || group == "year") return GroupKind::kFixed;
  return GroupKind::kDescriptive;
}

Envelope check_envelope(const changelog::Change& change, const core::DeviceId& authenticated,
                        std::uint64_t high_water_mark) {
  if (change.device_id != authenticated) return Envelope::kForeign;
  if (change.device_seq != 0 && change.device_seq <= high_water_mark) return Envelope::kDuplicate;
  if (change.device_seq != high_water_mark + 1) return Envelope::kGap;
  return Envelope::kNext;
}

std::optional<Decision> check_edit(const changelog::Change& change, const model::Proposal& current,
                                   const Permission& p) {
  if (auto foreign = check_values_in_group(change)) return foreign;
  auto kind = kind_of_group(change.group);
  if (auto denied = check_role(change, kind, &current, p)) return denied;
  // A stage the editor's permission does not know is `proposals`: no lock.
  if (auto locked = check_stage(p, current.year)) return locked;
  if (auto denied = check_life(kind, current, p)) return denied;
  if (kind == GroupKind::kState) return check_transition(current, change);
  return std::nullopt;
}

namespace {

// Every accepted write is a revision, equal values included (DESIGN.md rule 2).
Decision accepted(model::Proposal merged) {
  Decision d;
  d.kind = OutcomeKind::kAccepted;
  d.is_new_revision = true;
  d.merged = std::move(merged);
  return d;
}

Decision decide_create(const changelog::Change& change, const model::Proposal* current,
                       const Permission& p, const model::ReferenceData& reference) {
  if (current)
    return rejected(ErrorCode::kAlreadyExists,
                    "a proposal with id " + change.entity.key + " exists already");
  auto missing = model::check_required(change.values);
  if (!missing.empty()) return rejected(ErrorCode::kInvalidArgument, missing.front().message);
  model::Proposal created;
  if (auto ok = model::apply_values(created, change.values); !ok)
    return rejected(ErrorCode::kInvalidArgument, ok.error().message);
  if (created.id.hex() != change.entity.key)
    return rejected(ErrorCode::kInvalidArgument, "the id in the values is not the entity's id");
  if (created.state != State::kDraft && created.state != State::kSubmitted)
    return rejected(ErrorCode::kInvalidArgument, "a new proposal starts as draft or submitted");
  if (auto ok = model::validate_proposal(created, reference); !ok)
    return rejected(ErrorCode::kInvalidArgument, ok.error().message);
  if (auto closed = check_open_year(created.year, p.open_years)) return *closed;
  return accepted(std::move(created));
}

}  // namespace

namespace {

// A resolution: the conflict must be open and about this group; its values (none: keep the
// master's) must make a valid row. It is authoritative: whoever settles has seen both sides.
Decision decide_resolution(const changelog::Change& change, const GroupState& state,
                           const Permission& p, const model::ReferenceData& reference) {
  auto id = changelog::resolves(change);
  const auto& conflict = state.resolving;
  if (!id || !conflict || !state.current)
    return rejected(
        ErrorCode::kNotFound,
        "there is no conflict " + change.values.at(std::string(changelog::kResolvesKey)));
  if (conflict->entity != change.entity.key || conflict->group != change.group)
    return rejected(ErrorCode::kInvalidArgument, "conflict " + changelog::conflict_id_text(*id) +
                                                     " is about '" + conflict->group + "' of " +
                                                     conflict->entity.substr(0, 8) + ", not this");
  if (auto denied = check_resolver(change.group, *state.current, p)) return *denied;
  if (auto locked = check_stage(p, state.current->year)) return *locked;
  if (!conflict->is_open)
    return rejected(ErrorCode::kAlreadyExists,
                    "conflict " + changelog::conflict_id_text(*id) + " is already settled");
  auto values = changelog::field_values(change);
  model::Proposal merged = *state.current;
  if (auto ok = model::apply_values(merged, values); !ok)
    return rejected(ErrorCode::kInvalidArgument, ok.error().message);
  for (const auto& [name, value] : values)
    if (const auto* spec = model::find_field(name); !spec || spec->group != change.group)
      return rejected(ErrorCode::kInvalidArgument,
                      "'" + name + "' is not in the conflict's group '" + change.group + "'");
  merged.id = state.current->id;
  merged.year = state.current->year;
  if (auto ok = model::validate_proposal(merged, reference); !ok)
    return rejected(ErrorCode::kInvalidArgument, ok.error().message);
  auto d = accepted(std::move(merged));
  d.is_new_revision = !values.empty();  // taking the master writes nothing
  d.closes = *id;
  return d;
}

}  // namespace

namespace {

// An acknowledgement: by planning (budget for money flags), with a reason, of a flag raised now.
Decision decide_flag_ack(const changelog::Change& change, const GroupState& state,
                         const Permission& p) {
  auto reason = change.values.find("reason");
  auto why = reason == change.values.end() ? std::string() : reason->second;
  if (auto refused = check_flag_ack(change.entity.key, why, p.role == Role::kPlanning,
                                    p.role == Role::kBudget))
    return rejected(why.empty() ? ErrorCode::kInvalidArgument : ErrorCode::kPermissionDenied,
                    *refused);
  if (auto locked = check_stage(p, flag_year(change.entity.key).value_or(0))) return *locked;
  if (!state.flag_level)
    return rejected(ErrorCode::kNotFound,
                    "flag " + change.entity.key + " is not raised now: its cause went away");
  Decision d;
  d.kind = OutcomeKind::kAccepted;
  d.is_new_revision = true;
  return d;
}

}  // namespace

std::optional<Decision> check_envelope_change(const changelog::Change& change, const Permission& p,
                                              const model::ReferenceData& reference) {
  if (p.role != Role::kBudget)
    return rejected(ErrorCode::kPermissionDenied, "only budget sets the envelopes");
  // The key is the envelope's natural key: one spelling only (no `02024`), an open year.
  const auto& key = change.entity.key;
  auto colon = key.find(':');
  int year = colon == std::string::npos ? 0 : year_of_key(key.substr(0, colon));
  auto source = colon == std::string::npos ? std::string{} : key.substr(colon + 1);
  if (year <= 0 || std::to_string(year) != key.substr(0, colon) ||
      !reference.funding_source(source))
    return rejected(ErrorCode::kInvalidArgument,
                    "envelope: '" + key +
                        "' does not name YEAR:SOURCE with a year like 2024 and a source of "
                        "funding-sources.csv");
  if (auto closed = check_open_year(year, p.open_years)) return *closed;
  if (auto locked = check_stage(p, year)) return *locked;
  auto amount_text = change.values.find("amount");
  if (amount_text == change.values.end())
    return rejected(ErrorCode::kInvalidArgument, "envelope: the change sets no amount");
  auto amount = model::Money::parse(amount_text->second);
  if (!amount)
    return rejected(ErrorCode::kInvalidArgument, "envelope amount: " + amount.error().message);
  if (amount->cents() < 0)
    return rejected(ErrorCode::kInvalidArgument,
                    "envelope amount: " + amount->greek() + " must not be negative");
  return std::nullopt;
}

std::optional<Decision> check_open_year(int year, const std::vector<int>& open_years) {
  if (open_years.empty() ||
      std::find(open_years.begin(), open_years.end(), year) != open_years.end())
    return std::nullopt;
  std::string years;
  for (int y : open_years) years += (years.empty() ? "" : ", ") + std::to_string(y);
  return rejected(ErrorCode::kInvalidArgument, "year: " + std::to_string(year) +
                                                   " is not open on this server; the open years "
                                                   "are " +
                                                   years);
}

std::optional<Decision> check_resolver(std::string_view group, const model::Proposal& current,
                                       const Permission& p) {
  switch (p.role) {
    case Role::kPlanning:
      return std::nullopt;
    case Role::kDirectorate:
      if (current.directorate == p.directorate) return std::nullopt;
      return rejected(ErrorCode::kPermissionDenied,
                      "proposal " + current.id.hex().substr(0, 8) + " belongs to " +
                          current.directorate +
                          "; a directorate settles conflicts on its own "
                          "proposals only");
    case Role::kBudget:
      if (group == model::kMoneyGroup) return std::nullopt;
      return rejected(
          ErrorCode::kPermissionDenied,
          "budget settles conflicts on money only, not on '" + std::string(group) + "'");
    case Role::kAuditor:
      break;
  }
  return rejected(ErrorCode::kPermissionDenied, "auditors read everything and change nothing");
}

namespace {

// Concurrent life changes: the editor did not see the withdrawal or decision, or the withdrawer
// did not see the latest edit. Both are for a person to settle.
std::optional<Decision> check_life_concurrency(const changelog::Change& change, GroupKind kind,
                                               const model::Proposal& current,
                                               const GroupState& state) {
  bool is_withdrawal = kind == GroupKind::kState && state_target(change) == "withdrawn";
  if (kind != GroupKind::kState &&
      (current.state == State::kWithdrawn || model::is_decided(current.state)) &&
      state.is_state_changed_by_other)
    return conflict("proposal was " + std::string(model::to_string(current.state)) +
                    " after this edit's base");
  if (is_withdrawal && state.is_entity_changed_by_other)
    return conflict("proposal changed after the withdrawal's base");
  return std::nullopt;
}

}  // namespace

Decision decide(const changelog::Change& change, const GroupState& state, const Permission& p,
                const model::ReferenceData& reference) {
  if (auto foreign = check_values_in_group(change)) return *foreign;
  if (auto beyond = check_horizon(state)) return *beyond;
  if (change.entity.kind == changelog::EntityKind::kEnvelope)
    return decide_envelope(change, state, p, reference);
  if (change.entity.kind == changelog::EntityKind::kFlag) return decide_flag_ack(change, state, p);
  if (change.entity.kind != changelog::EntityKind::kProposal)
    return rejected(ErrorCode::kInvalidArgument,
                    "stages move with the stage commands and server events are the server's own: "
                    "neither is an edit");

  if (change.values.contains(std::string(changelog::kResolvesKey)))
    return decide_resolution(change, state, p, reference);

  // 1. Not permitted, or invalid.
  auto kind = kind_of_group(change.group);
  bool is_known_group =
      kind != GroupKind::kDescriptive || !model::fields_of_group(change.group).empty();
  if (!is_known_group)
    return rejected(ErrorCode::kInvalidArgument, "'" + change.group + "' is not a field group");
  const model::Proposal* current = state.current ? &*state.current : nullptr;
  if (auto denied = check_role(change, kind, current, p)) return *denied;
  if (auto locked = check_stage(p, current ? current->year : created_year(change))) return *locked;

  if (kind == GroupKind::kCreate) return decide_create(change, current, p, reference);
  if (!current) return rejected(ErrorCode::kNotFound, "there is no proposal " + change.entity.key);

  if (auto clash = check_life_concurrency(change, kind, *current, state)) return *clash;

  if (auto denied = check_life(kind, *current, p)) return *denied;
  if (kind == GroupKind::kState)
    if (auto bad = check_transition(*current, change)) return *bad;

  model::Proposal merged = *current;
  if (auto ok = model::apply_values(merged, change.values); !ok)
    return rejected(ErrorCode::kInvalidArgument, ok.error().message);
  merged.id = current->id;
  merged.year = current->year;
  if (auto ok = model::validate_proposal(merged, reference); !ok)
    return rejected(ErrorCode::kInvalidArgument, ok.error().message);

  // A later change of the same device to a parked group joins that conflict rather than
  // landing beside it — once it has passed every rule above.
  if (state.parked)
    return conflict("joins the open conflict on '" + change.group + "'", state.parked);

  // 2. Accepted: the values equal the master's (a revision on record, the state unchanged), or
  // no other device's accepted change to the group lies after the editor's horizon.
  bool is_equal =
      model::group_values(merged, change.group) == model::group_values(*current, change.group);
  if (is_equal || !state.is_group_changed_by_other) return accepted(std::move(merged));
  // 3. A concurrent edit of the same group.
  return conflict("'" + change.group + "' was changed by another device after this edit's base");
}

}  // namespace ergon::merge
