#include "server/net/token_throttle.h"

#include <algorithm>

namespace ergon::server {

std::chrono::milliseconds TokenThrottle::backoff(int failures) const {
  if (failures <= kFreeFailures) return std::chrono::milliseconds{0};
  int doublings = std::min(failures - kFreeFailures - 1, 16);
  return std::min(kMaxBackoff, kFirstBackoff * (1 << doublings));
}

std::optional<std::chrono::milliseconds> TokenThrottle::admit_attempt(const std::string& enrolment,
                                                                      const std::string& address,
                                                                      Clock::time_point now) {
  auto it = entries_.find(key(enrolment, address));
  if (it == entries_.end() || it->second.failures < kFreeFailures)
    return std::chrono::milliseconds{0};
  auto& entry = it->second;
  auto slot = std::max(entry.next_slot, now);
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(slot - now);
  if (wait > kMaxWait) return std::nullopt;
  // Concurrent attempts queue one backoff apart: parallel connections do not multiply guesses.
  entry.next_slot = slot + backoff(entry.failures + 1);
  return wait;
}

void TokenThrottle::record_failure(const std::string& enrolment, const std::string& address,
                                   Clock::time_point now) {
  auto k = key(enrolment, address);
  if (entries_.size() >= kMaxTracked && !entries_.contains(k)) make_room(now);
  auto& entry = entries_[k];
  ++entry.failures;
  entry.next_slot = std::max(entry.next_slot, now + backoff(entry.failures));
}

void TokenThrottle::record_success(const std::string& enrolment, const std::string& address) {
  entries_.erase(key(enrolment, address));
}

int TokenThrottle::failures(const std::string& enrolment, const std::string& address) const {
  auto it = entries_.find(key(enrolment, address));
  return it == entries_.end() ? 0 : it->second.failures;
}

void TokenThrottle::make_room(Clock::time_point now) {
  // Records whose backoff ended long ago carry no protection worth the memory.
  std::erase_if(entries_, [&](const auto& item) {
    return item.second.next_slot + std::chrono::minutes(10) < now;
  });
  if (entries_.size() < kMaxTracked) return;
  // Still full of records in force: the one whose backoff ends soonest protects least.
  auto soonest = std::min_element(
      entries_.begin(), entries_.end(),
      [](const auto& a, const auto& b) { return a.second.next_slot < b.second.next_slot; });
  entries_.erase(soonest);
}

}  // namespace ergon::server
