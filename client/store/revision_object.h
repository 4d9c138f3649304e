#pragma once
// The group revisions of one entity as a home stores them: one row per entity holding a JSON
// object {"group": [epoch, seq, "device", "user", at_ms], ...}. A first sync writes a dozen
// revisions per proposal: one row for them instead of a dozen. SQLite reads and merges the
// objects (json_extract, json_patch), so no C++ parses them.

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/changelog/snapshot.h"

namespace ergon::client {

class RevisionObject {
 public:
  /// Adds the revision of `group` (once per group); `user` and `at_ms` say who made the change
  /// that set it, empty and 0 when the server did not say.
  void add(std::string_view group, const changelog::GroupRevision& revision,
           std::string_view user = {}, std::int64_t at_ms = 0);
  [[nodiscard]] bool empty() const { return text_.empty(); }
  /// The JSON object of the groups added since the last take, which starts a new one.
  [[nodiscard]] std::string take();

 private:
  std::string text_;
};

}  // namespace ergon::client
