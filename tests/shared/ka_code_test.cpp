#include "shared/model/ka_code.h"

#include <string>

#include <catch2/catch.hpp>

#include "shared/core/error.h"
#include "shared/model/proposal.h"

using Catch::Matchers::Contains;
using ergon::core::ErrorCode;
using ergon::model::Category;
using ergon::model::check_ka_category;
using ergon::model::KaCode;

namespace {

KaCode ka(std::string_view text) {
  auto code = KaCode::parse(text);
  INFO((code ? std::string() : code.error().message));
  REQUIRE(code.has_value());
  return *code;
}

}  // namespace

TEST_CASE("a ΚΑ code with either separator after the service gets the canonical form",
          "[ka_code]") {
  auto [text, canonical] = GENERATE(table<std::string, std::string>({
      {"30.7323.1", "30-7323.001"},
      {"30-7323.0001", "30-7323.001"},
      {"30-7323.001", "30-7323.001"},
      {"30.7323.001", "30-7323.001"},
      {"30-7323.01", "30-7323.001"},
      {"30-7323.00001", "30-7323.001"},
      {"30-7323.0", "30-7323.000"},
      {"30-7323.00000", "30-7323.000"},
      {"30-7323.12", "30-7323.012"},
      {"30-7323.0120", "30-7323.120"},
      {"64-7413.1234", "64-7413.1234"},    // more than three digits are kept
      {"64-7413.01234", "64-7413.1234"},   // but without leading zeros
      {"64-7413.12345", "64-7413.12345"},  // a five-digit serial is kept whole
      {"  30-7323.004 ", "30-7323.004"},   // surrounding spaces are trimmed
  }));
  CAPTURE(text);
  auto code = KaCode::parse(text);
  INFO((code ? std::string() : code.error().message));
  REQUIRE(code.has_value());
  CHECK(code->canonical() == canonical);
}

TEST_CASE("the expense class is the four digits after the service", "[ka_code]") {
  CHECK(ka("30.7323.1").expense_class() == "7323");
  CHECK(ka("64-7413.12345").expense_class() == "7413");
}

TEST_CASE("two spellings of the same ΚΑ code are equal", "[ka_code]") {
  CHECK(ka("30.7323.1") == ka("30-7323.0001"));
  CHECK(ka("30-7323.001") != ka("30-7323.002"));
  CHECK(ka("30-7323.002") < ka("30-7323.010"));
}

TEST_CASE("text that is not a ΚΑ code is refused naming the text and the form", "[ka_code]") {
  auto [text, why] = GENERATE(table<std::string, std::string>({
      {"", "too short"},
      {"30-7323", "too short"},                           // no serial
      {"30-7323.", "too short"},                          //
      {"3-7323.001", "the service code is two digits"},   // too few service digits
      {"3A-7323.001", "the service code is two digits"},  // letters
      {"30_7323.001", "followed by '-' or '.'"},          // another separator
      {"30-732.0001", "the expense class is four digits"},
      {"30-73A3.001", "the expense class is four digits"},
      {"30-7323-001", "the expense class is followed by '.'"},  // missing dot
      {"30-73230001", "the expense class is followed by '.'"},
      {"30-7323.000001", "the serial is one to five digits"},  // six-digit serial
      {"30-7323.123456", "the serial is one to five digits"},
      {"30-7323.12a", "the serial is one to five digits"},
      {"30-7323.1 2", "the serial is one to five digits"},
      {"ΚΑ 30-7323.001", "the service code is two digits"},
  }));
  CAPTURE(text);
  auto code = KaCode::parse(text);
  REQUIRE_FALSE(code.has_value());
  CHECK(code.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(code.error().message,
             Contains("ka_code: '" + text + "'") && Contains(why) && Contains("30-7323.001"));
}

TEST_CASE("a work needs class 73xx and a study class 74xx", "[ka_code]") {
  CHECK(check_ka_category(ka("30-7323.001"), Category::kWork).has_value());
  CHECK(check_ka_category(ka("30-7311.001"), Category::kWork).has_value());
  CHECK(check_ka_category(ka("30-7413.001"), Category::kStudy).has_value());
  CHECK(check_ka_category(ka("10-6117.001"), Category::kSupply).has_value());
  CHECK(check_ka_category(ka("10-6117.001"), Category::kService).has_value());
}

TEST_CASE("a ΚΑ class that does not fit the category is refused naming both", "[ka_code]") {
  auto [text, category, name,
        fits] = GENERATE(table<std::string, Category, std::string, std::string>({
      {"30-7323.001", Category::kStudy, "study", "class 73xx is for category work"},
      {"30-7413.001", Category::kWork, "work", "class 74xx is for category study"},
      {"30-6117.001", Category::kWork, "work", "works need class 73xx and studies class 74xx"},
      {"30-6117.001", Category::kStudy, "study", "works need class 73xx and studies class 74xx"},
      {"30-7323.001", Category::kSupply, "supply", "class 73xx is for category work"},
      {"30-7323.001", Category::kService, "service", "class 73xx is for category work"},
      {"30-7413.001", Category::kSupply, "supply", "class 74xx is for category study"},
      {"30-7413.001", Category::kService, "service", "class 74xx is for category study"},
  }));
  CAPTURE(text, name);
  auto ok = check_ka_category(ka(text), category);
  REQUIRE_FALSE(ok.has_value());
  CHECK(ok.error().code == ErrorCode::kInvalidArgument);
  CHECK(ok.error().message ==
        "ka_code: '" + ka(text).canonical() + "' does not fit category '" + name + "': " + fits);
}
