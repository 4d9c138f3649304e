#pragma once
// Model ↔ wire conversions. from_proto checks everything a peer could get wrong (id sizes,
// enum ranges, unknown fields) and fails with kProtocol instead of building a bad value.
// Pure; thread-safe.

#include "shared/changelog/change.h"
#include "shared/changelog/log_entry.h"
#include "shared/changelog/outcome.h"
#include "shared/changelog/snapshot.h"
#include "shared/core/error.h"
#include "shared/core/result.h"

#include "shared/proto/ergon.pb.h"

namespace ergon::wire {

void to_proto(const changelog::Change& in, Change* out);
core::Result<changelog::Change> from_proto(const Change& in);

void to_proto(const changelog::Outcome& in, Outcome* out);
core::Result<changelog::Outcome> from_proto(const Outcome& in);

void to_proto(const changelog::LogEntry& in, LogEntry* out);
core::Result<changelog::LogEntry> from_proto(const LogEntry& in);

void to_proto(const changelog::Snapshot& in, Snapshot* out);
core::Result<changelog::Snapshot> from_proto(const Snapshot& in);

ErrorCode to_proto(core::ErrorCode code);
core::ErrorCode from_proto(ErrorCode code);

/// What a client signs with its device key in hello: a fixed context, the TLS session binding
/// (empty over --insecure), the client's device id and the enrolment its token names.
std::string hello_proof_payload(std::string_view session_binding, std::string_view client_device_id,
                                std::string_view enrolled_id);

/// An ErrorReply message for `error`.
Message error_message(std::uint64_t request_id, const core::Error& error);

}  // namespace ergon::wire
