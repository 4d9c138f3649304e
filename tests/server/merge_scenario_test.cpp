// Two-peer (and more) scenarios in one process: a master store and several client stores,
// changes carried between them by function calls. Each ends by checking convergence.

#include <catch2/catch.hpp>

#include "client/store/sync_state.h"
#include "shared/model/fields.h"
#include "tests/server/sync_harness.h"
#include "tests/support/fixtures.h"

using namespace ergon;
using changelog::OutcomeKind;
using merge::Role;
using testing::field_of;
using testing::SyncHarness;

namespace {

core::ProposalId create(SyncHarness::Client& c, const std::string& title, const std::string& d) {
  auto p = c.store->create(testing::a_work(title, d));
  INFO((p ? std::string() : p.error().message));
  REQUIRE(p);
  return p->id;
}

void edit(SyncHarness::Client& c, const core::ProposalId& id, model::FieldValues values) {
  auto r = c.store->edit(id, values);
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r);
}

std::size_t count(const std::vector<changelog::Outcome>& outcomes, OutcomeKind kind) {
  return static_cast<std::size_t>(std::count_if(outcomes.begin(), outcomes.end(),
                                                [&](const auto& o) { return o.kind == kind; }));
}

}  // namespace

TEST_CASE("two directorates and planning editing the same and different groups converge",
          "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& dpol = h.add_client(Role::kDirectorate, "DPOL", "dpol");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");

  auto roads = create(dte, "Ασφαλτοστρώσεις οδών", "DTE");
  auto study = create(dpol, "Μελέτη κυκλοφορίας", "DPOL");
  h.sync(dte);
  h.sync(dpol);
  h.sync(planning);
  REQUIRE(planning.store->get(roads));
  REQUIRE(planning.store->get(study));

  // Offline: DTE edits title and money, planning edits the remarks of the same proposal (a
  // different group) and the priority of DPOL's, DPOL edits its own remarks.
  edit(dte, roads, {{"title", "Ασφαλτοστρώσεις οδών 2024"}});
  edit(dte, roads, {{"allocation", "500.000,00"}, {"funding", "1099"}});
  edit(planning, roads, {{"remarks", "Προτεραιότητα Δημάρχου"}});
  edit(planning, study, {{"priority", "A"}});
  edit(dpol, study, {{"remarks", "Με ΣΒΑΑ"}});

  auto p = h.push(planning);
  auto d1 = h.push(dte);
  auto d2 = h.push(dpol);
  CHECK(count(p, OutcomeKind::kAccepted) == 2);
  CHECK(count(d1, OutcomeKind::kAccepted) == 2);
  CHECK(count(d2, OutcomeKind::kAccepted) == 1);
  for (auto* c : {&dte, &dpol, &planning}) {
    h.pull(*c);
    CHECK(h.converged(*c));
    CHECK(field_of(*c->store, roads, "title") == "Ασφαλτοστρώσεις οδών 2024");
    CHECK(field_of(*c->store, roads, "allocation") == "500000.00");
    CHECK(field_of(*c->store, roads, "remarks") == "Προτεραιότητα Δημάρχου");
    CHECK(field_of(*c->store, study, "priority") == "A");
    CHECK(field_of(*c->store, study, "remarks") == "Με ΣΒΑΑ");
  }
}

TEST_CASE("a directorate is refused on another directorate's proposal, with the reason",
          "[merge][scenario]") {
  SyncHarness h;
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& dpol = h.add_client(Role::kDirectorate, "DPOL", "dpol");
  auto roads = create(dte, "Ασφαλτοστρώσεις οδών", "DTE");
  h.sync(dte);
  h.pull(dpol);
  h.pull(planning);
  // Offline, the client refuses what the server would (merge::check_edit), queuing nothing.
  auto foreign = dpol.store->edit(roads, {{"remarks", "ξένη αλλαγή"}});
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == core::ErrorCode::kPermissionDenied);
  CHECK_THAT(foreign.error().message, Catch::Contains("belongs to DTE"));
  CHECK(dpol.store->outbox()->empty());
  // DTE's own edit, made before planning moved the row to DPOL, is refused by the server.
  edit(dte, roads, {{"remarks", "αλλαγή της ΔΤΕ"}});
  edit(planning, roads, {{"directorate", "DPOL"}});
  h.sync(planning);
  auto outcomes = h.push(dte);
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].kind == OutcomeKind::kRejected);
  CHECK_THAT(outcomes[0].reason, Catch::Contains("belongs to DPOL"));
  auto pulled = h.pull(dte);
  CHECK(pulled.own_rejected == 1);
  CHECK(field_of(*dte.store, roads, "remarks").empty());  // the view drops the rejected edit
  auto outbox = dte.store->outbox();
  REQUIRE(outbox);
  CHECK(outbox->back().status == ergon::client::OutboxStatus::kRejected);
  CHECK_THAT(outbox->back().reason, Catch::Contains("belongs to DPOL"));
  CHECK(h.converged(dte));
}

