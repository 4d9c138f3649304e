#pragma once
// Questions a client asks the server that read its state without syncing: the history of the
// programme (answered from the server's log, which holds every device's changes) and the
// verification of that log against the chain head this client holds. The home's outbox and
// cursor are untouched.

#include <chrono>
#include <functional>
#include <vector>

#include "client/store/local_store.h"
#include "shared/core/result.h"

#include "shared/proto/ergon.pb.h"

namespace ergon::client {

/// Every event the query matches, asking page after page; `progress` hears the count so far.
core::Result<std::vector<wire::HistoryEvent>> fetch_history(
    LocalStore& store, wire::HistoryRequest query,
    const std::function<void(std::size_t)>& progress = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// The server verifies its log and the chain head this client holds (if any).
core::Result<wire::AuditVerifyReply> verify_on_server(
    LocalStore& store, std::chrono::milliseconds timeout = std::chrono::seconds(120));

}  // namespace ergon::client
