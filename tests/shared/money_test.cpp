#include "shared/model/money.h"

#include <cstdint>
#include <limits>
#include <string>

#include <catch2/catch.hpp>

#include "shared/core/error.h"

using Catch::Matchers::Contains;
using ergon::core::ErrorCode;
using ergon::model::Money;

namespace {
constexpr std::int64_t kMaxCents = std::numeric_limits<std::int64_t>::max();
}  // namespace

TEST_CASE("a Greek amount with thousands dots and decimal comma parses to cents", "[money]") {
  REQUIRE(Money::parse("1.500,5")->cents() == 150050);
  REQUIRE(Money::parse("1.500")->cents() == 150000);
  REQUIRE(Money::parse("1234567.89")->cents() == 123456789);
  REQUIRE(Money::parse("0,01")->cents() == 1);
}

TEST_CASE("every accepted form of an amount parses to the right number of cents", "[money]") {
  auto [text, cents] = GENERATE(table<std::string, std::int64_t>({
      {"1.500", 150000},                   // a lone dot before three digits groups thousands
      {"1.500,5", 150050},                 // one decimal digit means tens of cents
      {"1.500,50", 150050},                //
      {"1234567.89", 123456789},           // the plain form
      {"1.234.567,89", 123456789},         // the Greek form
      {"0,01", 1},                         //
      {"12.5", 1250},                      // a lone dot before one digit is a decimal point
      {"12.50", 1250},                     //
      {"1.00", 100},                       //
      {"1.234.567", 123456700},            // several thousands dots
      {"0", 0},                            //
      {"0,00", 0},                         //
      {"42", 4200},                        //
      {"1.500 \xE2\x82\xAC", 150000},      // trailing euro sign after a space
      {"1.500,00\xE2\x82\xAC", 150000},    // trailing euro sign without a space
      {"  1.500,5  ", 150050},             // surrounding spaces
      {"\t12.5\r\n", 1250},                // surrounding tabs and line breaks
      {"92233720368547758,07", kMaxCents}  // the largest amount there is
  }));
  CAPTURE(text);
  auto money = Money::parse(text);
  INFO((money ? std::string() : money.error().message));
  REQUIRE(money.has_value());
  CHECK(money->cents() == cents);
}

TEST_CASE("text that is not an amount is refused with a message that names the text", "[money]") {
  auto text = GENERATE(as<std::string>{}, "abc", "1,2,3", "1.2345", "12,345", "", "   ", "1,234.56",
                       "1.500,", ",5", ".", "1..500", "12.345.6", "1234.567", "1 500", "+5", "5x",
                       "1,5a", "\xE2\x82\xAC");
  CAPTURE(text);
  auto money = Money::parse(text);
  REQUIRE_FALSE(money.has_value());
  CHECK(money.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(money.error().message, Contains("'" + text + "'"));
  CHECK_THAT(money.error().message, Contains("1.234.567,89"));  // says how to write it
}

TEST_CASE("a negative amount is refused with a message that says so", "[money]") {
  auto text = GENERATE(as<std::string>{}, "-5", "-0,01", " -1.500,00");
  auto money = Money::parse(text);
  REQUIRE_FALSE(money.has_value());
  CHECK(money.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(money.error().message, Contains("'" + text + "'") && Contains("negative"));
}

TEST_CASE("an amount beyond the int64 range of cents is refused, not wrapped", "[money]") {
  auto text = GENERATE(as<std::string>{}, "999999999999999999999", "92233720368547759",
                       "92.233.720.368.547.759,00", "100000000000000000000000000000,00");
  CAPTURE(text);
  auto money = Money::parse(text);
  REQUIRE_FALSE(money.has_value());
  CHECK(money.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(money.error().message, Contains("'" + text + "'") && Contains("too large") &&
                                        Contains("92.233.720.368.547.758,07"));
}

// Bug: money.cpp computes `euros * 100 + cents` after checking only the euros, so the cents of
// the largest euro amount overflow int64 (undefined behaviour; in practice a negative amount).
TEST_CASE("cents that push the largest euro amount past int64 are refused", "[money]") {
  auto text = GENERATE(as<std::string>{}, "92233720368547758,08", "92.233.720.368.547.758,99");
  CAPTURE(text);
  auto money = Money::parse(text);
  INFO((money ? "parsed to " + std::to_string(money->cents()) + " cents" : std::string()));
  CHECK_FALSE(money.has_value());
}

TEST_CASE("amounts print in the Greek and the plain form", "[money]") {
  auto [cents, greek, plain] = GENERATE(table<std::int64_t, std::string, std::string>({
      {123456789, "1.234.567,89", "1234567.89"},
      {1, "0,01", "0.01"},
      {0, "0,00", "0.00"},
      {10, "0,10", "0.10"},
      {100, "1,00", "1.00"},
      {99999, "999,99", "999.99"},
      {100000, "1.000,00", "1000.00"},
      {150000000, "1.500.000,00", "1500000.00"},
      {kMaxCents, "92.233.720.368.547.758,07", "92233720368547758.07"},
  }));
  auto money = Money::from_cents(cents);
  CHECK(money.greek() == greek);
  CHECK(money.plain() == plain);
  CHECK(money.greek_euro() == greek + " \xE2\x82\xAC");
}

TEST_CASE("every printed form parses back to the same amount", "[money]") {
  auto cents = GENERATE(std::int64_t{0}, std::int64_t{1}, std::int64_t{5}, std::int64_t{99},
                        std::int64_t{100}, std::int64_t{12345}, std::int64_t{100000},
                        std::int64_t{123456789}, kMaxCents);
  auto money = Money::from_cents(cents);
  for (const auto& text : {money.greek(), money.plain(), money.greek_euro()}) {
    CAPTURE(text);
    auto back = Money::parse(text);
    REQUIRE(back.has_value());
    CHECK(*back == money);
  }
}

TEST_CASE("a negative difference prints with a minus sign", "[money]") {
  auto difference = Money::from_cents(100).minus(Money::from_cents(250));
  CHECK(difference.cents() == -150);
  CHECK(difference.greek() == "-1,50");
  CHECK(difference.plain() == "-1.50");
}

TEST_CASE("plus adds amounts and refuses a sum beyond int64", "[money]") {
  auto sum = Money::from_cents(150000).plus(Money::from_cents(50));
  REQUIRE(sum.has_value());
  CHECK(sum->cents() == 150050);

  auto at_limit = Money::from_cents(kMaxCents - 1).plus(Money::from_cents(1));
  REQUIRE(at_limit.has_value());
  CHECK(at_limit->cents() == kMaxCents);

  auto over = Money::from_cents(kMaxCents).plus(Money::from_cents(1));
  REQUIRE_FALSE(over.has_value());
  CHECK(over.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(over.error().message,
             Contains("92.233.720.368.547.758,07") && Contains("0,01") && Contains("too large"));
}

TEST_CASE("amounts compare by their cents", "[money]") {
  CHECK(Money::from_cents(1) < Money::from_cents(2));
  CHECK(Money::from_cents(2) == *Money::parse("0,02"));
  CHECK(Money{} == Money::from_cents(0));
}
