#pragma once
// Questions a client asks the server that read its state without syncing: the history of the
// programme (answered from the server's log, which holds every device's changes) and the
// verification of that log against the chain head this client holds. The home's outbox and
// cursor are untouched.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
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

/// One request answered by one reply (stages, a stage move, a programme); kProtocol when the
/// reply is not the body `expected`.
core::Result<wire::Message> ask_server(
    LocalStore& store, wire::Message request, wire::Message::BodyCase expected,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// A year's programme as the server holds it: now, frozen at a stage, or at a moment.
struct RemoteProgramme {
  int year = 0;
  std::vector<model::Proposal> proposals;         // in id order
  std::map<std::string, model::Money> envelopes;  // YEAR:SOURCE
  std::optional<wire::StageRecord> stage;         // the freeze, when a stage was asked
  changelog::Revision at;                         // the log's last row included
  std::string standing;  // the stage the year stood at then (proposals, draft-1 …, approved)
};

/// `stage` a stage name (draft, draft-2, approved, amendment-1 …); else `as_of_ms` (server
/// time); neither: the master now.
core::Result<RemoteProgramme> fetch_programme(LocalStore& store, int year, const std::string& stage,
                                              std::int64_t as_of_ms);

}  // namespace ergon::client
