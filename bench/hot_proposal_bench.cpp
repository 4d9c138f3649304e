// One proposal flooded with edits (Hardening II, item 2): a device writes N remarks edits of one
// proposal (default 200,000) in-process through MergeService, 1,000 a batch, and the time of
// its first and last batches is printed; then another device pushes 1,000 edits with a horizon
// from before the flood, and that push's time is printed. Before schema step 9 the decision
// scanned every revision after the horizon: the last batches slowed and the late push held
// the writer for over a minute.
//
//   build/release/bench/hot_proposal_bench [N]

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "shared/crypto/crypto.h"

using namespace ergon;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Device {
  server::DeviceContext context;
  std::uint64_t seq = 0;
};

changelog::Change edit(Device& d, const model::Proposal& p, std::uint64_t seen) {
  changelog::Change c;
  c.device_id = d.context.device_id;
  c.device_seq = ++d.seq;
  c.entity = {changelog::EntityKind::kProposal, p.id.hex()};
  c.group = "remarks";
  c.values = {{"remarks", "Σημείωση " + std::to_string(d.seq)}};
  c.base.kind = changelog::Base::Kind::kRevision;
  c.base.revision = {1, seen};
  c.user = "Μετρητής";
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  auto dir = std::filesystem::temp_directory_path() / ("ergon-hot-bench-" + crypto::random_hex(4));
  auto store = server::MasterStore::create(dir, ERGON_REFERENCE_DIR, 2024);
  if (!store) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  server::MergeService merge(*store);
  auto device = [&](const char* name) {
    auto enrolled = store->enrol(merge::Role::kPlanning, "", name);
    auto id = core::DeviceId::random();
    if (!enrolled || !store->bind(enrolled->device_id, id, "")) std::exit(1);
    return Device{{id, {merge::Role::kPlanning, "", {}, {2024}}}};
  };
  auto flooder = device("flooder"), editor = device("editor");

  model::Proposal hot;
  hot.id = core::ProposalId::random();
  hot.year = 2024;
  hot.directorate = "DTE";
  hot.title = "Πολυσυζητημένο έργο";
  hot.area = "HER-CITY";
  hot.total_budget = model::Money::from_cents(100'000'000);
  changelog::Change create;
  create.device_id = flooder.context.device_id;
  create.device_seq = ++flooder.seq;
  create.entity = {changelog::EntityKind::kProposal, hot.id.hex()};
  create.group = std::string(changelog::kCreateGroup);
  create.values = model::all_values(hot);
  auto created = merge.apply_batch(flooder.context, std::vector{create});
  if (!created) return 1;
  auto before_flood = created->back().position.seq;

  double first_batch = 0, last_batch = 0;
  auto flood_start = Clock::now();
  for (std::uint64_t written = 0; written < total; written += 1000) {
    std::vector<changelog::Change> batch;
    for (std::uint64_t i = 0; i < 1000; ++i) batch.push_back(edit(flooder, hot, written + i + 1));
    auto start = Clock::now();
    auto outcomes = merge.apply_batch(flooder.context, batch);
    if (!outcomes) {
      std::cerr << outcomes.error().message << "\n";
      return 1;
    }
    (written == 0 ? first_batch : last_batch) = ms_since(start);
    if ((written + 1000) % 50'000 == 0) std::cerr << "flooded " << written + 1000 << "\n";
  }
  std::cout << "flood of " << total << " edits of one proposal: " << ms_since(flood_start)
            << " ms; first batch of 1,000 " << first_batch << " ms, last " << last_batch << " ms\n";

  std::vector<changelog::Change> late;
  for (int i = 0; i < 1000; ++i) late.push_back(edit(editor, hot, before_flood));
  auto start = Clock::now();
  auto outcomes = merge.apply_batch(editor.context, late);
  if (!outcomes) return 1;
  std::cout << "1,000 edits by another device with a horizon before the flood: " << ms_since(start)
            << " ms (first: " << changelog::to_string(outcomes->front().kind) << ")\n";
  std::filesystem::remove_all(dir);
  return 0;
}
