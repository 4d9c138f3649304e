#include "client/report/proposal_json.h"

#include "shared/model/fields.h"

namespace ergon::client {

nlohmann::json to_json(const model::Proposal& p) {
  using nlohmann::json;
  json funding = json::array();
  for (const auto& line : p.funding)
    funding.push_back({{"source", line.source}, {"amount", line.amount.cents()}});
  json plans = json::array();
  for (auto plan : p.strategic_plans) plans.push_back(std::string(model::to_string(plan)));
  auto optional_text = [](bool has, const std::string& text) {
    return has ? json(text) : json(nullptr);
  };
  return json{
      {"id", p.id.hex()},
      {"year", p.year},
      {"directorate", p.directorate},
      {"ka_code", optional_text(p.ka_code.has_value(), p.ka_code ? p.ka_code->canonical() : "")},
      {"title", p.title},
      {"category", std::string(model::to_string(p.category))},
      {"new_or_continuing", std::string(model::to_string(p.new_or_continuing))},
      {"area", p.area},
      {"total_budget", p.total_budget.cents()},
      {"paid_to_date", p.paid_to_date.cents()},
      {"allocation", p.allocation.cents()},
      {"funding", funding},
      {"status", std::string(model::to_string(p.status))},
      {"strategic_plans", plans},
      {"predecessor_id", optional_text(p.predecessor_id.has_value(),
                                       p.predecessor_id ? p.predecessor_id->hex() : "")},
      {"priority", std::string(model::to_string(p.priority))},
      {"remarks", p.remarks},
      {"state", std::string(model::to_string(p.state))},
      {"decision_reason", p.decision_reason},
  };
}

std::string field_value_text(const std::string& field, const std::string& value) {
  if (value.empty()) return "—";
  model::Proposal shown;
  if (model::find_field(field) && model::apply_values(shown, {{field, value}}))
    return model::field_text(shown, field, model::TextForm::kGreek);
  if (field == "amount")
    if (auto money = model::Money::parse(value)) return money->greek_euro();
  return value;
}

nlohmann::json field_value_json(const std::string& field, const std::string& value) {
  if (value.empty()) return nullptr;
  model::Proposal shown;
  if (model::find_field(field) && model::apply_values(shown, {{field, value}}))
    return to_json(shown)[field];
  if (field == "amount")
    if (auto money = model::Money::parse(value)) return money->cents();
  return value;
}

}  // namespace ergon::client
