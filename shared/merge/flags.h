#pragma once
// The cross-row checks (DESIGN.md: "per-row rules reject; cross-row rules flag"), as pure
// functions like decide(): what a year's figures raise, and how the stored flags move to it.
// The store gathers the figures and writes the update. Pure; thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "shared/core/result.h"
#include "shared/model/money.h"
#include "shared/model/proposal.h"

namespace ergon::merge {

/// What the cross-row checks look at in one programme year.
struct YearFigures {
  int year = 0;
  std::map<std::string, std::int64_t> live_ka_uses;  // ΚΑ code → live proposals using it
  std::map<std::string, model::Money> envelopes;     // funding source → its envelope
  std::vector<model::Proposal> included;             // the proposals decided `included`
  // ΚΑ code → the live proposals using it, when the caller has them (the client does).
  std::map<std::string, std::vector<std::string>> ka_users;
  // Last year's works and studies that continue (included, not completed or removed): id →
  // title; and the predecessor ids of this year's live proposals. One not carried is a flag.
  std::map<std::string, std::string> continuing_before;
  std::set<std::string> carried;
};

/// True for a proposal of one year that the next year's programme must carry: an included
/// work or study that is not completed or removed.
bool continues_next_year(const model::Proposal& p);

/// Fills figures.continuing_before from the previous year's proposals and figures.carried from
/// this year's, all of `proposals` (any years; others are ignored).
void add_continuity(YearFigures& figures, const std::vector<model::Proposal>& proposals);

/// One raised flag: its kind ("ka" or "envelope"), what is wrong, how far the cause goes (uses
/// of the code, or cents above the envelope: an acknowledgement holds until it grows), and the
/// proposals involved.
struct RaisedFlag {
  std::string kind;
  std::string message;
  std::int64_t level = 0;
  std::vector<std::string> proposals;
};

/// The flags the figures raise, by id `KIND:YEAR:KEY`: `ka:2024:30-7323.004` for a ΚΑ code used
/// by more than one live proposal, `envelope:2024:1099` for included allocations above the
/// source's envelope (a source without an envelope raises nothing), `continuing:2025:ID` for
/// a continuing work of 2024 that no live proposal of 2025 carries (predecessor_id).
std::map<std::string, RaisedFlag> raise_flags(const YearFigures& figures);

/// The year a flag id (KIND:YEAR:KEY) is about; nullopt when the id is not of that form.
std::optional<int> flag_year(std::string_view id);

/// Who may acknowledge flag `id`: planning any, budget the money (envelope) ones; a reason is
/// required. nullopt: allowed. Client and server ask it.
std::optional<std::string> check_flag_ack(const std::string& id, const std::string& reason,
                                          bool is_planning, bool is_budget);

/// One funding source's money in a year: its envelope (none: unlimited), what the included
/// proposals allocate on it, what the submitted and included ones request, what remains of
/// the envelope after the allocations (none when unlimited; negative when over-committed).
struct EnvelopeUse {
  std::string source;
  std::optional<model::Money> envelope;
  model::Money allocated;
  model::Money requested;
  std::optional<model::Money> remaining;
  bool is_over() const { return remaining && remaining->cents() < 0; }
};

/// Every source with an envelope or funding in `year`, in source order. Sums saturate at
/// Money's largest amount rather than wrap.
std::vector<EnvelopeUse> envelope_uses(int year, const std::vector<model::Proposal>& proposals,
                                       const std::map<std::string, model::Money>& envelopes);

/// Where a stored flag stands on the server.
enum class FlagStatus { kOpen, kAcknowledged, kCleared };
std::string_view to_string(FlagStatus status);
core::Result<FlagStatus> parse_flag_status(std::string_view text);

/// A flag as the server stores it: where it stands, and how far its cause went when it was
/// acknowledged (the acknowledgement holds until the cause grows past that).
struct StoredFlag {
  FlagStatus status = FlagStatus::kOpen;
  std::int64_t acknowledged_level = 0;
};

/// How a year's stored flags move to `raised`.
struct FlagUpdate {
  std::vector<std::pair<std::string, std::string>> refreshed;  // still standing: new detail
  std::vector<std::pair<std::string, std::string>> opened;     // new, or raised after clearing
  std::vector<std::pair<std::string, std::string>> reopened;   // acknowledged, cause grew since
  std::vector<std::string> cleared;                            // its cause went away
};
FlagUpdate update_flags(const std::map<std::string, RaisedFlag>& raised,
                        const std::map<std::string, StoredFlag>& stored);

}  // namespace ergon::merge
