#include "client/report/proposal_json.h"

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

}  // namespace ergon::client
