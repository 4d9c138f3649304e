#include "shared/model/validate.h"

#include <set>

#include "shared/model/text.h"

namespace ergon::model {
namespace {

using core::Error;
using core::ErrorCode;

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

namespace {

void check_year_and_category(const Proposal& p, const ReferenceData& ref,
                             std::vector<Error>& errors) {
  auto cats = ref.allowed_categories.find(p.year);
  if (cats == ref.allowed_categories.end()) {
    std::string years;
    for (const auto& [year, allowed] : ref.allowed_categories)
      years += (years.empty() ? "" : ", ") + std::to_string(year);
    errors.push_back(invalid("year: " + std::to_string(p.year) +
                             " has no programme in the reference data; the years are " + years));
    return;
  }
  bool allowed = false;
  std::string names;
  for (auto c : cats->second) {
    allowed = allowed || c == p.category;
    names += (names.empty() ? "" : ", ") + std::string(to_string(c));
  }
  if (!allowed)
    errors.push_back(invalid("category: " + in_quotes(to_string(p.category)) +
                             " is not allowed in the " + std::to_string(p.year) +
                             " programme; allowed: " + names));
}

void check_codes_and_text(const Proposal& p, const ReferenceData& ref, std::vector<Error>& errors) {
  if (p.directorate.empty())
    errors.push_back(
        invalid("directorate: is required; give a code of directorates.csv, e.g. DTE"));
  else if (!ref.directorate(p.directorate))
    errors.push_back(invalid("directorate: " + in_quotes(p.directorate) +
                             " is not a directorate code; see directorates.csv (e.g. DTE)"));
  if (p.ka_code) {
    if (auto ok = check_ka_category(*p.ka_code, p.category); !ok) errors.push_back(ok.error());
  }
  auto title_length = count_characters(p.title);
  if (title_length < 3 || title_length > 500)
    errors.push_back(invalid("title: " + in_quotes(p.title) + " has " +
                             std::to_string(title_length) + " characters; a title has 3 to 500"));
  if (p.area.empty())
    errors.push_back(invalid("area: is required; give a code of areas.csv, or ALL"));
  else if (!ref.area(p.area))
    errors.push_back(invalid("area: " + in_quotes(p.area) +
                             " is not an area code; see areas.csv (e.g. HER-CITY, or ALL)"));
  auto remarks_length = count_characters(p.remarks);
  if (remarks_length > 2000)
    errors.push_back(invalid("remarks: has " + std::to_string(remarks_length) +
                             " characters; at most 2000 are allowed"));
}

void check_budget(const Proposal& p, std::vector<Error>& errors) {
  if (p.total_budget.cents() <= 0)
    errors.push_back(invalid("total_budget: " + p.total_budget.greek() + " must be more than 0"));
  if (p.paid_to_date.cents() < 0 || p.paid_to_date > p.total_budget)
    errors.push_back(invalid("paid_to_date: " + p.paid_to_date.greek() +
                             " must be between 0 and the total budget " + p.total_budget.greek()));
  else if (p.allocation.cents() < 0 || p.allocation > p.total_budget.minus(p.paid_to_date))
    errors.push_back(invalid("allocation: " + p.allocation.greek() +
                             " must be between 0 and the total budget minus paid to date, " +
                             p.total_budget.minus(p.paid_to_date).greek()));
}

void check_funding(const Proposal& p, const ReferenceData& ref, std::vector<Error>& errors) {
  std::set<std::string> seen;
  Money sum;
  bool overflow = false;
  for (const auto& line : p.funding) {
    if (!ref.funding_source(line.source))
      errors.push_back(invalid("funding: " + in_quotes(line.source) +
                               " is not a funding source; see funding-sources.csv (e.g. 1099)"));
    if (!seen.insert(line.source).second)
      errors.push_back(invalid("funding: source " + in_quotes(line.source) +
                               " appears twice; give each source once"));
    if (line.amount.cents() <= 0)
      errors.push_back(invalid("funding: the amount of " + in_quotes(line.source) + ", " +
                               line.amount.greek() + ", must be more than 0"));
    auto next = sum.plus(line.amount);
    if (next)
      sum = *next;
    else
      overflow = true;
  }
  if (p.allocation.cents() > 0 && p.funding.empty())
    errors.push_back(invalid("funding: an allocation of " + p.allocation.greek() +
                             " needs at least one funding source, e.g. funding=1099"));
  else if (overflow || sum != p.allocation)
    errors.push_back(invalid("funding: the sources add up to " + sum.greek() +
                             " but the allocation is " + p.allocation.greek() +
                             "; they must be equal to the cent"));
}

}  // namespace

std::vector<Error> check_proposal(const Proposal& p, const ReferenceData& ref) {
  std::vector<Error> errors;
  check_year_and_category(p, ref, errors);
  check_codes_and_text(p, ref, errors);
  check_budget(p, errors);
  check_funding(p, ref, errors);
  return errors;
}

std::vector<Error> check_required(const FieldValues& given) {
  std::vector<Error> errors;
  for (const auto& f : all_fields()) {
    if (!f.is_required) continue;
    auto it = given.find(f.name);
    if (it == given.end() || trim(it->second).empty())
      errors.push_back(invalid(std::string(f.name) + ": is required for a new proposal"));
  }
  return errors;
}

core::Status validate_proposal(const Proposal& p, const ReferenceData& ref) {
  auto errors = check_proposal(p, ref);
  if (errors.empty()) return {};
  std::string message = errors.front().message;
  for (std::size_t i = 1; i < errors.size(); ++i) message += "; " + errors[i].message;
  return core::fail(ErrorCode::kInvalidArgument, message);
}

}  // namespace ergon::model
