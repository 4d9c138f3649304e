#include "server/merge/merge_service.h"

#include "shared/merge/decide.h"
#include "shared/merge/stages.h"

namespace ergon::server {

using core::ErrorCode;
using core::fail;

namespace {

// The whole batch passes the envelope checks before anything is logged.
core::Status check_envelopes(std::span<const changelog::Change> batch,
                             const core::DeviceId& device_id, std::uint64_t high_water) {
  std::uint64_t expected = high_water;
  for (const auto& change : batch) {
    switch (merge::check_envelope(change, device_id, expected)) {
      case merge::Envelope::kForeign:
        return fail(ErrorCode::kPermissionDenied,
                    "change " + changelog::change_id(change) +
                        " belongs to another device; a device pushes only its own changes");
      case merge::Envelope::kGap:
        return fail(ErrorCode::kProtocol, "change " + changelog::change_id(change) +
                                              " leaves a gap: the server expected " +
                                              std::to_string(expected + 1) +
                                              " next; an outbox entry was lost");
      case merge::Envelope::kNext:
        expected = change.device_seq;
        break;
      case merge::Envelope::kDuplicate:
        break;
    }
  }
  return {};
}

// Logged, so the device's sequence goes on without a gap, but not kept: a 10 MiB title in the
// log would reach every client on every bootstrap.
merge::Decision too_large(std::size_t size) {
  merge::Decision refused;
  refused.code = ErrorCode::kTooLarge;
  refused.reason = "the change carries " + std::to_string(size) +
                   " bytes of values; a change may carry at most " +
                   std::to_string(changelog::kMaxChangeBytes) +
                   " (your values are kept on your device: shorten them and save again)";
  return refused;
}

}  // namespace

core::Result<std::vector<changelog::Outcome>> MergeService::apply_batch(
    const DeviceContext& device, std::span<const changelog::Change> batch) {
  auto tx = store_.begin_batch();
  if (!tx) return fail(tx.error());
  // Read inside the write lock, never from a cache: another writer may have moved it.
  auto record = store_.device_by_client(device.device_id);
  if (!record) return fail(ErrorCode::kUnauthenticated, "this device is not bound to an enrolment");
  std::uint64_t high_water = record->high_water_mark;
  const Provenance by{record->device_id, record->role, record->directorate};

  ERGON_TRY(check_envelopes(batch, device.device_id, high_water));
  // The stages as committed now: a stage move since the device's hello counts.
  auto permission = device.permission;
  auto years = store_.years();
  if (!years) return fail(years.error());
  merge::set_years(permission, *years);

  std::vector<changelog::Outcome> outcomes;
  outcomes.reserve(batch.size());
  for (const auto& change : batch) {
    if (change.device_seq <= high_water) {
      auto earlier = tx->outcome_of(change);
      if (!earlier) return fail(earlier.error());
      if (!*earlier)
        return fail(ErrorCode::kCorrupt, "change " + changelog::change_id(change) +
                                             " is below the high-water mark but not in the log");
      outcomes.push_back(**earlier);
      continue;
    }
    if (auto size = changelog::values_size(change); size > changelog::kMaxChangeBytes) {
      auto outcome = tx->append(changelog::without_values(change), too_large(size), by);
      if (!outcome) return fail(outcome.error());
      outcomes.push_back(std::move(*outcome));
      high_water = change.device_seq;
      continue;
    }
    auto state = tx->group_state(change);
    if (!state) return fail(state.error());
    auto decision = merge::decide(change, *state, permission, store_.reference());
    auto outcome = tx->append(change, decision, by);
    if (!outcome) return fail(outcome.error());
    outcomes.push_back(std::move(*outcome));
    high_water = change.device_seq;
  }
  ERGON_TRY(tx->set_high_water_mark(device.device_id, high_water));
  ERGON_TRY(tx->commit());
  return outcomes;
}

}  // namespace ergon::server