TEST_CASE("three devices on one field: the first wins, the others park in one conflict",
          "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto id = create(dte, "Ανάπλαση πάρκου", "DTE");
  h.sync(dte);
  h.pull(planning);
  h.pull(budget);

  edit(dte, id, {{"allocation", "300.000,00"}, {"funding", "1099"}});
  edit(planning, id, {{"allocation", "350.000,00"}, {"funding", "1099"}});
  edit(budget, id, {{"allocation", "200.000,00"}, {"funding", "1099"}});
  auto first = h.push(planning);
  auto second = h.push(dte);
  auto third = h.push(budget);
  REQUIRE(first.size() == 1);
  CHECK(first[0].kind == OutcomeKind::kAccepted);
  REQUIRE(second.size() == 1);
  REQUIRE(third.size() == 1);
  CHECK(second[0].kind == OutcomeKind::kConflict);
  CHECK(third[0].kind == OutcomeKind::kConflict);
  CHECK(second[0].conflict == third[0].conflict);  // one conflict, two incoming values

  for (auto* c : {&dte, &planning, &budget}) {
    h.pull(*c);
    CHECK(h.converged(*c));
    CHECK(field_of(*c->store, id, "allocation") == "350000.00");
    auto conflicts = c->store->conflicts();
    REQUIRE(conflicts);
    REQUIRE(conflicts->size() == 1);
    CHECK(conflicts->front().group == "money");
    CHECK(conflicts->front().incoming.size() == 2);
  }
  auto open = h.master().conflicts();
  REQUIRE(open);
  CHECK(open->size() == 1);
}

TEST_CASE("a withdrawal racing an edit it did not see is a conflict, and so is the edit after it",
          "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto id = create(dte, "Πεζόδρομος", "DTE");
  h.sync(dte);
  h.pull(planning);

  SECTION("withdraw after an unseen edit") {
    edit(planning, id, {{"remarks", "ενέκρινε ο Αντιδήμαρχος"}});
    REQUIRE(dte.store->withdraw(id));
    CHECK(h.push(planning)[0].kind == OutcomeKind::kAccepted);
    auto w = h.push(dte);
    REQUIRE(w.size() == 1);
    CHECK(w[0].kind == OutcomeKind::kConflict);
    h.pull(dte);
    CHECK(field_of(*dte.store, id, "state") == "draft");  // the master kept its state
  }
  SECTION("edit after an unseen withdrawal") {
    REQUIRE(dte.store->withdraw(id));
    edit(planning, id, {{"remarks", "νέα παρατήρηση"}});
    CHECK(h.push(dte)[0].kind == OutcomeKind::kAccepted);
    auto e = h.push(planning);
    REQUIRE(e.size() == 1);
    CHECK(e[0].kind == OutcomeKind::kConflict);
    CHECK_THAT(e[0].reason, Catch::Contains("withdrawn"));
  }
  h.pull(dte);
  h.pull(planning);
  CHECK(h.converged(dte));
  CHECK(h.converged(planning));
}

TEST_CASE("the money group changed on two sides is one conflict and the master keeps its values",
          "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto id = create(dte, "Σχολικό συγκρότημα", "DTE");
  h.sync(dte);
  h.pull(budget);
  // Different fields of the same group still conflict: the group must agree as a whole.
  edit(dte, id, {{"total_budget", "1.200.000,00"}});
  edit(budget, id, {{"allocation", "300.000,00"}, {"funding", "1099=100.000,00|0518=200.000,00"}});
  CHECK(h.push(budget)[0].kind == OutcomeKind::kAccepted);
  auto d = h.push(dte);
  CHECK(d[0].kind == OutcomeKind::kConflict);
  h.pull(dte);
  h.pull(budget);
  CHECK(field_of(*dte.store, id, "total_budget") == "1000000.00");
  CHECK(field_of(*dte.store, id, "funding") == "0518=200000.00|1099=100000.00");
  CHECK(h.converged(dte));

  SECTION("a later change of the same device to the parked group joins that conflict") {
    edit(dte, id, {{"total_budget", "1.300.000,00"}});
    auto later = h.push(dte);
    REQUIRE(later.size() == 1);
    CHECK(later[0].kind == OutcomeKind::kConflict);
    CHECK(later[0].conflict == d[0].conflict);
  }
}

