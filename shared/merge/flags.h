#pragma once
// The cross-row checks (DESIGN.md: "per-row rules reject; cross-row rules flag"), as pure
// functions like decide(): what a year's figures raise, and how the stored flags move to it.
// The store gathers the figures and writes the update. Pure; thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "shared/model/money.h"
#include "shared/model/proposal.h"

namespace ergon::merge {

/// What the cross-row checks look at in one programme year.
struct YearFigures {
  int year = 0;
  std::map<std::string, std::int64_t> live_ka_uses;  // ΚΑ code → live proposals using it
  std::map<std::string, model::Money> envelopes;     // funding source → its envelope
  std::vector<model::Proposal> included;             // the proposals decided `included`
};

/// The flags the figures raise, id → what is wrong: `ka:CODE` for a ΚΑ code used by more than
/// one live proposal, `envelope:SOURCE` for included allocations above the source's envelope.
/// A source without an envelope raises nothing.
std::map<std::string, std::string> raise_flags(const YearFigures& figures);

/// How a year's stored flags (id → status: open, acknowledged, cleared) move to `raised`.
struct FlagUpdate {
  std::vector<std::pair<std::string, std::string>> refreshed;  // still standing: new detail
  std::vector<std::pair<std::string, std::string>> opened;     // new, or raised after clearing
  std::vector<std::string> cleared;                            // its cause went away
};
FlagUpdate update_flags(const std::map<std::string, std::string>& raised,
                        const std::map<std::string, std::string>& stored_status);

}  // namespace ergon::merge
