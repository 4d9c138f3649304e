#pragma once
// Two states of a year's programme compared (`ergon diff draft approved`): the proposals added,
// removed and changed, field by field, with the money deltas, and the totals per funding
// source against their envelopes. Totals and per-source figures count the programme proper,
// the included proposals (allocated, as `envelopes` and `report` define it). Pure functions of
// their inputs; thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shared/model/money.h"
#include "shared/model/proposal.h"

namespace ergon::client {

struct FieldDelta {
  std::string field;
  std::string before, after;  // canonical text; empty when the field had no value
};

struct ProposalDelta {
  std::string id, title, directorate;  // as in the later state (the earlier for a removal)
  std::vector<FieldDelta> fields;      // the fields that differ (none for added or removed)
  std::int64_t total_before = 0, total_after = 0;  // cents; 0 on the side it is missing from
  std::int64_t allocation_before = 0, allocation_after = 0;
};

struct SourceDelta {
  std::string source;
  std::int64_t before = 0, after = 0;  // allocated from this source, cents
  std::int64_t envelope_before = 0, envelope_after = 0;
};

struct ProgrammeDiff {
  std::vector<ProposalDelta> added, removed, changed;  // each in id order
  std::vector<SourceDelta> sources;                    // every source either side names
  std::int64_t allocation_before = 0, allocation_after = 0;
  std::int64_t total_before = 0, total_after = 0;
};

/// `before` and `after` in any order; envelopes by YEAR:SOURCE.
ProgrammeDiff diff_programmes(const std::vector<model::Proposal>& before,
                              const std::vector<model::Proposal>& after,
                              const std::map<std::string, model::Money>& envelopes_before,
                              const std::map<std::string, model::Money>& envelopes_after);

}  // namespace ergon::client
