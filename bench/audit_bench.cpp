// The audit at scale: a server store with a log of N changes (default 1,000,000), written
// in-process through MergeService as pushes would be (every rule, one transaction per batch of
// 1,000), then the history of one proposal and a full verification, timed.
//
//   build/release/bench/audit_bench [CHANGES] [DIR]
//
// The store is kept in DIR (default: a temporary folder) so a second run can skip the writing.

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>

#include <sys/resource.h>

#include "server/merge/merge_service.h"
#include "server/store/master_store.h"

using namespace ergon;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

model::Proposal proposal(int i) {
  model::Proposal p;
  p.id = core::ProposalId::random();
  p.year = 2024;
  p.directorate = "DTE";
  p.title = "Έργο αριθμός " + std::to_string(i) + " – ανάπλαση οδού";
  p.area = "HER-CITY";
  p.total_budget = model::Money::from_cents(100'000'000);
  p.allocation = model::Money::from_cents(10'000'000);
  p.funding = {{"1099", p.allocation}};
  return p;
}

changelog::Change change_of(const core::DeviceId& device, std::uint64_t seq,
                            const model::Proposal& p, const std::string& group,
                            model::FieldValues values, std::uint64_t seen) {
  changelog::Change c;
  c.device_id = device;
  c.device_seq = seq;
  c.entity = {changelog::EntityKind::kProposal, p.id.hex()};
  c.group = group;
  c.values = std::move(values);
  if (group != changelog::kCreateGroup) {
    c.base.kind = changelog::Base::Kind::kRevision;
    c.base.revision = {1, seen};
  }
  c.client_time = {static_cast<std::int64_t>(seq) * 1000, 0};
  c.user = "Μετρητής";
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  std::filesystem::path dir =
      argc > 2 ? argv[2] : std::filesystem::temp_directory_path() / "ergon-audit-bench";
  bool fresh = !std::filesystem::exists(dir / server::MasterStore::kDatabaseFile);
  auto store = fresh ? server::MasterStore::create(dir, ERGON_REFERENCE_DIR, 2024)
                     : server::MasterStore::open(dir);
  if (!store) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  std::vector<model::Proposal> proposals;
  if (fresh) {
    auto enrolled = store->enrol(merge::Role::kPlanning, "", "bench");
    auto device = core::DeviceId::random();
    if (!enrolled || !store->bind(enrolled->device_id, device, "")) return 1;
    server::MergeService merge(*store);
    server::DeviceContext context{device, {merge::Role::kPlanning, "", {}, {2024}}};
    std::mt19937 rng(7);
    auto start = Clock::now();
    std::uint64_t seq = 0;
    while (seq < total) {
      std::vector<changelog::Change> batch;
      for (int i = 0; i < 1000 && seq < total; ++i) {
        ++seq;
        if (proposals.size() < 10'000 && (proposals.size() < 10 || rng() % 10 == 0)) {
          proposals.push_back(proposal(static_cast<int>(proposals.size())));
          batch.push_back(change_of(device, seq, proposals.back(), "create",
                                    model::all_values(proposals.back()), 0));
          continue;
        }
        // One proposal in a hundred thousand edits is the one whose history is read.
        auto& p = seq % 10'000 == 0 ? proposals[0] : proposals[rng() % proposals.size()];
        batch.push_back(change_of(device, seq, p, "remarks",
                                  {{"remarks", "Σημείωση " + std::to_string(seq)}}, seq - 1));
      }
      auto outcomes = merge.apply_batch(context, batch);
      if (!outcomes) {
        std::cerr << outcomes.error().message << "\n";
        return 1;
      }
      if (seq % 100'000 == 0) std::cerr << "written " << seq << " changes\n";
    }
    std::cout << "write " << total << " changes: " << ms_since(start) << " ms\n";
  }
  auto entities = store->history({"", "", "", 0, 0, 0, 1});
  if (!entities || entities->events.empty()) return 1;
  auto first = entities->events.front().entity;

  auto start = Clock::now();
  std::size_t events = 0;
  server::HistoryQuery query{first, "", "", 0, 0, 0, 1000};
  for (;;) {
    auto page = store->history(query);
    if (!page) return 1;
    events += page->events.size();
    if (!page->more) break;
    query.after_seq = page->next_after;
  }
  std::cout << "history of one proposal (" << events << " events): " << ms_since(start) << " ms\n";

  start = Clock::now();
  auto report = store->verify();
  if (!report) return 1;
  std::cout << "verify " << report->rows << " rows (" << report->proposals
            << " proposals): " << ms_since(start)
            << " ms, problem: " << (report->problem.empty() ? "none" : report->problem) << "\n";
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::cout << "peak RSS: " << usage.ru_maxrss / 1024 << " MiB\n";
  return report->problem.empty() ? 0 : 1;
}
