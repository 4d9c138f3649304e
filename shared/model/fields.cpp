#include "shared/model/fields.h"

#include <algorithm>
#include <array>

#include "shared/core/numbers.h"
#include "shared/model/text.h"

namespace ergon::model {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::array<FieldSpec, 19> kFields = {{
    {"id", "Κωδικός πρότασης", "id", false, false},
    {"year", "Έτος", "year", false, false},
    {"directorate", "Αρμόδια Διεύθυνση", "directorate", true, true},
    {"ka_code", "Κ.Α.", kClassificationGroup, true, false},
    {"title", "Τίτλος", "title", true, true},
    {"category", "Κατηγορία", kClassificationGroup, true, true},
    {"new_or_continuing", "Νέο / Συνεχιζόμενο", "new_or_continuing", true, true},
    {"area", "Δημοτική Ενότητα / Κοινότητα", "area", true, true},
    {"total_budget", "Συνολικός προϋπολογισμός", kMoneyGroup, true, true},
    {"paid_to_date", "Πληρωμές έως 31/12", kMoneyGroup, true, false},
    {"allocation", "Πίστωση έτους", kMoneyGroup, true, false},
    {"funding", "Πηγή χρηματοδότησης", kMoneyGroup, true, false},
    {"status", "Κατάσταση", "status", true, true},
    {"strategic_plans", "Στρατηγικά σχέδια", "strategic_plans", true, false},
    {"predecessor_id", "Προηγούμενο έτος", "predecessor_id", true, false},
    {"priority", "Προτεραιότητα", "priority", true, true},
    {"remarks", "Παρατηρήσεις", "remarks", true, false},
    {"state", "Στάδιο πρότασης", kStateGroup, false, false},
    {"decision_reason", "Αιτιολογία απόφασης", kStateGroup, false, false},
}};

constexpr std::array<std::string_view, 12> kGroups = {
    "directorate",    kClassificationGroup, "title",   "new_or_continuing",
    "area",           kMoneyGroup,          "status",  "strategic_plans",
    "predecessor_id", "priority",           "remarks", kStateGroup};

std::string money_text(Money m, TextForm form) {
  return form == TextForm::kCanonical ? m.plain() : m.greek();
}

core::Error in_field(std::string_view field, const core::Error& e) {
  return core::Error{e.code, std::string(field) + ": " + e.message};
}

core::Result<std::string> parse_text(std::string_view field, std::string_view text) {
  auto normal = normalise_text(text);
  if (!normal) return fail(in_field(field, normal.error()));
  return normal;
}

std::vector<std::string_view> split_bar(std::string_view text) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto at = text.find('|', start);
    auto part = trim(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (!part.empty()) parts.push_back(part);
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return parts;
}

core::Status set_funding(Proposal& p, std::string_view text) {
  std::vector<FundingLine> lines;
  for (auto part : split_bar(text)) {
    auto eq = part.find('=');
    FundingLine line;
    line.source = std::string(trim(part.substr(0, eq)));
    if (eq == std::string_view::npos) {
      line.amount = p.allocation;  // a lone source carries the whole allocation
    } else {
      auto amount = Money::parse(part.substr(eq + 1));
      if (!amount) return fail(in_field("funding", amount.error()));
      line.amount = *amount;
    }
    if (line.source.empty())
      return fail(ErrorCode::kInvalidArgument,
                  "funding: '" + std::string(part) +
                      "' has no source code; write CODE=amount, e.g. 1099=300.000,00");
    lines.push_back(std::move(line));
  }
  std::sort(lines.begin(), lines.end(),
            [](const FundingLine& a, const FundingLine& b) { return a.source < b.source; });
  p.funding = std::move(lines);
  return {};
}

core::Status set_plans(Proposal& p, std::string_view text) {
  std::vector<StrategicPlan> plans;
  for (auto part : split_bar(text)) {
    auto plan = parse_enum<StrategicPlan>(part);
    if (!plan) return fail(plan.error());
    plans.push_back(*plan);
  }
  std::sort(plans.begin(), plans.end());
  plans.erase(std::unique(plans.begin(), plans.end()), plans.end());
  p.strategic_plans = std::move(plans);
  return {};
}

template <class E>
core::Status set_enum(E& member, std::string_view text) {
  auto value = parse_enum<E>(trim(text));
  if (!value) return fail(value.error());
  member = *value;
  return {};
}

core::Status set_money(Money& member, std::string_view field, std::string_view text) {
  if (trim(text).empty()) {
    member = Money{};
    return {};
  }
  auto value = Money::parse(text);
  if (!value) return fail(in_field(field, value.error()));
  member = *value;
  return {};
}

core::Status set_code(std::string& member, std::string_view text) {
  member = std::string(trim(text));
  return {};
}

}  // namespace

std::span<const FieldSpec> all_fields() { return kFields; }

const FieldSpec* find_field(std::string_view name) {
  for (const auto& f : kFields)
    if (f.name == name) return &f;
  return nullptr;
}

std::span<const std::string_view> all_groups() { return kGroups; }

