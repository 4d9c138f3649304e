#pragma once
// Change: one edit of one field group of one entity, as DESIGN.md's change model defines it.
// `device_id:device_seq` identifies it forever; device sequences run 1, 2, 3... without gaps.
// Plain value types; thread-compatible.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "shared/core/hybrid_clock.h"
#include "shared/core/ids.h"
#include "shared/model/fields.h"

namespace ergon::changelog {

/// A server revision: the epoch (new at every restore) and the global log sequence of the
/// accepted change that set the group.
struct Revision {
  std::uint64_t epoch = 0;
  std::uint64_t seq = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=>
  friend auto operator<=>(const Revision&, const Revision&) = default;
};

/// What the editor had seen when editing: its horizon (docs/merge.md), the last server log row
/// its device had applied, or less while its own earlier changes to the entity were in flight.
struct Base {
  enum class Kind : std::uint8_t {
    kNone = 0,       // the entity did not exist for the editor (a creation)
    kRevision = 1,   // `revision` is the horizon
    kOwnChange = 2,  // protocol 1 only (logged before #27): what the own change `own_seq` had seen
  };
  Kind kind = Kind::kNone;
  Revision revision;          // when kRevision
  std::uint64_t own_seq = 0;  // when kOwnChange: that change's device_seq
  friend bool operator==(const Base&, const Base&) = default;
};

/// kFlag: an acknowledgement of a raised flag (key: the flag's id, group "ack").
/// kServer: an event the server itself logs (key "epoch", group "restore": a restore from a
/// backup began a new epoch); its device id is all zeros, which no client may use.
enum class EntityKind : std::uint8_t {
  kProposal = 0,
  kEnvelope = 1,
  kStage = 2,
  kFlag = 3,
  kServer = 4
};
std::string_view to_string(EntityKind kind);

struct EntityRef {
  EntityKind kind = EntityKind::kProposal;
  std::string key;  // proposal id (hex); `2024:1099` for an envelope; `2024:draft` for a stage
  friend bool operator==(const EntityRef&, const EntityRef&) = default;
};

/// The pseudo-group of a change that creates a proposal with all its groups.
inline constexpr std::string_view kCreateGroup = "create";

struct Change {
  core::DeviceId device_id;
  std::uint64_t device_seq = 0;
  EntityRef entity;
  std::string group;          // a field group of model/fields.h, or kCreateGroup
  model::FieldValues values;  // canonical text per field
  Base base;
  core::Hlc client_time;
  std::string user;  // as stated by the person; the server records it as stated

  friend bool operator==(const Change&, const Change&) = default;
};

/// A resolution is a change of the conflict's group that carries, beside the group's chosen
/// values (none to keep the master's), this key naming the conflict it settles ("EPOCH.SEQ").
inline constexpr std::string_view kResolvesKey = "_resolves";

/// The conflict a change settles, if it is a resolution with a well-formed id.
std::optional<Revision> resolves(const Change& c);
/// "EPOCH.SEQ", a conflict's id as users see it.
std::string conflict_id_text(const Revision& id);
std::optional<Revision> parse_conflict_id(std::string_view text);
/// The change's field values without the keys that are not fields (kResolvesKey).
model::FieldValues field_values(const Change& c);

/// `<device hex>:<seq>`, the change id everywhere (wire, SQL, log lines).
std::string change_id(const Change& c);

/// The most a change may carry in field names and values; a larger one is rejected and logged
/// without its values (they stay on the device that typed them).
inline constexpr std::size_t kMaxChangeBytes = 64u << 10;

/// Bytes of field names and values the change carries.
std::size_t values_size(const Change& c);

/// The change with its values replaced by their SHA-256 and size (fields `sha256`, `bytes`):
/// how a rejected change is logged when too large, and how other devices see any rejection.
Change without_values(const Change& c);

}  // namespace ergon::changelog
