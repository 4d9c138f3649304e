#include "server/net/token_throttle.h"

#include <catch2/catch.hpp>

using ergon::server::TokenThrottle;
using namespace std::chrono_literals;

TEST_CASE("the first failures of an enrolment cost nothing", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < TokenThrottle::kFreeFailures; ++i) {
    CHECK(throttle.admit_attempt("abc", now) == 0ms);
    throttle.record_failure("abc", now);
  }
  CHECK(throttle.failures("abc") == TokenThrottle::kFreeFailures);
}

TEST_CASE("after the free failures each attempt waits a doubling backoff", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < TokenThrottle::kFreeFailures + 1; ++i) throttle.record_failure("abc", now);
  CHECK(throttle.admit_attempt("abc", now) == 250ms);
  throttle.record_failure("abc", now + 250ms);
  // Concurrent attempts queue one backoff apart rather than all waiting the same time.
  auto first = throttle.admit_attempt("abc", now + 250ms);
  auto second = throttle.admit_attempt("abc", now + 250ms);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(*second > *first);
  // Another enrolment is not slowed by this one's failures.
  CHECK(throttle.admit_attempt("other", now) == 0ms);
}

TEST_CASE("an attempt that would wait too long is refused outright", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < 20; ++i) throttle.record_failure("abc", now);
  bool refused = false;
  for (int i = 0; i < 10 && !refused; ++i) refused = !throttle.admit_attempt("abc", now);
  CHECK(refused);
}

TEST_CASE("a success clears the enrolment's record", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (int i = 0; i < 10; ++i) throttle.record_failure("abc", now);
  throttle.record_success("abc");
  CHECK(throttle.failures("abc") == 0);
  CHECK(throttle.admit_attempt("abc", now) == 0ms);
}

TEST_CASE("the record stays bounded however many enrolments are guessed", "[throttle]") {
  TokenThrottle throttle;
  auto now = TokenThrottle::Clock::now();
  for (std::size_t i = 0; i < 3 * TokenThrottle::kMaxTracked; ++i)
    throttle.record_failure(std::to_string(i), now + std::chrono::hours(static_cast<long>(i)));
  CHECK(throttle.failures(std::to_string(3 * TokenThrottle::kMaxTracked - 1)) == 1);
}
