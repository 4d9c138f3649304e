// A schema upgrade takes a backup first: a store written by an older ergond (schema 6, before
// the years and stages tables) is copied whole beside itself before the upgrade runs. Schema
// 9's columns, filled from the log, equal what the writes since keep.

#include <algorithm>
#include <span>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "shared/storage/database.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using testing::TempDir;

namespace {

// Takes a new store back to schema 6, as the ergond before the stages wrote it (and before
// the merge decision's index of schema 8 and the revisions' other-device columns of schema 9).
void downgrade_to_schema_6(const std::filesystem::path& db_file) {
  auto db = storage::Database::open(db_file, storage::Durability::kFull,
                                    storage::Database::Mode::kExisting);
  REQUIRE(db);
  REQUIRE(db->exec(R"sql(
DROP TRIGGER stage_events_are_kept; DROP TRIGGER stage_events_are_not_deleted;
DROP TRIGGER stage_proposals_are_frozen; DROP TRIGGER stage_proposals_are_kept;
DROP TRIGGER stage_envelopes_are_frozen; DROP TRIGGER stage_envelopes_are_kept;
DROP TABLE years; DROP TABLE stage_events; DROP TABLE stage_proposals;
DROP TABLE stage_envelopes; DROP INDEX log_revisions_by_entity;
ALTER TABLE revisions DROP COLUMN other_epoch; ALTER TABLE revisions DROP COLUMN other_seq;
PRAGMA user_version = 6;)sql"));
}

std::vector<std::filesystem::path> copies_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (auto name = e.path().filename().string();
        name.starts_with("ergond.db.before-schema-") && !name.ends_with("-wal") &&
        !name.ends_with("-shm"))  // opening the copy below gives it a WAL
      out.push_back(e.path());
  return out;
}

}  // namespace

TEST_CASE("opening an older store copies it whole before the schema upgrade", "[backup]") {
  TempDir dir;
  auto data = dir / "server";
  {
    auto store = server::MasterStore::create(data, testing::reference_dir(), 2024);
    REQUIRE(store);
  }
  CHECK(copies_in(data).empty());  // a new store is not an upgrade
  downgrade_to_schema_6(data / server::MasterStore::kDatabaseFile);

  auto upgraded = server::MasterStore::open(data);
  REQUIRE(upgraded);
  auto years = upgraded->years();
  REQUIRE(years);
  CHECK(years->size() == 1);
  auto copies = copies_in(data);
  REQUIRE(copies.size() == 1);
  auto copy = storage::Database::open(copies.front(), storage::Durability::kFull,
                                      storage::Database::Mode::kExisting);
  REQUIRE(copy);
  auto version = storage::schema_version(*copy);
  REQUIRE(version);
  CHECK(*version == 6);

  // Opened again, the store is current: no second copy.
  REQUIRE(server::MasterStore::open(data));
  CHECK(copies_in(data).size() == 1);
}

TEST_CASE("schema 9 fills each group's latest revision by another device from the log",
          "[backup][merge]") {
  TempDir dir;
  auto data = dir / "server";
  auto store = server::MasterStore::create(data, testing::reference_dir(), 2024);
  REQUIRE(store);
  server::MergeService merge(*store);
  // Two devices take turns on one proposal and one envelope; the second writes last twice.
  std::vector<server::DeviceContext> devices;
  for (const char* name : {"first", "second"}) {
    auto enrolled = store->enrol(merge::Role::kPlanning, "", name);
    REQUIRE(enrolled);
    auto id = core::DeviceId::random();
    REQUIRE(store->bind(enrolled->device_id, id, ""));
    devices.push_back({id, {merge::Role::kPlanning, "", {}, {2024}}});
  }
  model::Proposal p;
  p.id = core::ProposalId::random();
  p.year = 2024;
  p.directorate = "DTE";
  p.title = "Έργο της μετάβασης";
  p.area = "HER-CITY";
  p.total_budget = model::Money::from_cents(100'000'000);
  std::uint64_t seqs[2] = {0, 0};
  changelog::Revision seen;  // each edit has seen everything before it: no conflicts
  auto push = [&](int who, const std::string& group, model::FieldValues values,
                  changelog::EntityKind kind = changelog::EntityKind::kProposal) {
    changelog::Change c;
    c.device_id = devices[static_cast<std::size_t>(who)].device_id;
    c.device_seq = ++seqs[who];
    c.entity = {kind, kind == changelog::EntityKind::kEnvelope ? "2024:1099" : p.id.hex()};
    c.group = group;
    c.values = std::move(values);
    c.user = "Δοκιμή";
    if (group != "create") c.base = {changelog::Base::Kind::kRevision, seen, 0};
    auto outcomes = merge.apply_batch(devices[static_cast<std::size_t>(who)], std::span(&c, 1));
    REQUIRE(outcomes);
    INFO(outcomes->front().reason);
    REQUIRE(outcomes->front().kind == changelog::OutcomeKind::kAccepted);
    seen = outcomes->front().position;
  };
  push(0, "create", model::all_values(p));
  push(1, "remarks", {{"remarks", "δεύτερη"}});
  push(0, "remarks", {{"remarks", "πρώτη"}});
  push(1, "remarks", {{"remarks", "δεύτερη ξανά"}});
  push(1, "remarks", {{"remarks", "δεύτερη τρίτη φορά"}});
  devices[1].permission.role = merge::Role::kBudget;
  push(1, "amount", {{"amount", "10.00"}}, changelog::EntityKind::kEnvelope);
  devices[1].permission.role = merge::Role::kPlanning;

  auto rows = [&] {
    auto db =
        storage::Database::open(data / server::MasterStore::kDatabaseFile,
                                storage::Durability::kFull, storage::Database::Mode::kExisting);
    REQUIRE(db);
    auto stmt = db->prepare(
        "SELECT entity || '/' || grp || ':' || device_id || ':' || other_epoch || '.' || "
        "other_seq FROM revisions ORDER BY entity, grp");
    REQUIRE(stmt);
    std::vector<std::string> out;
    for (;;) {
      auto step = stmt->step();
      REQUIRE(step);
      if (*step != storage::StepResult::kRow) break;
      out.push_back(stmt->column_text(0));
    }
    return out;
  };
  auto kept = rows();  // as the writes kept them
  CHECK(kept.size() == model::all_groups().size() + 1);
  REQUIRE(std::count_if(kept.begin(), kept.end(), [&](const std::string& r) {
            return r.starts_with(p.id.hex() + "/remarks:") && !r.ends_with(":0.0");
          }) == 1);
  {
    auto db =
        storage::Database::open(data / server::MasterStore::kDatabaseFile,
                                storage::Durability::kFull, storage::Database::Mode::kExisting);
    REQUIRE(db);
    REQUIRE(
        db->exec("ALTER TABLE revisions DROP COLUMN other_epoch; ALTER TABLE revisions DROP "
                 "COLUMN other_seq; PRAGMA user_version = 8;"));
  }
  REQUIRE(server::MasterStore::open(data));
  CHECK(rows() == kept);  // the migration, from the log alone, finds what the writes kept
}
