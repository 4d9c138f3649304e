#pragma once
// HybridClock: a hybrid logical clock (Kulkarni et al.). Timestamps follow wall time but never
// go backwards and order causally related events even when wall clocks disagree. Client
// times are for display and audit only; the server never picks a winner by them.
// Holds a reference to a Clock that must outlive it. Not thread-safe.

#include <compare>
#include <cstdint>

#include "shared/core/clock.h"

namespace ergon::core {

struct Hlc {
  std::int64_t wall_ms = 0;
  std::uint32_t logical = 0;

  friend auto operator<=>(const Hlc&, const Hlc&) = default;
};

class HybridClock {
 public:
  explicit HybridClock(const Clock& clock, Hlc last = {}) : clock_(clock), last_(last) {}

  /// A timestamp greater than every one this clock issued or observed.
  Hlc now();
  /// Observes a timestamp from elsewhere (a server or another device) and advances past it.
  Hlc observe(Hlc remote);
  Hlc last() const { return last_; }

 private:
  const Clock& clock_;
  Hlc last_;
};

}  // namespace ergon::core
