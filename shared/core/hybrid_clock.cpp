#include "shared/core/hybrid_clock.h"

#include <algorithm>
#include <limits>

namespace ergon::core {
namespace {

// The successor of a timestamp at wall time `wall` with counter `logical`. When the counter is
// exhausted (a misbehaving peer), time moves on by a millisecond instead of wrapping back.
Hlc next_after(std::int64_t wall, std::uint32_t logical) {
  if (logical == std::numeric_limits<std::uint32_t>::max()) return Hlc{wall + 1, 0};
  return Hlc{wall, logical + 1};
}

}  // namespace

Hlc HybridClock::now() {
  std::int64_t wall = clock_.now_ms();
  last_ = wall > last_.wall_ms ? Hlc{wall, 0} : next_after(last_.wall_ms, last_.logical);
  return last_;
}

Hlc HybridClock::observe(Hlc remote) {
  std::int64_t wall = clock_.now_ms();
  std::int64_t top = std::max({wall, last_.wall_ms, remote.wall_ms});
  if (top == last_.wall_ms && top == remote.wall_ms)
    last_ = next_after(top, std::max(last_.logical, remote.logical));
  else if (top == last_.wall_ms)
    last_ = next_after(top, last_.logical);
  else if (top == remote.wall_ms)
    last_ = next_after(top, remote.logical);
  else
    last_ = Hlc{top, 0};
  return last_;
}

}  // namespace ergon::core