TEST_CASE("a long offline session of one device lands whole and in order", "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  std::vector<core::ProposalId> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(create(dte, "Έργο αρ. " + std::to_string(i), "DTE"));
  for (int round = 0; round < 10; ++round)
    for (std::size_t i = 0; i < ids.size(); ++i)
      edit(dte, ids[i], {{"remarks", "γύρος " + std::to_string(round)}});
  auto pending = ergon::client::SyncState(*dte.store).pending_changes(100000);
  REQUIRE(pending);
  CHECK(pending->size() == 220);
  auto outcomes = h.push(dte, 37);
  CHECK(count(outcomes, OutcomeKind::kAccepted) == 220);
  h.pull(dte);
  h.pull(planning);
  CHECK(h.converged(dte));
  CHECK(h.converged(planning));
  CHECK(field_of(*planning.store, ids[7], "remarks") == "γύρος 9");
  auto left = ergon::client::SyncState(*dte.store).pending_changes(100000);
  REQUIRE(left);
  CHECK(left->empty());
}

TEST_CASE("a batch with a gap or another device's change is refused and nothing is logged",
          "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& dpol = h.add_client(Role::kDirectorate, "DPOL", "dpol");
  create(dte, "Πρώτο", "DTE");
  create(dte, "Δεύτερο", "DTE");
  create(dte, "Τρίτο", "DTE");
  auto pending = ergon::client::SyncState(*dte.store).pending_changes(10);
  REQUIRE(pending);
  REQUIRE(pending->size() == 3);

  SECTION("a lost outbox entry") {
    std::vector<changelog::Change> gap = {(*pending)[0], (*pending)[2]};
    auto refused = h.merge().apply_batch(dte.context, gap);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == core::ErrorCode::kProtocol);
    CHECK_THAT(refused.error().message, Catch::Contains("gap"));
  }
  SECTION("another device's change") {
    auto refused = h.merge().apply_batch(dpol.context, *pending);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == core::ErrorCode::kPermissionDenied);
  }
  auto seq = h.master().last_seq();
  REQUIRE(seq);
  CHECK(*seq == 0);
  // The honest batch still goes through afterwards, and a retry is answered from the log.
  auto first = h.push(dte);
  auto again = h.merge().apply_batch(dte.context, *pending);
  REQUIRE(again);
  REQUIRE(again->size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK((*again)[i].is_duplicate);
    CHECK((*again)[i].position == first[i].position);
  }
  CHECK(*h.master().last_seq() == 3);
  CHECK(h.master().verify_chain().value_or(0) == 3);
}

TEST_CASE("the log refuses updates and deletes, and verification finds a forged row",
          "[merge][audit]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  create(dte, "Πρώτο", "DTE");
  create(dte, "Δεύτερο", "DTE");
  h.push(dte);
  REQUIRE(h.master().verify_chain().value_or(0) == 2);

  auto db = storage::Database::open(h.server_dir() / server::MasterStore::kDatabaseFile,
                                    storage::Durability::kNormal);
  REQUIRE(db);
  auto update = db->exec("UPDATE log SET reason = 'forged' WHERE seq = 1");
  REQUIRE_FALSE(update);
  CHECK_THAT(update.error().message, Catch::Contains("append-only"));
  auto remove = db->exec("DELETE FROM log WHERE seq = 2");
  REQUIRE_FALSE(remove);
  CHECK_THAT(remove.error().message, Catch::Contains("append-only"));

  // Someone with the file and a SQL shell can drop the trigger; the chain still tells.
  REQUIRE(db->exec("DROP TRIGGER log_is_append_only_update"));
  REQUIRE(db->exec("UPDATE log SET reason = 'forged' WHERE seq = 1"));
  auto verified = h.master().verify_chain();
  REQUIRE_FALSE(verified);
  CHECK(verified.error().code == core::ErrorCode::kCorrupt);
  CHECK_THAT(verified.error().message, Catch::Contains("log row 1"));
}

