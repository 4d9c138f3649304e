#include "shared/changelog/change.h"

#include "shared/core/numbers.h"
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
    case EntityKind::kFlag:
      return "flag";
    case EntityKind::kServer:
      return "server";
  }
  return "proposal";
}

std::optional<Revision> resolves(const Change& c) {
  auto it = c.values.find(std::string(kResolvesKey));
  if (it == c.values.end()) return std::nullopt;
  return parse_conflict_id(it->second);
}

std::string conflict_id_text(const Revision& id) {
  return std::to_string(id.epoch) + "." + std::to_string(id.seq);
}

std::optional<Revision> parse_conflict_id(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto epoch = core::parse_number<std::uint64_t>(text.substr(0, dot), "epoch");
  auto seq = core::parse_number<std::uint64_t>(text.substr(dot + 1), "seq");
  if (!epoch || !seq || *seq == 0) return std::nullopt;
  return Revision{*epoch, *seq};
}

model::FieldValues field_values(const Change& c) {
  auto values = c.values;
  values.erase(std::string(kResolvesKey));
  return values;
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
