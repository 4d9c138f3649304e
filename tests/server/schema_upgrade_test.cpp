// A schema upgrade takes a backup first: a store written by an older ergond (schema 6, before
// the years and stages tables) is copied whole beside itself before the upgrade runs.

#include <catch2/catch.hpp>

#include "server/store/master_store.h"
#include "shared/storage/database.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using testing::TempDir;

namespace {

// Takes a new store back to schema 6, as the ergond before the stages wrote it (and before
// the merge decision's index of schema 8).
void downgrade_to_schema_6(const std::filesystem::path& db_file) {
  auto db = storage::Database::open(db_file, storage::Durability::kFull,
                                    storage::Database::Mode::kExisting);
  REQUIRE(db);
  REQUIRE(db->exec(R"sql(
DROP TRIGGER stage_events_are_kept; DROP TRIGGER stage_events_are_not_deleted;
DROP TRIGGER stage_proposals_are_frozen; DROP TRIGGER stage_proposals_are_kept;
DROP TRIGGER stage_envelopes_are_frozen; DROP TRIGGER stage_envelopes_are_kept;
DROP TABLE years; DROP TABLE stage_events; DROP TABLE stage_proposals;
DROP TABLE stage_envelopes; DROP INDEX log_revisions_by_entity; PRAGMA user_version = 6;)sql"));
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
