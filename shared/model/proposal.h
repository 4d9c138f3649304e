#pragma once
// Proposal: one row of the Technical Programme, with the fields of data/DOMAIN.md and their
// closed value sets. Plain value type; the rules live in validate.h, the text forms in
// fields.h.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shared/core/ids.h"
#include "shared/core/result.h"
#include "shared/model/ka_code.h"
#include "shared/model/money.h"
#include "shared/model/text.h"

namespace ergon::model {

enum class Category { kWork, kStudy, kSupply, kService };
enum class Continuity { kNew, kContinuing };
enum class WorkStatus { kMaturing, kTendering, kContracted, kCompleted, kRemoved };
enum class Priority { kA, kB, kC };
enum class StrategicPlan { kSoap, kSvaa, kSmart, kResilient, kTourism, kLll, kWaste, kSdae };
enum class State { kDraft, kSubmitted, kIncluded, kDeferred, kRejected, kWithdrawn };

/// The names of an enum's values as they appear in CSV and JSON, in declaration order, and
/// the field they belong to (for messages).
template <class E>
struct EnumNames;
template <>
struct EnumNames<Category> {
  static constexpr std::string_view kField = "category";
  static constexpr std::array<std::string_view, 4> kNames = {"work", "study", "supply", "service"};
};
template <>
struct EnumNames<Continuity> {
  static constexpr std::string_view kField = "new_or_continuing";
  static constexpr std::array<std::string_view, 2> kNames = {"new", "continuing"};
};
template <>
struct EnumNames<WorkStatus> {
  static constexpr std::string_view kField = "status";
  static constexpr std::array<std::string_view, 5> kNames = {"maturing", "tendering", "contracted",
                                                             "completed", "removed"};
};
template <>
struct EnumNames<Priority> {
  static constexpr std::string_view kField = "priority";
  static constexpr std::array<std::string_view, 3> kNames = {"A", "B", "C"};
};
template <>
struct EnumNames<StrategicPlan> {
  static constexpr std::string_view kField = "strategic_plans";
  static constexpr std::array<std::string_view, 8> kNames = {
      "SOAP", "SVAA", "SMART", "RESILIENT", "TOURISM", "LLL", "WASTE", "SDAE"};
};
template <>
struct EnumNames<State> {
  static constexpr std::string_view kField = "state";
  static constexpr std::array<std::string_view, 6> kNames = {"draft",    "submitted", "included",
                                                             "deferred", "rejected",  "withdrawn"};
};

template <class E>
constexpr std::string_view to_string(E value) {
  return EnumNames<E>::kNames[static_cast<std::size_t>(value)];
}

/// Parses an enum value, ignoring ASCII case; the error lists what is allowed.
template <class E>
core::Result<E> parse_enum(std::string_view text);

struct FundingLine {
  std::string source;  // a code of funding-sources.csv
  Money amount;
  friend bool operator==(const FundingLine&, const FundingLine&) = default;
};

struct Proposal {
  core::ProposalId id;
  int year = 0;
  std::string directorate;
  std::optional<KaCode> ka_code;
  std::string title;
  Category category = Category::kWork;
  Continuity new_or_continuing = Continuity::kNew;
  std::string area;
  Money total_budget;
  Money paid_to_date;
  Money allocation;
  std::vector<FundingLine> funding;  // sorted by source code
  WorkStatus status = WorkStatus::kMaturing;
  std::vector<StrategicPlan> strategic_plans;  // sorted, unique
  std::optional<core::ProposalId> predecessor_id;
  Priority priority = Priority::kB;
  std::string remarks;
  State state = State::kDraft;
  std::string decision_reason;

  friend bool operator==(const Proposal&, const Proposal&) = default;
};

/// True once planning has decided: included, deferred or rejected.
constexpr bool is_decided(State s) {
  return s == State::kIncluded || s == State::kDeferred || s == State::kRejected;
}

/// True while a proposal counts in the programme's figures: not withdrawn, rejected or
/// deferred (drafts and submissions count until planning decides).
constexpr bool is_in_programme(State s) {
  return s != State::kWithdrawn && s != State::kRejected && s != State::kDeferred;
}

// --- implementation ---

bool equals_ignoring_ascii_case(std::string_view a, std::string_view b);
std::string join_names(const std::string_view* names, std::size_t count);

template <class E>
core::Result<E> parse_enum(std::string_view text) {
  const auto& names = EnumNames<E>::kNames;
  auto alike = latin_look_alike(text);  // `Α` typed on a Greek keyboard for priority A
  for (std::size_t i = 0; i < names.size(); ++i)
    if (equals_ignoring_ascii_case(alike, names[i])) return static_cast<E>(i);
  return core::fail(core::ErrorCode::kInvalidArgument,
                    std::string(EnumNames<E>::kField) + ": '" + std::string(text) +
                        "' is not allowed; use one of " + join_names(names.data(), names.size()));
}

}  // namespace ergon::model