std::vector<std::string_view> fields_of_group(std::string_view group) {
  std::vector<std::string_view> names;
  for (const auto& f : kFields)
    if (f.group == group) names.push_back(f.name);
  return names;
}

std::string field_text(const Proposal& p, std::string_view field, TextForm form) {
  if (field == "id") return p.id.hex();
  if (field == "year") return std::to_string(p.year);
  if (field == "directorate") return p.directorate;
  if (field == "ka_code") return p.ka_code ? p.ka_code->canonical() : "";
  if (field == "title") return p.title;
  if (field == "category") return std::string(to_string(p.category));
  if (field == "new_or_continuing") return std::string(to_string(p.new_or_continuing));
  if (field == "area") return p.area;
  if (field == "total_budget") return money_text(p.total_budget, form);
  if (field == "paid_to_date") return money_text(p.paid_to_date, form);
  if (field == "allocation") return money_text(p.allocation, form);
  if (field == "funding") {
    std::string out;
    for (const auto& line : p.funding) {
      if (!out.empty()) out += '|';
      out += line.source + "=" + money_text(line.amount, form);
    }
    return out;
  }
  if (field == "status") return std::string(to_string(p.status));
  if (field == "strategic_plans") {
    std::string out;
    for (auto plan : p.strategic_plans) {
      if (!out.empty()) out += '|';
      out += to_string(plan);
    }
    return out;
  }
  if (field == "predecessor_id") return p.predecessor_id ? p.predecessor_id->hex() : "";
  if (field == "priority") return std::string(to_string(p.priority));
  if (field == "remarks") return p.remarks;
  if (field == "state") return std::string(to_string(p.state));
  if (field == "decision_reason") return p.decision_reason;
  return {};
}

namespace {

core::Status set_year(Proposal& p, std::string_view text) {
  auto t = trim(text);
  auto year = core::parse_number<int>(t, "year");
  if (t.size() != 4 || !year || *year < 2000)
    return fail(ErrorCode::kInvalidArgument,
                "year: '" + std::string(text) + "' is not a year; write four digits, e.g. 2024");
  p.year = *year;
  return {};
}

core::Status set_predecessor(Proposal& p, std::string_view text) {
  if (trim(text).empty()) {
    p.predecessor_id.reset();
    return {};
  }
  auto id = core::ProposalId::parse(trim(text));
  if (!id) return fail(in_field("predecessor_id", id.error()));
  p.predecessor_id = *id;
  return {};
}

}  // namespace

core::Status set_field(Proposal& p, std::string_view field, std::string_view text) {
  if (field == "id") {
    auto id = core::ProposalId::parse(trim(text));
    if (!id) return fail(in_field(field, id.error()));
    p.id = *id;
    return {};
  }
  if (field == "year") return set_year(p, text);
  if (field == "directorate") return set_code(p.directorate, text);
  if (field == "ka_code") {
    if (trim(text).empty()) {
      p.ka_code.reset();
      return {};
    }
    auto code = KaCode::parse(text);
    if (!code) return fail(code.error());
    p.ka_code = *code;
    return {};
  }
  if (field == "title" || field == "remarks" || field == "decision_reason") {
    auto value = parse_text(field, text);
    if (!value) return fail(value.error());
    (field == "title" ? p.title : field == "remarks" ? p.remarks : p.decision_reason) = *value;
    return {};
  }
  if (field == "category") return set_enum(p.category, text);
  if (field == "new_or_continuing") return set_enum(p.new_or_continuing, text);
  if (field == "area") return set_code(p.area, text);
  if (field == "total_budget") return set_money(p.total_budget, field, text);
  if (field == "paid_to_date") return set_money(p.paid_to_date, field, text);
  if (field == "allocation") return set_money(p.allocation, field, text);
  if (field == "funding") return set_funding(p, text);
  if (field == "status") return set_enum(p.status, text);
  if (field == "strategic_plans") return set_plans(p, text);
  if (field == "predecessor_id") return set_predecessor(p, text);
  if (field == "priority") return set_enum(p.priority, text);
  if (field == "state") return set_enum(p.state, text);
  std::string names;
  for (const auto& f : kFields) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return fail(ErrorCode::kUsage,
              "'" + std::string(field) + "' is not a field; the fields are " + names);
}

core::Status apply_values(Proposal& p, const FieldValues& values) {
  for (const auto& [name, text] : values)
    if (name != "funding") ERGON_TRY(set_field(p, name, text));
  if (auto it = values.find("funding"); it != values.end())
    ERGON_TRY(set_field(p, "funding", it->second));
  return {};
}

FieldValues group_values(const Proposal& p, std::string_view group) {
  FieldValues values;
  for (auto name : fields_of_group(group))
    values.emplace(std::string(name), field_text(p, name, TextForm::kCanonical));
  return values;
}

FieldValues all_values(const Proposal& p) {
  FieldValues values;
  for (const auto& f : kFields)
    values.emplace(std::string(f.name), field_text(p, f.name, TextForm::kCanonical));
  return values;
}

}  // namespace ergon::model
