#pragma once
// `ergond audit verify` (and its alias `ergond verify`): the whole verification of a server
// store — chain, columns, master against the log, chain heads clients hold — printed for a
// person or as JSON. A problem is exit code 5 (kCorrupt) with the first broken row and what
// differs.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/store/master_store.h"
#include "shared/core/result.h"

namespace ergon::server::admin {

/// The report as JSON: rows, v1_rows, head {epoch, seq, hash}, proposals, envelopes,
/// heads_checked, digest, ok, problem, broken_seq.
nlohmann::json verify_json(const VerifyReport& report, const changelog::StateDigest& digest);

/// Verifies the store in `data` against `heads` (EPOCH.SEQ:HEX each) and prints the report.
core::Status run_audit_verify(const std::string& data, const std::vector<std::string>& heads,
                              bool as_json);

}  // namespace ergon::server::admin
