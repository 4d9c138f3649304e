#include "shared/model/money.h"

#include <catch2/catch.hpp>

using ergon::model::Money;

TEST_CASE("a Greek amount with thousands dots and decimal comma parses to cents", "[money]") {
  REQUIRE(Money::parse("1.500,5")->cents() == 150050);
  REQUIRE(Money::parse("1.500")->cents() == 150000);
  REQUIRE(Money::parse("1234567.89")->cents() == 123456789);
  REQUIRE(Money::parse("0,01")->cents() == 1);
}
