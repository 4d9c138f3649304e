#pragma once
// One sync with the server: connect (TLS with the pinned key, or --insecure TCP) → hello →
// welcome (server id, epoch, role) → push the outbox in batches → pull pages until up to date
// → compare digests, re-bootstrapping once on a mismatch. Every page is applied in one local
// transaction with its cursor, so a cut connection or a killed process resumes where it
// stopped. Runs its own short-lived io_context on the calling thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "client/store/local_store.h"
#include "shared/core/result.h"

namespace ergon::client {

/// A push batch closes once its changes reach this size: the server unpacks no request larger
/// than a frame (16 MiB), and a change holds at most 64 KiB of values.
inline constexpr std::size_t kMaxPushBytes = 8u << 20;

struct SyncReport {
  std::size_t sent = 0;
  std::size_t accepted = 0;
  std::size_t conflicts = 0;
  std::size_t rejected = 0;
  std::size_t duplicates = 0;
  std::size_t received = 0;  // log entries applied
  std::size_t requeued = 0;  // re-pushed after a server restore
  bool bootstrapped = false;
  std::uint64_t cursor = 0;
  std::string digest;
  // Where the time went, in seconds (the benchmark harness reports them): from connecting to
  // the welcome (TCP, TLS, hello), pushing the outbox, pulling until current with the digest.
  double welcome_s = 0, push_s = 0, pull_s = 0;
};

struct SyncOptions {
  std::chrono::milliseconds timeout{30'000};
  std::size_t batch_changes = 500;
  std::size_t page_entries = 1000;
  std::function<void(const std::string&)> progress;  // long syncs report here
};

/// Syncs once with the server configured in the home (ergon init --server).
core::Result<SyncReport> sync_once(LocalStore& store, const SyncOptions& options);

/// Connects to a TLS server and returns the fingerprint of the key it presents.
core::Result<std::string> probe_fingerprint(const std::string& host_port,
                                            std::chrono::milliseconds timeout);

}  // namespace ergon::client