TEST_CASE("a bootstrap read in parts while others write converges by replaying the log",
          "[scenario][paging]") {
  SyncHarness h(storage::Durability::kNormal);
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  h.sync(planning);
  std::vector<core::ProposalId> ids;
  for (int i = 0; i < 30; ++i)
    ids.push_back(create(planning, "Έργο σε κομμάτια " + std::to_string(i), "DTE"));
  h.sync(planning);
  auto& fresh = h.add_client(Role::kAuditor, "", "fresh");

  server::PullQuery query;
  query.bootstrap = true;
  query.max_bytes = 1500;  // a few proposals a part
  std::size_t parts = 0;
  int round = 0;
  for (;;) {
    auto page = h.master().read_page(fresh.context.device_id, query);
    REQUIRE(page);
    REQUIRE(page->snapshot);
    if (parts == 0)
      REQUIRE(ergon::client::SyncState(*fresh.store).apply_snapshot(*page->snapshot));
    else
      REQUIRE(ergon::client::SyncState(*fresh.store).apply_snapshot_part(*page->snapshot));
    ++parts;
    // Between parts, planning changes proposals already sent, proposals still to come, and
    // creates new ones on both sides of the part boundary.
    edit(planning, ids[static_cast<std::size_t>(round) % ids.size()],
         {{"remarks", "πριν " + std::to_string(round)}});
    edit(planning, ids[(static_cast<std::size_t>(round) * 7 + 13) % ids.size()],
         {{"allocation", std::to_string(100 + round) + ".000,00"}, {"funding", "1099"}});
    ids.push_back(create(planning, "Νέο στη μέση " + std::to_string(round), "DTE"));
    h.sync(planning);
    ++round;
    if (!page->snapshot_more) break;
    REQUIRE(page->snapshot->proposals.size() < 30);
    query.snapshot_after = page->snapshot_next;
  }
  CHECK(parts > 3);
  h.pull(fresh);  // the log from the first part's cursor brings every part up to date
  CHECK(h.converged(fresh));
  for (const auto& id : ids) {
    CHECK(field_of(*fresh.store, id, "remarks") == field_of(*planning.store, id, "remarks"));
    CHECK(field_of(*fresh.store, id, "allocation") == field_of(*planning.store, id, "allocation"));
  }
}

TEST_CASE(
    "an equal write of another device after my horizon is never overwritten, in either "
    "arrival order",
    "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& a = h.add_client(Role::kPlanning, "", "planning-a");
  auto& b = h.add_client(Role::kPlanning, "", "planning-b");
  auto roads = create(dte, "Ασφαλτοστρώσεις οδών", "DTE");  // priority B
  h.sync(dte);
  h.pull(a);
  h.pull(b);
  // Offline, from the same horizon: A sets C, B sets C too, then A (its own change as base) A.
  edit(a, roads, {{"priority", "C"}});
  edit(b, roads, {{"priority", "C"}});
  edit(a, roads, {{"priority", "A"}});
  auto a_changes = ergon::client::SyncState(*a.store).pending_changes(10);
  auto b_changes = ergon::client::SyncState(*b.store).pending_changes(10);
  REQUIRE(a_changes);
  REQUIRE(b_changes);
  REQUIRE(a_changes->size() == 2u);
  REQUIRE(b_changes->size() == 1u);
  auto apply = [&](SyncHarness::Client& c, const changelog::Change& change) {
    auto outcomes = h.merge().apply_batch(c.context, std::span(&change, 1));
    INFO((outcomes ? std::string() : outcomes.error().message));
    REQUIRE(outcomes);
    REQUIRE(outcomes->size() == 1u);
    return outcomes->front();
  };

  bool b_between = GENERATE(true, false);
  INFO((b_between ? "A1, B, A2" : "A1, A2, B"));
  CHECK(apply(a, (*a_changes)[0]).kind == OutcomeKind::kAccepted);
  if (b_between) {
    auto equal = apply(b, b_changes->front());
    CHECK(equal.kind == OutcomeKind::kAccepted);
    CHECK(equal.is_new_revision);  // on record, so A's next write cannot hide it
    auto second = apply(a, (*a_changes)[1]);
    CHECK(second.kind == OutcomeKind::kConflict);
  } else {
    CHECK(apply(a, (*a_changes)[1]).kind == OutcomeKind::kAccepted);
    CHECK(apply(b, b_changes->front()).kind == OutcomeKind::kConflict);
  }
  // Either way one write is parked for a person, none is lost, and everyone converges.
  for (auto* c : {&dte, &a, &b}) {
    h.pull(*c);
    CHECK(h.converged(*c));
  }
  auto conflicts = a.store->conflicts();
  REQUIRE(conflicts);
  CHECK(conflicts->size() == 1u);
  // B between: A's second write waits for a person; else B's, as A's two writes came first.
  CHECK(field_of(*dte.store, roads, "priority") == (b_between ? "C" : "A"));
}

