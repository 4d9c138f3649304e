#pragma once
// The programme as the table planning hands to the committees, in Greek: grouped by
// directorate and category, numbered, with totals per group, per funding source and overall.
// Pure functions of their inputs; thread-safe.

#include <string>
#include <vector>

#include "shared/model/proposal.h"
#include "shared/model/reference.h"

namespace ergon::client {

/// A cross-row flag as the report lists it: its id, what is wrong, whether it was acknowledged.
struct ReportFlag {
  std::string id, message;
  std::vector<std::string> proposals;  // ids
  bool is_acknowledged = false;
};

struct ReportOptions {
  int year = 0;
  bool include_withdrawn = false;
  std::vector<ReportFlag> flags;  // flagged rows are marked ⚑ and the flags listed at the end
};

/// A fixed-width terminal table (UTF-8, padded by characters, not bytes).
std::string render_programme_text(const std::vector<model::Proposal>& proposals,
                                  const model::ReferenceData& ref, const ReportOptions& options);

/// Pads or cuts `text` to `width` characters; numbers are right-aligned when `right` is set.
std::string fit(std::string_view text, std::size_t width, bool right = false);

}  // namespace ergon::client
