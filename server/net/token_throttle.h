#pragma once
// TokenThrottle: slows down repeated bad tokens for one enrolment, so a stolen enrolment id
// cannot be used to guess its secret at network speed. Keyed by the enrolment a token names,
// not by address: honest clients share a NAT (and the load test shares 127.0.0.1). The first
// kFreeFailures failures cost nothing; after that attempts for the enrolment are spaced by a
// backoff that doubles per failure up to kMaxBackoff, and an attempt that would wait longer
// than kMaxWait is refused at once. A success clears the enrolment's record.
// Pure logic with the time passed in; not thread-safe (the io_context's thread).

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace ergon::server {

class TokenThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kFreeFailures = 3;
  static constexpr std::chrono::milliseconds kFirstBackoff{250};
  static constexpr std::chrono::milliseconds kMaxBackoff{4'000};
  static constexpr std::chrono::milliseconds kMaxWait{8'000};
  static constexpr std::size_t kMaxTracked = 4096;

  /// Reserves a slot for an attempt on `enrolment` at `now`: how long to wait before checking
  /// its token, or nullopt when the wait would exceed kMaxWait (refuse without checking).
  std::optional<std::chrono::milliseconds> admit_attempt(const std::string& enrolment,
                                                         Clock::time_point now);
  void record_failure(const std::string& enrolment, Clock::time_point now);
  void record_success(const std::string& enrolment);
  int failures(const std::string& enrolment) const;

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point next_slot{};
  };
  std::chrono::milliseconds backoff(int failures) const;
  void forget_old(Clock::time_point now);

  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ergon::server