namespace {

// DTE and planning change the money of one proposal concurrently: planning's arrives first,
// DTE's is parked. Returns the conflict's id as users see it.
std::string money_conflict(SyncHarness& h, SyncHarness::Client& dte, SyncHarness::Client& planning,
                           const core::ProposalId& id) {
  edit(planning, id, {{"allocation", "350.000,00"}, {"funding", "1099"}});
  edit(dte, id, {{"allocation", "300.000,00"}, {"funding", "1099"}});
  REQUIRE(h.push(planning).front().kind == OutcomeKind::kAccepted);
  auto parked = h.push(dte);
  REQUIRE(parked.front().kind == OutcomeKind::kConflict);
  return changelog::conflict_id_text(*parked.front().conflict);
}

std::size_t open_conflicts(SyncHarness::Client& c) {
  auto all = c.store->conflicts();
  REQUIRE(all);
  return static_cast<std::size_t>(std::count_if(all->begin(), all->end(), [](const auto& x) {
    return x.status == ergon::client::ConflictStatus::kOpen;
  }));
}

}  // namespace

TEST_CASE("a resolution is a change: it syncs, is logged, and closes the conflict everywhere",
          "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& dpol = h.add_client(Role::kDirectorate, "DPOL", "dpol");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto id = create(dte, "Ανάπλαση πάρκου", "DTE");
  h.sync(dte);
  for (auto* c : {&dpol, &planning, &budget}) h.pull(*c);
  auto conflict = money_conflict(h, dte, planning, id);
  for (auto* c : {&dte, &dpol, &planning, &budget}) h.pull(*c);

  // Who may settle it, checked offline with the server's wording.
  auto foreign = dpol.store->resolve(conflict, {"master", {}});
  REQUIRE_FALSE(foreign);
  CHECK(foreign.error().code == core::ErrorCode::kPermissionDenied);
  CHECK_THAT(foreign.error().message, Catch::Contains("own proposals"));
  auto unknown = planning.store->resolve("9.999", {"master", {}});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == core::ErrorCode::kNotFound);

  auto how = GENERATE(as<std::string>{}, "incoming", "master", "value", "budget");
  INFO(how);
  auto& settler = how == "master" ? planning : how == "budget" ? budget : dte;
  ergon::client::Resolution resolution{how == "value" || how == "budget" ? "" : how, {}};
  if (resolution.take.empty())
    resolution.values = {{"allocation", "320.000,00"}, {"funding", "1099"}};
  auto settled = settler.store->resolve(conflict, resolution);
  INFO((settled ? std::string() : settled.error().message));
  REQUIRE(settled);
  auto outcomes = h.push(settler);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].kind == OutcomeKind::kAccepted);
  CHECK(outcomes[0].is_new_revision == (how != "master"));  // the master is kept unwritten

  std::string expected = how == "incoming" ? "300000.00"
                         : how == "master" ? "350000.00"
                                           : "320000.00";
  for (auto* c : {&dte, &dpol, &planning, &budget}) {
    h.pull(*c);
    CHECK(h.converged(*c));
    CHECK(open_conflicts(*c) == 0u);
    CHECK(field_of(*c->store, id, "allocation") == expected);
  }
  auto verified = h.master().verify_chain();
  CHECK(verified);
  // A second resolution of the same conflict is refused; the next money edit is free again.
  REQUIRE_FALSE(planning.store->resolve(conflict, {"master", {}}));
  edit(dte, id, {{"allocation", "310.000,00"}, {"funding", "1099"}});
  CHECK(h.push(dte).front().kind == OutcomeKind::kAccepted);
}

