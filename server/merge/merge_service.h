#pragma once
// MergeService: applies one pushed batch of a device's changes in one transaction. Envelope
// checks first (another device's change or a gap refuses the whole batch and logs nothing; a
// change seen before gets its original outcome, flagged duplicate), then merge::decide for each
// change in arrival order, then the log, the master state and the high-water mark, committed
// together before any outcome is returned. Holds a reference to the store, which must outlive
// it. Same thread as the store.

#include <span>
#include <vector>

#include "server/store/master_store.h"
#include "shared/changelog/change.h"
#include "shared/changelog/outcome.h"
#include "shared/core/result.h"
#include "shared/merge/permission.h"

namespace ergon::server {

/// Who is pushing: the authenticated client device and what its enrolment allows.
struct DeviceContext {
  core::DeviceId device_id;
  merge::Permission permission;
};

class MergeService {
 public:
  explicit MergeService(MasterStore& store) : store_(store) {}

  core::Result<std::vector<changelog::Outcome>> apply_batch(
      const DeviceContext& device, std::span<const changelog::Change> batch);

 private:
  MasterStore& store_;
};

}  // namespace ergon::server
