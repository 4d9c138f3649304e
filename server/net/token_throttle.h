#pragma once
// TokenThrottle: slows down repeated bad tokens for one enrolment from one address, so an
// enrolment id read in the audit log cannot be used to guess its secret at network speed, nor
// to lock the real device out: the device's own address keeps its own record, so bad tokens
// sent from elsewhere never delay it. The first kFreeFailures failures cost nothing; after that
// attempts are spaced by a backoff that doubles per failure up to kMaxBackoff, and an attempt
// that would wait longer than kMaxWait is refused at once. A success clears the record of its
// enrolment and address. At kMaxTracked records, the ones whose backoff has ended go first,
// then the one that ends soonest: no flood of other ids ever clears a record still in force.
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
                                                         const std::string& address,
                                                         Clock::time_point now);
  void record_failure(const std::string& enrolment, const std::string& address,
                      Clock::time_point now);
  void record_success(const std::string& enrolment, const std::string& address);
  int failures(const std::string& enrolment, const std::string& address) const;
  std::size_t tracked() const { return entries_.size(); }

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point next_slot{};
  };
  std::chrono::milliseconds backoff(int failures) const;
  void make_room(Clock::time_point now);
  static std::string key(const std::string& enrolment, const std::string& address) {
    return enrolment + '@' + address;
  }

  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace ergon::server