TEST_CASE("budget settles only money conflicts, refused offline as the server would",
          "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto id = create(dte, "Ανάπλαση πάρκου", "DTE");
  h.sync(dte);
  h.pull(planning);
  h.pull(budget);
  edit(planning, id, {{"title", "Ανάπλαση πάρκου Γεωργιάδη"}});
  edit(dte, id, {{"title", "Ανάπλαση του πάρκου"}});
  h.push(planning);
  auto parked = h.push(dte);
  REQUIRE(parked.front().kind == OutcomeKind::kConflict);
  auto conflict = changelog::conflict_id_text(*parked.front().conflict);
  h.pull(budget);
  auto refused = budget.store->resolve(conflict, {"master", {}});
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("money only"));
  // A value outside the conflict's group is refused before anything is queued.
  h.pull(planning);
  auto outside = planning.store->resolve(conflict, {"", {{"remarks", "x"}}});
  REQUIRE_FALSE(outside);
  CHECK_THAT(outside.error().message, Catch::Contains("not in the conflict's group"));
}

TEST_CASE("envelopes: budget sets them, everyone sees the arithmetic to the cent",
          "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto& budget2 = h.add_client(Role::kBudget, "", "budget-2");
  std::vector<core::ProposalId> ids;
  for (const auto* title : {"Οδός Α", "Οδός Β", "Οδός Γ"}) {
    ids.push_back(create(dte, title, "DTE"));
    REQUIRE(dte.store->submit(ids.back()));
  }
  h.sync(dte);
  h.pull(planning);
  REQUIRE(planning.store->decide({ids[0], ids[1]}, model::State::kIncluded, ""));
  h.sync(planning);

  // Offline, the client refuses what the server would.
  auto not_budget = planning.store->set_envelope(2024, "1099", model::Money::from_cents(1));
  REQUIRE_FALSE(not_budget);
  CHECK_THAT(not_budget.error().message, Catch::Contains("only budget"));
  h.pull(budget);
  auto unknown = budget.store->set_envelope(2024, "9999", model::Money::from_cents(1));
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error().message, Catch::Contains("'9999' is not a funding source"));
  CHECK_THAT(unknown.error().message, !Catch::Contains("2024:9999"));  // what was typed
  REQUIRE(budget.store->set_envelope(2024, "1099", *model::Money::parse("700.000,00")));
  REQUIRE(budget.store->set_envelope(2024, "0518", *model::Money::parse("50.000,00")));
  h.sync(budget);

  for (auto* c : {&dte, &planning, &budget}) {
    h.pull(*c);
    auto uses = c->store->envelope_uses(2024);
    REQUIRE(uses);
    // The same figures, recomputed here from the proposals the client lists.
    ergon::client::ListFilter year;
    year.year = 2024;
    auto all = c->store->list(year);
    REQUIRE(all);
    std::int64_t allocated = 0, requested = 0;
    for (const auto& p : *all)
      for (const auto& line : p.funding)
        if (line.source == "1099") {
          if (p.state == model::State::kIncluded) allocated += line.amount.cents();
          if (p.state == model::State::kIncluded || p.state == model::State::kSubmitted)
            requested += line.amount.cents();
        }
    REQUIRE(uses->size() == 2u);
    const auto& fund = uses->at(0).source == "1099" ? uses->at(0) : uses->at(1);
    const auto& other = uses->at(0).source == "1099" ? uses->at(1) : uses->at(0);
    CHECK(fund.envelope->cents() == 70'000'000);
    CHECK(fund.allocated.cents() == allocated);
    CHECK(allocated == 80'000'000);
    CHECK(fund.requested.cents() == requested);
    CHECK(requested == 120'000'000);
    CHECK(fund.remaining->cents() == 70'000'000 - allocated);
    CHECK(fund.is_over());
    CHECK(other.source == "0518");
    CHECK(other.allocated.cents() == 0);
    CHECK_FALSE(other.is_over());
  }

  // Two budget devices setting the same source offline meet as a conflict.
  h.pull(budget2);
  REQUIRE(budget.store->set_envelope(2024, "1099", *model::Money::parse("900.000,00")));
  REQUIRE(budget2.store->set_envelope(2024, "1099", *model::Money::parse("800.000,00")));
  CHECK(h.push(budget).front().kind == OutcomeKind::kAccepted);
  CHECK(h.push(budget2).front().kind == OutcomeKind::kConflict);
}

namespace {

// Where the server's own flags table has flag `id`: open, acknowledged, cleared, or "" if absent.
std::string server_flag_status(SyncHarness& h, const std::string& id) {
  auto flags = h.master().flags();
  REQUIRE(flags);
  for (const auto& f : *flags)
    if (f.id == id) return f.status;
  return "";
}

std::optional<ergon::client::FlagView> flag_of(SyncHarness::Client& c, const std::string& id) {
  auto flags = c.store->flags(2024);
  REQUIRE(flags);
  for (const auto& f : *flags)
    if (f.id == id) return f;
  return std::nullopt;
}

}  // namespace

