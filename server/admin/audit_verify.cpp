#include "server/admin/audit_verify.h"

#include <iostream>

namespace ergon::server::admin {

using nlohmann::json;

json verify_json(const VerifyReport& r, const changelog::StateDigest& digest) {
  return json{
      {"ok", r.problem.empty()},
      {"rows", r.rows},
      {"v1_rows", r.v1_rows},
      {"head",
       {{"epoch", r.head_at.epoch}, {"seq", r.head_at.seq}, {"hash", crypto::to_hex(r.head)}}},
      {"proposals", r.proposals},
      {"envelopes", r.envelopes},
      {"heads_checked", r.heads_checked},
      {"digest", digest.hex()},
      {"problem", r.problem.empty() ? json(nullptr) : json(r.problem)},
      {"broken_seq", r.broken_seq ? json(*r.broken_seq) : json(nullptr)}};
}

namespace {

void print_report(const VerifyReport& r, const changelog::StateDigest& digest) {
  if (!r.problem.empty()) {
    std::cout << "THE AUDIT FAILED: " << r.problem << "\n"
              << "rows before it verified: " << r.rows << "\n";
    return;
  }
  std::cout << "the change log is intact: " << r.rows << " rows, every column of every row "
            << "chained"
            << (r.v1_rows ? " (the first " + std::to_string(r.v1_rows) +
                                " under chain version 1: change and outcome only)"
                          : std::string())
            << "\n"
            << "chain head:   " << changelog::head_text(r.head_at, r.head) << "\n"
            << "the master equals the log's accepted values: " << r.proposals << " proposals, "
            << r.envelopes << " envelopes\n"
            << "client heads: " << r.heads_checked << " checked\n"
            << "state digest: " << digest.hex() << "\n";
}

}  // namespace

core::Status run_audit_verify(const std::string& data, const std::vector<std::string>& heads,
                              bool as_json) {
  std::vector<HeldHead> held;
  for (const auto& text : heads) {
    auto head = changelog::parse_head(text);
    if (!head) return core::fail(head.error());
    held.push_back({head->first, head->second});
  }
  auto store = MasterStore::open(data);
  if (!store) return core::fail(store.error());
  auto report = store->verify(held);
  if (!report) return core::fail(report.error());
  auto digest = store->digest();
  if (!digest) return core::fail(digest.error());
  if (as_json)
    std::cout << verify_json(*report, *digest).dump(2) << "\n";
  else
    print_report(*report, *digest);
  if (!report->problem.empty()) return core::fail(core::ErrorCode::kCorrupt, report->problem);
  return {};
}

}  // namespace ergon::server::admin
