#include "shared/wire/convert.h"

#include <algorithm>

#include "shared/model/fields.h"

namespace ergon::wire {
namespace {

using Code = core::ErrorCode;
using core::fail;

std::string id_bytes(const core::DeviceId& id) {
  return std::string(reinterpret_cast<const char*>(id.bytes().data()), id.bytes().size());
}

core::Result<core::DeviceId> device_from(const std::string& bytes) {
  if (bytes.size() != 16) return fail(Code::kProtocol, "a device id is 16 bytes");
  std::array<std::uint8_t, 16> raw{};
  std::copy(bytes.begin(), bytes.end(), raw.begin());
  return core::DeviceId(raw);
}

core::Result<crypto::Digest> digest_from(const std::string& bytes) {
  crypto::Digest d{};
  if (bytes.empty()) return d;
  if (bytes.size() != d.size()) return fail(Code::kProtocol, "a digest is 32 bytes");
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

void put(const changelog::Revision& r, Revision* out) {
  out->set_epoch(r.epoch);
  out->set_seq(r.seq);
}
changelog::Revision get(const Revision& r) { return {r.epoch(), r.seq()}; }

void put_values(const model::FieldValues& values,
                google::protobuf::RepeatedPtrField<FieldValue>* out) {
  for (const auto& [name, value] : values) {
    auto* v = out->Add();
    v->set_name(name);
    v->set_value(value);
  }
}

// The names a change of each kind may carry: an envelope its amount, a flag acknowledgement
// its reason and level, a proposal its fields (and, for a resolution, the conflict it settles).
bool is_known_name(changelog::EntityKind kind, const std::string& name) {
  switch (kind) {
    case changelog::EntityKind::kEnvelope:
      return name == "amount";
    case changelog::EntityKind::kFlag:
      return name == "reason" || name == "level";
    case changelog::EntityKind::kServer:
      return name == "epoch" || name == "from_epoch" || name == "backup_seq" ||
             name == "backup_ms" || name == "replaced_seq";
    case changelog::EntityKind::kProposal:
    case changelog::EntityKind::kStage:
      break;
  }
  return model::find_field(name) != nullptr || name == changelog::kResolvesKey;
}

core::Result<model::FieldValues> get_values(
    const google::protobuf::RepeatedPtrField<FieldValue>& in, changelog::EntityKind kind) {
  model::FieldValues values;
  for (const auto& v : in) {
    bool known = is_known_name(kind, v.name());
    if (!known) return fail(Code::kProtocol, "unknown field '" + v.name() + "' in a change");
    if (!values.emplace(v.name(), v.value()).second)
      return fail(Code::kProtocol, "field '" + v.name() + "' twice in a change");
  }
  return values;
}

}  // namespace

void to_proto(const changelog::Change& in, Change* out) {
  out->set_device_id(id_bytes(in.device_id));
  out->set_device_seq(in.device_seq);
  out->set_entity_kind(static_cast<EntityKind>(in.entity.kind));
  out->set_entity_key(in.entity.key);
  out->set_group(in.group);
  put_values(in.values, out->mutable_values());
  out->set_base_kind(static_cast<BaseKind>(in.base.kind));
  put(in.base.revision, out->mutable_base_revision());
  out->set_base_own_seq(in.base.own_seq);
  out->set_hlc_wall_ms(in.client_time.wall_ms);
  out->set_hlc_logical(in.client_time.logical);
  out->set_user(in.user);
}

core::Result<changelog::Change> from_proto(const Change& in) {
  changelog::Change c;
  auto device = device_from(in.device_id());
  if (!device) return fail(device.error());
  c.device_id = *device;
  if (in.device_seq() == 0) return fail(Code::kProtocol, "device sequences start at 1");
  c.device_seq = in.device_seq();
  if (!EntityKind_IsValid(in.entity_kind())) return fail(Code::kProtocol, "unknown entity kind");
  c.entity.kind = static_cast<changelog::EntityKind>(in.entity_kind());
  if (in.entity_key().empty() || in.entity_key().size() > 64)
    return fail(Code::kProtocol, "an entity key is 1 to 64 characters");
  c.entity.key = in.entity_key();
  c.group = in.group();
  auto values = get_values(in.values(), c.entity.kind);
  if (!values) return fail(values.error());
  c.values = std::move(*values);
  if (!BaseKind_IsValid(in.base_kind())) return fail(Code::kProtocol, "unknown base kind");
  c.base.kind = static_cast<changelog::Base::Kind>(in.base_kind());
  c.base.revision = get(in.base_revision());
  c.base.own_seq = in.base_own_seq();
  c.client_time = {in.hlc_wall_ms(), in.hlc_logical()};
  c.user = in.user();
  return c;
}

void to_proto(const changelog::Outcome& in, Outcome* out) {
  out->set_change_id(in.change_id);
  out->set_kind(static_cast<OutcomeKind>(in.kind));
  put(in.position, out->mutable_position());
  out->set_new_revision(in.is_new_revision);
  if (in.conflict) put(*in.conflict, out->mutable_conflict());
  out->set_reason(in.reason);
  out->set_duplicate(in.is_duplicate);
}

core::Result<changelog::Outcome> from_proto(const Outcome& in) {
  changelog::Outcome o;
  o.change_id = in.change_id();
  if (!OutcomeKind_IsValid(in.kind())) return fail(Code::kProtocol, "unknown outcome kind");
  o.kind = static_cast<changelog::OutcomeKind>(in.kind());
  o.position = get(in.position());
  o.is_new_revision = in.new_revision();
  if (in.has_conflict()) o.conflict = get(in.conflict());
  o.reason = in.reason();
  o.is_duplicate = in.duplicate();
  return o;
}

void to_proto(const changelog::LogEntry& in, LogEntry* out) {
  to_proto(in.change, out->mutable_change());
  to_proto(in.outcome, out->mutable_outcome());
  out->set_hash(std::string(crypto::as_bytes(in.hash)));
}

core::Result<changelog::LogEntry> from_proto(const LogEntry& in) {
  changelog::LogEntry e;
  auto outcome = from_proto(in.outcome());
  if (!outcome) return fail(outcome.error());
  // A rejected change reaches other devices without its values: only their hash and size
  // (changelog::without_values), which are no fields of the model.
  model::FieldValues compact;
  if (outcome->kind == changelog::OutcomeKind::kRejected)
    for (const auto& v : in.change().values())
      if (v.name() == "sha256" || v.name() == "bytes") compact.emplace(v.name(), v.value());
  bool is_compact = compact.size() == 2 && in.change().values_size() == 2;
  Change plain = in.change();
  if (is_compact) plain.clear_values();
  auto change = from_proto(plain);
  if (!change) return fail(change.error());
  if (is_compact) change->values = std::move(compact);
  auto hash = digest_from(in.hash());
  if (!hash) return fail(hash.error());
  e.change = std::move(*change);
  e.outcome = std::move(*outcome);
  e.hash = *hash;
  return e;
}

void to_proto(const changelog::Snapshot& in, Snapshot* out) {
  for (const auto& p : in.proposals)
    put_values(model::all_values(p), out->add_proposals()->mutable_values());
  for (const auto& [key, amount] : in.envelopes) {
    auto* e = out->add_envelopes();
    e->set_key(key);
    e->set_amount_cents(amount.cents());
  }
  for (const auto& r : in.revisions) {
    auto* row = out->add_revisions();
    row->set_entity(r.entity);
    row->set_group(r.group);
    put(r.revision.revision, row->mutable_revision()->mutable_revision());
    row->mutable_revision()->set_device_id(id_bytes(r.revision.device_id));
    row->mutable_revision()->set_device_seq(r.revision.device_seq);
    row->set_user(r.user);
    row->set_hlc_wall_ms(r.at_ms);
  }
  out->set_cursor(in.cursor);
  out->set_digest(std::string(crypto::as_bytes(in.digest.value())));
  out->set_chain_head(std::string(crypto::as_bytes(in.chain_head)));
  for (const auto& [name, content] : in.reference_files) {
    auto* f = out->add_reference_files();
    f->set_name(name);
    f->set_content(content);
  }
  for (const auto& e : in.parked) to_proto(e, out->add_parked());
}

core::Result<changelog::Snapshot> from_proto(const Snapshot& in) {
  changelog::Snapshot s;
  for (const auto& p : in.proposals()) {
    auto values = get_values(p.values(), changelog::EntityKind::kProposal);
    if (!values) return fail(values.error());
    model::Proposal proposal;
    if (auto ok = model::apply_values(proposal, *values); !ok)
      return fail(Code::kProtocol, "a snapshot proposal: " + ok.error().message);
    s.proposals.push_back(std::move(proposal));
  }
  for (const auto& e : in.envelopes())
    s.envelopes[e.key()] = model::Money::from_cents(e.amount_cents());
  for (const auto& r : in.revisions()) {
    auto device = device_from(r.revision().device_id());
    if (!device) return fail(device.error());
    s.revisions.push_back({r.entity(),
                           r.group(),
                           {get(r.revision().revision()), *device, r.revision().device_seq()},
                           r.user(),
                           r.hlc_wall_ms()});
  }
  s.cursor = in.cursor();
  auto digest = digest_from(in.digest());
  auto head = digest_from(in.chain_head());
  if (!digest || !head) return fail(Code::kProtocol, "a snapshot digest is 32 bytes");
  s.digest = changelog::StateDigest(*digest);
  s.chain_head = *head;
  for (const auto& f : in.reference_files()) s.reference_files[f.name()] = f.content();
  for (const auto& e : in.parked()) {
    auto entry = from_proto(e);
    if (!entry) return fail(entry.error());
    s.parked.push_back(std::move(*entry));
  }
  return s;
}

ErrorCode to_proto(core::ErrorCode code) {
  return static_cast<ErrorCode>(static_cast<int>(code) + 1);
}

core::ErrorCode from_proto(ErrorCode code) {
  // Range-checked before the subtraction: proto3 keeps unknown enum values, so a peer can send
  // INT32_MIN, and `code - 1` would overflow.
  int value = static_cast<int>(code);
  if (value < 1 || value > static_cast<int>(core::ErrorCode::kInternal) + 1)
    return core::ErrorCode::kProtocol;
  return static_cast<core::ErrorCode>(value - 1);
}

std::string hello_proof_payload(std::string_view session_binding, std::string_view client_device_id,
                                std::string_view enrolled_id) {
  std::string payload("ergon-hello-proof-v1");
  for (auto part : {session_binding, client_device_id, enrolled_id}) {
    payload.push_back('\0');
    payload += std::to_string(part.size());
    payload.push_back(':');
    payload.append(part);
  }
  return payload;
}

Message error_message(std::uint64_t request_id, const core::Error& error) {
  Message m;
  m.set_request_id(request_id);
  m.mutable_error()->set_code(to_proto(error.code));
  m.mutable_error()->set_message(core::shorten(error.message));
  return m;
}

}  // namespace ergon::wire