TEST_CASE(
    "flags open, are acknowledged with a reason, open again as the cause grows, and close "
    "by themselves",
    "[merge][scenario]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  std::vector<core::ProposalId> ids;
  for (const auto* title : {"Οδός Α", "Οδός Β", "Οδός Γ"}) {
    ids.push_back(create(dte, title, "DTE"));
    REQUIRE(dte.store->submit(ids.back()));
  }
  h.sync(dte);
  h.pull(planning);
  REQUIRE(planning.store->decide({ids[0], ids[1]}, model::State::kIncluded, ""));
  h.sync(planning);
  h.pull(budget);
  REQUIRE(budget.store->set_envelope(2024, "1099", *model::Money::parse("700.000,00")));
  h.sync(budget);
  const std::string id = "envelope:2024:1099";
  for (auto* c : {&dte, &planning, &budget}) {
    h.pull(*c);
    auto flag = flag_of(*c, id);
    REQUIRE(flag);
    CHECK(flag->flag.level == 10'000'000);  // 800.000,00 included on a 700.000,00 envelope
    CHECK(flag->flag.proposals.size() == 2u);
    CHECK_FALSE(flag->acknowledged);
  }

  // Who may acknowledge, with a reason, checked offline as the server will.
  CHECK_FALSE(dte.store->acknowledge_flag(id, "όχι"));
  CHECK_FALSE(planning.store->acknowledge_flag(id, ""));
  CHECK_FALSE(planning.store->acknowledge_flag("envelope:2024:0518", "δεν υπάρχει"));
  REQUIRE(planning.store->acknowledge_flag(id, "Συμπληρωματική χρηματοδότηση"));
  CHECK(h.push(planning).front().kind == OutcomeKind::kAccepted);
  auto fresh = &h.add_client(Role::kAuditor, "", "auditor");  // bootstraps: acks come along
  for (auto* c : {&dte, &planning, &budget, fresh}) {
    h.pull(*c);
    auto flag = flag_of(*c, id);
    REQUIRE(flag);
    REQUIRE(flag->acknowledged);
    CHECK(flag->acknowledged->reason == "Συμπληρωματική χρηματοδότηση");
    CHECK(flag->acknowledged->user == "planning");
  }
  CHECK(server_flag_status(h, id) == "acknowledged");

  // The cause grows: the acknowledgement no longer holds, on the client and on the server.
  REQUIRE(planning.store->decide({ids[2]}, model::State::kIncluded, ""));
  CHECK_FALSE(flag_of(planning, id)->acknowledged);
  h.sync(planning);
  CHECK(server_flag_status(h, id) == "open");

  // An acknowledgement made offline while budget removes the cause is refused by the server.
  REQUIRE(planning.store->acknowledge_flag(id, "και πάλι"));
  REQUIRE(budget.store->set_envelope(2024, "1099", *model::Money::parse("2.000.000,00")));
  h.sync(budget);
  auto late = h.push(planning);
  CHECK(late.front().kind == OutcomeKind::kRejected);
  CHECK_THAT(late.front().reason, Catch::Contains("not raised now"));
  for (auto* c : {&dte, &planning, &budget}) {
    h.pull(*c);
    CHECK_FALSE(flag_of(*c, id));  // closed by itself
    CHECK(h.converged(*c));
  }
  CHECK(server_flag_status(h, id) == "cleared");
}

TEST_CASE("a create for a year the server has not open is rejected, naming the open years",
          "[merge][scenario]") {
  SyncHarness h;  // a 2024 server
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  // Before a server has named the year, the client takes the create; the server decides.
  auto later = planning.store->create(testing::a_work("Έργο του 2025", "DTE"), 2025);
  REQUIRE(later);
  auto outcomes = h.push(planning);
  REQUIRE(outcomes.size() == 1u);
  CHECK(outcomes[0].kind == OutcomeKind::kRejected);
  CHECK_THAT(outcomes[0].reason, Catch::Contains("2025 is not open") && Catch::Contains("2024"));
  h.pull(planning);  // learns the rejection; the change is no longer pending
  auto now = planning.store->create(testing::a_work("Έργο του 2024", "DTE"), 2024);
  REQUIRE(now);
  auto accepted = h.push(planning);
  REQUIRE(accepted.size() == 1u);
  INFO(accepted.front().reason);
  CHECK(accepted.front().kind == OutcomeKind::kAccepted);
}

