#include "shared/model/validate.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "shared/core/error.h"
#include "shared/model/fields.h"
#include "shared/model/ka_code.h"
#include "shared/model/money.h"
#include "shared/model/proposal.h"
#include "shared/model/reference.h"
#include "tests/support/paths.h"
#include "tests/support/reference.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using ergon::core::Error;
using ergon::core::ErrorCode;
using ergon::core::ProposalId;
using ergon::model::apply_values;
using ergon::model::Category;
using ergon::model::check_proposal;
using ergon::model::check_required;
using ergon::model::FieldValues;
using ergon::model::FundingLine;
using ergon::model::KaCode;
using ergon::model::Money;
using ergon::model::Proposal;
using ergon::model::ReferenceData;
using ergon::model::set_field;
using ergon::model::validate_proposal;

namespace {

const ReferenceData& reference() { return ergon::testing::reference_data(); }

Money euros(std::int64_t amount) { return Money::from_cents(amount * 100); }

KaCode ka(std::string_view text) {
  auto code = KaCode::parse(text);
  REQUIRE(code.has_value());
  return *code;
}

// The valid proposal every rule below breaks in one way.
Proposal valid_proposal() {
  Proposal p;
  p.id = *ProposalId::parse("0123456789abcdef0123456789abcdef");
  p.year = 2024;
  p.directorate = "DTE";
  p.ka_code = ka("30-7323.001");
  p.title = "Αναβάθμιση και εξωραϊσμός Πλατείας Ελευθερίας";
  p.category = Category::kWork;
  p.area = "HER-CITY";
  p.total_budget = euros(1'500'000);
  p.paid_to_date = euros(0);
  p.allocation = euros(800'000);
  p.funding = {FundingLine{"0518", euros(500'000)}, FundingLine{"1099", euros(300'000)}};
  p.remarks = "Σύμβαση 31/10/2023";
  return p;
}

std::string all_messages(const std::vector<Error>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.message + "\n";
  return out;
}

// The proposal breaks exactly one rule, with a message containing every one of `parts`.
void require_one_error(const Proposal& p, const std::vector<std::string>& parts) {
  auto errors = check_proposal(p, reference());
  INFO(all_messages(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors.front().code == ErrorCode::kInvalidArgument);
  for (const auto& part : parts) CHECK_THAT(errors.front().message, Contains(part));
}

std::string repeat(std::string_view unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

}  // namespace

TEST_CASE("the shipped reference data loads with its codes and years", "[validate]") {
  const auto& ref = reference();
  CHECK(ref.directorate("DTE") != nullptr);
  CHECK(ref.area("HER-CITY") != nullptr);
  CHECK(ref.area("ALL") != nullptr);
  CHECK(ref.funding_source("1099") != nullptr);
  CHECK(ref.funding_source("0518") != nullptr);
  CHECK(ref.directorate("NOPE") == nullptr);
  REQUIRE(ref.allowed_categories.count(2024) == 1);
  CHECK(ref.allowed_categories.at(2024) ==
        std::vector<Category>{Category::kWork, Category::kStudy});
  CHECK(ref.allowed_categories.at(2022).size() == 4);
}

TEST_CASE("a missing reference folder is reported naming the file", "[validate]") {
  auto loaded = ReferenceData::load(ergon::testing::reference_dir() / "no-such-folder");
  REQUIRE_FALSE(loaded.has_value());
  CHECK(loaded.error().code == ErrorCode::kNotFound);
  CHECK_THAT(loaded.error().message, Contains("directorates.csv"));
}

TEST_CASE("a complete and consistent proposal passes every rule", "[validate]") {
  auto p = valid_proposal();
  auto errors = check_proposal(p, reference());
  INFO(all_messages(errors));
  CHECK(errors.empty());
  CHECK(validate_proposal(p, reference()).has_value());
}

TEST_CASE("the valid proposal passes when built from its text fields", "[validate]") {
  Proposal p;
  p.year = 2024;
  FieldValues values = {
      {"directorate", "DTE"},
      {"area", "HER-CITY"},
      {"category", "work"},
      {"ka_code", "30.7323.1"},
      {"title", "Ανάπλαση οδού"},
      {"new_or_continuing", "new"},
      {"total_budget", "1.500.000"},
      {"allocation", "800.000"},
      {"funding", "1099=300.000|0518=500.000"},
      {"status", "maturing"},
      {"priority", "A"},
  };
  auto applied = apply_values(p, values);
  INFO((applied ? std::string() : applied.error().message));
  REQUIRE(applied.has_value());
  CHECK(p.ka_code->canonical() == "30-7323.001");
  CHECK(p.funding == std::vector<FundingLine>{{"0518", euros(500'000)}, {"1099", euros(300'000)}});
  auto errors = check_proposal(p, reference());
  INFO(all_messages(errors));
  CHECK(errors.empty());
}

TEST_CASE("an unknown or missing directorate is refused naming it", "[validate]") {
  auto p = valid_proposal();
  p.directorate = "XYZ";
  require_one_error(p, {"directorate: 'XYZ'", "directorates.csv"});
  p.directorate = "";
  require_one_error(p, {"directorate: is required"});
}

TEST_CASE("an unknown or missing area is refused naming it", "[validate]") {
  auto p = valid_proposal();
  p.area = "ATLANTIS";
  require_one_error(p, {"area: 'ATLANTIS'", "areas.csv"});
  p.area = "";
  require_one_error(p, {"area: is required"});
  p.area = "ALL";
  CHECK(check_proposal(p, reference()).empty());
}

TEST_CASE("a title must have 3 to 500 characters, counted as characters not bytes", "[validate]") {
  auto p = valid_proposal();
  SECTION("two characters are too few") {
    p.title = "Αβ";
    require_one_error(p, {"title: 'Αβ'", "has 2 characters", "3 to 500"});
  }
  SECTION("an empty title is too short") {
    p.title = "";
    require_one_error(p, {"title: ''", "has 0 characters"});
  }
  SECTION("501 characters are too many") {
    p.title = repeat("ά", 501);
    require_one_error(p, {"title: '" + p.title + "'", "has 501 characters", "3 to 500"});
  }
  SECTION("3 and 500 characters are fine, even when they take twice as many bytes") {
    auto length = GENERATE(std::size_t{3}, std::size_t{500});
    p.title = repeat("ά", length);
    auto errors = check_proposal(p, reference());
    INFO(all_messages(errors));
    CHECK(errors.empty());
  }
}

TEST_CASE("a category the year's programme does not allow is refused naming it", "[validate]") {
  auto p = valid_proposal();
  p.ka_code.reset();  // a supply has no 73xx code; keep the one error under test
  p.category = Category::kSupply;
  require_one_error(p, {"category: 'supply'", "2024", "allowed: work, study"});
  p.category = Category::kService;
  require_one_error(p, {"category: 'service'", "2024"});
  p.year = 2022;  // earlier programmes also listed supplies and services
  CHECK(check_proposal(p, reference()).empty());
}

TEST_CASE("a year without a programme in the reference data is refused naming it", "[validate]") {
  auto p = valid_proposal();
  p.year = 1999;
  require_one_error(p, {"year: 1999", "2022, 2023, 2024, 2025"});
}

TEST_CASE("a ΚΑ code whose class does not fit the category is refused naming both", "[validate]") {
  auto p = valid_proposal();
  p.category = Category::kStudy;
  require_one_error(p, {"ka_code: '30-7323.001'", "category 'study'"});
  p.ka_code = ka("30-7413.002");
  CHECK(check_proposal(p, reference()).empty());
  p.ka_code.reset();  // the code is optional: often assigned late by Budget
  CHECK(check_proposal(p, reference()).empty());
}

TEST_CASE("a total budget of zero is refused", "[validate]") {
  auto p = valid_proposal();
  p.total_budget = euros(0);
  p.allocation = euros(0);
  p.funding.clear();
  require_one_error(p, {"total_budget: 0,00", "more than 0"});
}

TEST_CASE("paid to date above the total budget is refused naming both amounts", "[validate]") {
  auto p = valid_proposal();
  p.paid_to_date = Money::from_cents(150'000'001);
  require_one_error(p, {"paid_to_date: 1.500.000,01", "total budget 1.500.000,00"});
  p.paid_to_date = euros(700'000);  // exactly total minus allocation
  CHECK(check_proposal(p, reference()).empty());
}

TEST_CASE("an allocation above the total budget minus paid to date is refused", "[validate]") {
  auto p = valid_proposal();
  p.paid_to_date = Money::from_cents(70'000'001);
  require_one_error(p, {"allocation: 800.000,00", "minus paid to date, 799.999,99"});
}

TEST_CASE("a funding line with an unknown source is refused naming the source", "[validate]") {
  auto p = valid_proposal();
  p.funding = {FundingLine{"0518", euros(500'000)}, FundingLine{"9999", euros(300'000)}};
  require_one_error(p, {"funding: '9999'", "funding-sources.csv"});
}

TEST_CASE("a funding source given twice is refused naming it", "[validate]") {
  auto p = valid_proposal();
  p.funding = {FundingLine{"1099", euros(500'000)}, FundingLine{"1099", euros(300'000)}};
  require_one_error(p, {"funding: source '1099' appears twice"});
}

TEST_CASE("a funding amount of zero is refused naming the source", "[validate]") {
  auto p = valid_proposal();
  p.funding = {FundingLine{"0518", euros(800'000)}, FundingLine{"1099", euros(0)}};
  require_one_error(p, {"funding: the amount of '1099', 0,00", "more than 0"});
}

TEST_CASE("funding that does not add up to the allocation to the cent is refused", "[validate]") {
  auto p = valid_proposal();
  p.funding = {FundingLine{"0518", Money::from_cents(49'999'999)},
               FundingLine{"1099", euros(300'000)}};
  require_one_error(p,
                    {"funding: the sources add up to 799.999,99", "the allocation is 800.000,00"});
  p.allocation = euros(0);
  p.funding = {FundingLine{"1099", euros(1)}};
  require_one_error(p, {"add up to 1,00", "the allocation is 0,00"});
}

TEST_CASE("an allocation without any funding line is refused", "[validate]") {
  auto p = valid_proposal();
  p.funding.clear();
  require_one_error(p, {"funding: an allocation of 800.000,00 needs at least one funding source"});
  p.allocation = euros(0);  // no allocation, no funding: fine
  CHECK(check_proposal(p, reference()).empty());
}

TEST_CASE("remarks longer than 2000 characters are refused", "[validate]") {
  auto p = valid_proposal();
  p.remarks = repeat("ή", 2001);
  require_one_error(p, {"remarks: has 2001 characters", "2000"});
  p.remarks = repeat("ή", 2000);
  CHECK(check_proposal(p, reference()).empty());
}

TEST_CASE("every broken rule is reported, and validate joins them first to last", "[validate]") {
  auto p = valid_proposal();
  p.directorate = "XYZ";
  p.area = "ATLANTIS";
  p.remarks = repeat("x", 2001);
  auto errors = check_proposal(p, reference());
  REQUIRE(errors.size() == 3);
  auto status = validate_proposal(p, reference());
  REQUIRE_FALSE(status.has_value());
  CHECK(status.error().code == ErrorCode::kInvalidArgument);
  CHECK(status.error().message ==
        errors[0].message + "; " + errors[1].message + "; " + errors[2].message);
  CHECK_THAT(status.error().message, StartsWith("directorate: 'XYZ'"));
}

TEST_CASE("check_required lists every required field missing from a new proposal", "[validate]") {
  auto errors = check_required(FieldValues{});
  std::vector<std::string> messages;
  for (const auto& e : errors) {
    CHECK(e.code == ErrorCode::kInvalidArgument);
    messages.push_back(e.message);
  }
  CHECK(messages == std::vector<std::string>{
                        "directorate: is required for a new proposal",
                        "title: is required for a new proposal",
                        "category: is required for a new proposal",
                        "new_or_continuing: is required for a new proposal",
                        "area: is required for a new proposal",
                        "total_budget: is required for a new proposal",
                        "status: is required for a new proposal",
                        "priority: is required for a new proposal",
                    });
}

TEST_CASE("check_required accepts complete values and counts blank text as missing", "[validate]") {
  FieldValues values = {{"directorate", "DTE"}, {"title", "Ανάπλαση"},
                        {"category", "work"},   {"new_or_continuing", "new"},
                        {"area", "ALL"},        {"total_budget", "1.000"},
                        {"status", "maturing"}, {"priority", "B"}};
  CHECK(check_required(values).empty());
  values["title"] = "  \t ";
  auto errors = check_required(values);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors.front().message, StartsWith("title:"));
}

TEST_CASE("an enum field refuses a value outside its set and lists what is allowed",
          "[validate][fields]") {
  auto [field, text, allowed] = GENERATE(table<std::string, std::string, std::string>({
      {"status", "xyz", "maturing, tendering, contracted, completed, removed"},
      {"category", "ergo", "work, study, supply, service"},
      {"new_or_continuing", "old", "new, continuing"},
      {"priority", "D", "A, B, C"},
      {"state", "approved", "draft, submitted, included, deferred, rejected, withdrawn"},
      {"strategic_plans", "SOAP|NOPE", "SOAP, SVAA, SMART, RESILIENT, TOURISM, LLL, WASTE, SDAE"},
  }));
  CAPTURE(field, text);
  Proposal p;
  auto ok = set_field(p, field, text);
  REQUIRE_FALSE(ok.has_value());
  CHECK(ok.error().code == ErrorCode::kInvalidArgument);
  std::string bad = field == "strategic_plans" ? "NOPE" : text;
  CHECK(ok.error().message == field + ": '" + bad + "' is not allowed; use one of " + allowed);
}

TEST_CASE("enum values are read ignoring ASCII case and surrounding spaces", "[validate][fields]") {
  Proposal p;
  REQUIRE(set_field(p, "status", " Contracted ").has_value());
  CHECK(p.status == ergon::model::WorkStatus::kContracted);
  REQUIRE(set_field(p, "category", "STUDY").has_value());
  CHECK(p.category == Category::kStudy);
  REQUIRE(set_field(p, "priority", "c").has_value());
  CHECK(p.priority == ergon::model::Priority::kC);
  REQUIRE(set_field(p, "strategic_plans", "smart | SOAP|smart").has_value());
  CHECK(p.strategic_plans ==
        std::vector<ergon::model::StrategicPlan>{ergon::model::StrategicPlan::kSoap,
                                                 ergon::model::StrategicPlan::kSmart});
}

TEST_CASE("a bad money, year, id or text value names the field", "[validate][fields]") {
  auto [field, text, part] = GENERATE(table<std::string, std::string, std::string>({
      {"total_budget", "abc", "total_budget: 'abc' is not an amount"},
      {"paid_to_date", "-5", "paid_to_date: '-5' is negative"},
      {"allocation", "1,2,3", "allocation: '1,2,3'"},
      {"funding", "1099=abc", "funding: 'abc'"},
      {"funding", "=5", "funding: '=5' has no source code"},
      {"year", "24", "year: '24' is not a year"},
      {"year", "1999", "year: '1999' is not a year"},
      {"id", "xyz", "id: 'xyz' is not an id"},
      {"predecessor_id", "12", "predecessor_id: '12' is not an id"},
      {"ka_code", "30-7323", "ka_code: '30-7323'"},
      {"title", "bad\x01", "title: the text has a control character"},
      {"remarks", "bad\xFF", "remarks: the text is not valid UTF-8"},
  }));
  CAPTURE(field, text);
  Proposal p;
  auto ok = set_field(p, field, text);
  REQUIRE_FALSE(ok.has_value());
  CHECK(ok.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(ok.error().message, StartsWith(part));
}

TEST_CASE("an unknown field name is a usage error listing the fields", "[validate][fields]") {
  Proposal p;
  auto ok = set_field(p, "colour", "red");
  REQUIRE_FALSE(ok.has_value());
  CHECK(ok.error().code == ErrorCode::kUsage);
  CHECK_THAT(ok.error().message,
             Contains("'colour' is not a field") && Contains("directorate, ka_code, title"));
}

TEST_CASE("a lone funding source takes the whole allocation, applied after it",
          "[validate][fields]") {
  Proposal p;
  FieldValues values = {
      {"funding", "1099"}, {"allocation", "800.000"}, {"total_budget", "1.500.000"}};
  REQUIRE(apply_values(p, values).has_value());
  CHECK(p.allocation == euros(800'000));
  CHECK(p.funding == std::vector<FundingLine>{{"1099", euros(800'000)}});
}

TEST_CASE("funding lines are sorted by source and an empty text clears them",
          "[validate][fields]") {
  Proposal p;
  REQUIRE(set_field(p, "funding", " 1099 = 300.000 | 0518=500.000,00 ").has_value());
  CHECK(p.funding == std::vector<FundingLine>{{"0518", euros(500'000)}, {"1099", euros(300'000)}});
  REQUIRE(set_field(p, "funding", "").has_value());
  CHECK(p.funding.empty());
}

TEST_CASE("an empty text clears the optional ΚΑ code and predecessor", "[validate][fields]") {
  auto p = valid_proposal();
  p.predecessor_id = ProposalId::random();
  REQUIRE(set_field(p, "ka_code", " ").has_value());
  REQUIRE(set_field(p, "predecessor_id", "").has_value());
  CHECK_FALSE(p.ka_code.has_value());
  CHECK_FALSE(p.predecessor_id.has_value());
}

TEST_CASE("the canonical and the Greek values of every field apply back to the same proposal",
          "[validate][fields]") {
  auto p = valid_proposal();
  p.predecessor_id = *ProposalId::parse("fedcba9876543210fedcba9876543210");
  p.strategic_plans = {ergon::model::StrategicPlan::kSvaa, ergon::model::StrategicPlan::kSdae};
  p.paid_to_date = Money::from_cents(12'345);
  p.allocation = Money::from_cents(80'000'000 - 12'345);
  p.funding = {FundingLine{"0518", euros(500'000)},
               FundingLine{"1099", Money::from_cents(30'000'000 - 12'345)}};
  p.state = ergon::model::State::kRejected;
  p.decision_reason = "Εκτός προϋπολογισμού";

  auto canonical = ergon::model::all_values(p);
  CHECK(canonical.at("total_budget") == "1500000.00");
  CHECK(canonical.at("funding") == "0518=500000.00|1099=299876.55");
  CHECK(canonical.at("strategic_plans") == "SVAA|SDAE");
  Proposal from_canonical;
  REQUIRE(apply_values(from_canonical, canonical).has_value());
  CHECK(from_canonical == p);

  FieldValues greek;
  for (const auto& f : ergon::model::all_fields())
    greek.emplace(std::string(f.name),
                  ergon::model::field_text(p, f.name, ergon::model::TextForm::kGreek));
  CHECK(greek.at("funding") == "0518=500.000,00|1099=299.876,55");
  Proposal from_greek;
  REQUIRE(apply_values(from_greek, greek).has_value());
  CHECK(from_greek == p);
}
