// One device cannot stall every write by flooding one proposal with edits: the merge decision's
// "changed by another device since the editor's horizon" costs one row per field group, not a
// scan of the proposal's revisions after the horizon. A real MasterStore takes 10,000 remarks
// edits of one proposal from a flooding device; then another device pushes 1,000 edits with a
// horizon from before the flood, once against that proposal and once against a quiet one. The
// two pushes cost about the same (before schema step 9, the hot one read 10,000 index entries
// per change). bench/hot_proposal_bench measures the release build's figure at 200,000.

#include <chrono>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using Clock = std::chrono::steady_clock;

namespace {

model::Proposal proposal_of(const std::string& title) {
  model::Proposal p;
  p.id = core::ProposalId::random();
  p.year = 2024;
  p.directorate = "DTE";
  p.title = title;
  p.area = "HER-CITY";
  p.total_budget = model::Money::from_cents(100'000'000);
  return p;
}

struct Writer {
  server::MergeService& merge;
  server::DeviceContext context;
  std::uint64_t seq = 0;

  changelog::Change change(const model::Proposal& p, const std::string& group,
                           model::FieldValues values, std::uint64_t seen) {
    changelog::Change c;
    c.device_id = context.device_id;
    c.device_seq = ++seq;
    c.entity = {changelog::EntityKind::kProposal, p.id.hex()};
    c.group = group;
    c.values = std::move(values);
    if (group != changelog::kCreateGroup) {
      c.base.kind = changelog::Base::Kind::kRevision;
      c.base.revision = {1, seen};
    }
    c.user = "Δοκιμή";
    return c;
  }
  std::vector<changelog::Outcome> push(const std::vector<changelog::Change>& batch) {
    auto outcomes = merge.apply_batch(context, batch);
    INFO((outcomes ? std::string() : outcomes.error().message));
    REQUIRE(outcomes);
    return *outcomes;
  }
  std::vector<changelog::Outcome> edits(const model::Proposal& p, int count, std::uint64_t seen) {
    std::vector<changelog::Change> batch;
    for (int i = 0; i < count; ++i)
      batch.push_back(change(p, "remarks", {{"remarks", "Σημείωση " + std::to_string(seq)}}, seen));
    return push(batch);
  }
};

Writer writer_of(server::MasterStore& store, server::MergeService& merge) {
  auto enrolled = store.enrol(merge::Role::kPlanning, "", "writer");
  REQUIRE(enrolled);
  auto device = core::DeviceId::random();
  REQUIRE(store.bind(enrolled->device_id, device, ""));
  return Writer{merge, {device, {merge::Role::kPlanning, "", {}, {2024}}}};
}

// Seconds for 1,000 edits of `p` by `pusher` on a horizon of `seen`.
double timed_edits(Writer& pusher, const model::Proposal& p, std::uint64_t seen,
                   changelog::OutcomeKind expected) {
  auto start = Clock::now();
  auto outcomes = pusher.edits(p, 1000, seen);
  auto took = std::chrono::duration<double>(Clock::now() - start).count();
  CHECK(outcomes.front().kind == expected);
  return took;
}

}  // namespace

TEST_CASE("a push against a proposal with a long history costs what one against a quiet one does",
          "[server][hardening][merge]") {
  testing::TempDir dir;
  auto store = server::MasterStore::create(dir / "server", testing::reference_dir(), 2024,
                                           core::system_clock(), storage::Durability::kNormal);
  REQUIRE(store);
  server::MergeService merge(*store);
  auto flooder = writer_of(*store, merge);
  auto editor = writer_of(*store, merge);

  auto hot = proposal_of("Πολυσυζητημένο έργο"), quiet = proposal_of("Ήσυχο έργο");
  auto created = flooder.push({flooder.change(hot, "create", model::all_values(hot), 0),
                               flooder.change(quiet, "create", model::all_values(quiet), 0)});
  auto before_flood = created.back().position.seq;
  for (int batch = 0; batch < 10; ++batch) flooder.edits(hot, 1000, flooder.seq);
  // The quiet proposal changed once by the flooder after the horizon too: both pushes conflict
  // on their first change and join that conflict after, the same work on both.
  flooder.edits(quiet, 1, flooder.seq);

  auto quiet_s = timed_edits(editor, quiet, before_flood, changelog::OutcomeKind::kConflict);
  auto hot_s = timed_edits(editor, hot, before_flood, changelog::OutcomeKind::kConflict);
  INFO("1,000 edits against a quiet proposal: " << quiet_s << " s; against one with 10,000 "
                                                << "revisions after the horizon: " << hot_s
                                                << " s");
  CHECK(hot_s < 3 * quiet_s + 0.5);
}