// #27: the horizon is what the device had seen of the whole log, not of the edited group.
TEST_CASE("a device that had seen a change never conflicts with it; an unseen one still conflicts",
          "[merge][scenario][horizon]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& planning = h.add_client(Role::kPlanning, "", "planning");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto id = create(dte, "Ανάπλαση πάρκου", "DTE");
  h.sync(dte);
  h.pull(planning);
  h.pull(budget);

  // A changes G1 and is accepted: a submit, a decision, a withdrawal, an edit of the money.
  auto what = GENERATE(as<std::string>{}, "submit", "include", "withdraw", "money");
  INFO("A's change: " << what);
  auto& a = what == "include" ? planning : dte;
  if (what == "submit" || what == "include") REQUIRE(dte.store->submit(id));
  if (what == "include") {
    h.sync(dte);
    h.pull(planning);
    REQUIRE(planning.store->decide({id}, model::State::kIncluded, ""));
  }
  if (what == "withdraw") REQUIRE(dte.store->withdraw(id));
  if (what == "money") edit(dte, id, {{"allocation", "120.000,00"}, {"funding", "1099"}});
  for (const auto& o : h.push(a)) REQUIRE(o.kind == OutcomeKind::kAccepted);

  SECTION("B synced first: its edits of another group and of the same group are accepted") {
    h.pull(budget);
    edit(budget, id, {{"allocation", "250.000,00"}, {"funding", "1099"}});
    auto money = h.push(budget);
    REQUIRE(money.size() == 1u);
    INFO(money[0].reason);
    CHECK(money[0].kind == OutcomeKind::kAccepted);
    h.pull(planning);
    edit(planning, id, {{"remarks", "ελέγχθηκε"}});
    auto remarks = h.push(planning);
    REQUIRE(remarks.size() == 1u);
    INFO(remarks[0].reason);
    CHECK(remarks[0].kind == OutcomeKind::kAccepted);
  }
  SECTION("B edits the same group before it has synced A's change: a conflict") {
    if (what == "withdraw" || what == "money") {
      edit(budget, id, {{"allocation", "250.000,00"}, {"funding", "1099"}});
      auto outcomes = h.push(budget);
      REQUIRE(outcomes.size() == 1u);
      CHECK(outcomes[0].kind == OutcomeKind::kConflict);
    } else {
      // A decision and a submit are state changes: a withdrawal that had not seen them meets
      // them as a conflict (dte submitted; planning decided).
      auto& b = what == "submit" ? planning : dte;
      REQUIRE(b.store->withdraw(id));
      auto outcomes = h.push(b);
      REQUIRE(outcomes.size() == 1u);
      CHECK(outcomes[0].kind == OutcomeKind::kConflict);
    }
  }
  for (auto* c : {&dte, &planning, &budget}) {
    h.pull(*c);
    CHECK(h.converged(*c));
  }
}

TEST_CASE("a device's own change in flight hides what others wrote since: its next edit conflicts",
          "[merge][scenario][horizon]") {
  SyncHarness h;
  auto& dte = h.add_client(Role::kDirectorate, "DTE", "dte");
  auto& budget = h.add_client(Role::kBudget, "", "budget");
  auto id = create(dte, "Ανάπλαση πάρκου", "DTE");
  h.sync(dte);
  h.pull(budget);
  // Budget's money edit waits offline; dte's money edit lands meanwhile.
  edit(budget, id, {{"allocation", "250.000,00"}, {"funding", "1099"}});
  edit(dte, id, {{"allocation", "120.000,00"}, {"funding", "1099"}});
  REQUIRE(h.push(dte).front().kind == OutcomeKind::kAccepted);
  // Budget pulls dte's write, but its own pending value still shows in its view: a second edit
  // of the money has not seen dte's, and must not overwrite it.
  h.pull(budget);
  CHECK(field_of(*budget.store, id, "allocation") == "250000.00");
  edit(budget, id, {{"allocation", "260.000,00"}, {"funding", "1099"}});
  auto outcomes = h.push(budget);
  REQUIRE(outcomes.size() == 2u);
  CHECK(outcomes[0].kind == OutcomeKind::kConflict);
  CHECK(outcomes[1].kind == OutcomeKind::kConflict);
  h.pull(budget);
  h.pull(dte);
  CHECK(h.converged(budget));
  CHECK(field_of(*dte.store, id, "allocation") == "120000.00");  // nothing overwritten
}
