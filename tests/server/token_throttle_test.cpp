#include "server/net/token_throttle.h"

#include <string>

#include <catch2/catch.hpp>

using ergon::server::TokenThrottle;
using namespace std::chrono_literals;

namespace {
const std::string kHere = "192.0.2.1";  // the honest device's address
}  // namespace

TEST_CASE("the first failures of an enrolment cost nothing", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < TokenThrottle::kFreeFailures; ++i) {
    CHECK(throttle.admit_attempt("abc", kHere, now) == 0ms);
    throttle.record_failure("abc", kHere, now);
  }
  CHECK(throttle.failures("abc", kHere) == TokenThrottle::kFreeFailures);
}

TEST_CASE("after the free failures each attempt waits a doubling backoff", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < TokenThrottle::kFreeFailures + 1; ++i)
    throttle.record_failure("abc", kHere, now);
  CHECK(throttle.admit_attempt("abc", kHere, now) == 250ms);
  throttle.record_failure("abc", kHere, now + 250ms);
  // Concurrent attempts queue one backoff apart rather than all waiting the same time.
  auto first = throttle.admit_attempt("abc", kHere, now + 250ms);
  auto second = throttle.admit_attempt("abc", kHere, now + 250ms);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*second > *first);
  // Another enrolment is not slowed by this one's failures.
  CHECK(throttle.admit_attempt("other", kHere, now) == 0ms);
}

TEST_CASE("an attempt that would wait too long is refused outright", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < 20; ++i) throttle.record_failure("abc", kHere, now);
  bool refused = false;
  for (int i = 0; i < 10 && !refused; ++i) refused = !throttle.admit_attempt("abc", kHere, now);
  CHECK(refused);
}

TEST_CASE("a success clears the enrolment's record", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < 10; ++i) throttle.record_failure("abc", kHere, now);
  throttle.record_success("abc", kHere);
  CHECK(throttle.failures("abc", kHere) == 0);
  CHECK(throttle.admit_attempt("abc", kHere, now) == 0ms);
}

TEST_CASE("the record stays bounded however many enrolments are guessed", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (std::size_t i = 0; i < 3 * TokenThrottle::kMaxTracked; ++i)
    throttle.record_failure(std::to_string(i), kHere,
                            now + std::chrono::hours(static_cast<long>(i)));
  CHECK(throttle.failures(std::to_string(3 * TokenThrottle::kMaxTracked - 1), kHere) == 1);
  CHECK(throttle.tracked() <= TokenThrottle::kMaxTracked);
}

TEST_CASE("bad tokens from one address never slow the device at another", "[throttle][hardening]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < 40; ++i) throttle.record_failure("abc", "203.0.113.9", now);
  auto guesser = throttle.admit_attempt("abc", "203.0.113.9", now);
  CHECK((!guesser || *guesser > 0ms));                      // the guesser waits
  CHECK(throttle.admit_attempt("abc", kHere, now) == 0ms);  // the real device does not
}

TEST_CASE("a flood of other ids never clears a backoff in force", "[throttle][hardening]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < 40; ++i) throttle.record_failure("abc", "203.0.113.9", now);
  // Past the table's size in fresh ids, all within the same minute.
  for (std::size_t i = 0; i < 2 * TokenThrottle::kMaxTracked; ++i)
    throttle.record_failure("id" + std::to_string(i), "198.51.100.7", now);
  CHECK(throttle.tracked() <= TokenThrottle::kMaxTracked);
  CHECK(throttle.failures("abc", "203.0.113.9") == 40);
  auto guesser = throttle.admit_attempt("abc", "203.0.113.9", now);
  CHECK((!guesser || *guesser > 0ms));
}
