#pragma once
// Snapshot: the whole programme state at a log position, what a new or long-absent client
// bootstraps from before reading the log tail. Value type.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shared/changelog/change.h"
#include "shared/changelog/log_entry.h"
#include "shared/model/money.h"
#include "shared/model/proposal.h"

namespace ergon::changelog {

/// Who set a group last: its revision and the change that made it.
struct GroupRevision {
  Revision revision;
  core::DeviceId device_id;
  std::uint64_t device_seq = 0;
  friend bool operator==(const GroupRevision&, const GroupRevision&) = default;
};

struct RevisionRow {
  std::string entity;  // a proposal id, or `envelope:YEAR:SOURCE`
  std::string group;
  GroupRevision revision;
  std::string user;        // who the change that set it names (conflicts show the master's setter)
  std::int64_t at_ms = 0;  // that change's device clock
};

struct Snapshot {
  std::vector<model::Proposal> proposals;
  std::map<std::string, model::Money> envelopes;  // by key `YEAR:SOURCE`
  std::vector<RevisionRow> revisions;
  std::uint64_t cursor = 0;  // the last log seq the snapshot includes
  StateDigest digest;
  crypto::Digest chain_head{};
  std::map<std::string, std::string> reference_files;
  std::vector<LogEntry> parked;  // the changes parked in conflicts still open
};

/// The entity name envelopes use in revisions and digests.
inline std::string envelope_entity(std::string_view key) { return "envelope:" + std::string(key); }

}  // namespace ergon::changelog
