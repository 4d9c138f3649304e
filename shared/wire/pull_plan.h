#pragma once
// Where a pull stands between pages, and so the next request: the cursor (a snapshot sets it,
// every newer entry applied moves it), and a bootstrap's progress (snapshot parts, then the
// device's own entries). The client's pull loop keeps one; the server answering an offline
// bundle keeps one to write the pages the client will apply in the same order. Value type.

#include <cstdint>
#include <string>

#include "shared/proto/ergon.pb.h"

namespace ergon::wire {

struct PullPlan {
  std::uint64_t cursor = 0;
  bool bootstrap = false;
  bool has_first_part = false;
  std::string snapshot_after;
  bool snapshot_done = false;
  std::uint64_t own_after = 0;

  PullRequest request(std::uint32_t max_entries) const {
    PullRequest r;
    r.set_cursor(cursor);
    r.set_max_entries(max_entries);
    r.set_bootstrap(bootstrap);
    r.set_snapshot_after(snapshot_after);
    r.set_snapshot_done(snapshot_done);
    r.set_own_after(own_after);
    return r;
  }

  /// What applying `page` does to where the pull stands.
  void advance(const PullReply& page) {
    if (bootstrap && page.has_snapshot()) {
      if (!has_first_part) cursor = page.snapshot().cursor();
      has_first_part = true;
      snapshot_after = page.snapshot_more() ? page.snapshot_next() : std::string();
      snapshot_done = !page.snapshot_more();
    }
    for (const auto* list : {&page.own(), &page.entries()})
      for (const auto& e : *list)
        if (e.outcome().position().seq() > cursor) cursor = e.outcome().position().seq();
    if (!page.own().empty()) own_after = page.own(page.own_size() - 1).change().device_seq();
    if (bootstrap && snapshot_done && !page.own_more()) bootstrap = false;
  }
};

}  // namespace ergon::wire
