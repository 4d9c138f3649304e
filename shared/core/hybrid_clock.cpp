#include "shared/core/hybrid_clock.h"

#include <algorithm>

namespace ergon::core {

Hlc HybridClock::now() {
  std::int64_t wall = clock_.now_ms();
  if (wall > last_.wall_ms)
    last_ = Hlc{wall, 0};
  else
    ++last_.logical;
  return last_;
}

Hlc HybridClock::observe(Hlc remote) {
  std::int64_t wall = clock_.now_ms();
  std::int64_t top = std::max({wall, last_.wall_ms, remote.wall_ms});
  std::uint32_t logical = 0;
  if (top == last_.wall_ms && top == remote.wall_ms)
    logical = std::max(last_.logical, remote.logical) + 1;
  else if (top == last_.wall_ms)
    logical = last_.logical + 1;
  else if (top == remote.wall_ms)
    logical = remote.logical + 1;
  last_ = Hlc{top, logical};
  return last_;
}

}  // namespace ergon::core
