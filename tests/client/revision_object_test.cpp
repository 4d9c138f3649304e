#include "client/store/revision_object.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "client/store/local_schema.h"
#include "client/store/local_sql.h"
#include "shared/storage/database.h"
#include "tests/support/temp_dir.h"

using ergon::changelog::GroupRevision;
using ergon::client::RevisionObject;
using ergon::core::DeviceId;
using ergon::storage::Database;
using ergon::testing::TempDir;
namespace sql = ergon::client::sql;

namespace {

struct Home {
  TempDir dir;
  Database db;

  Home() : db(open(dir)) {}

  static Database open(const TempDir& dir) {
    auto db = Database::open(dir / "home.db", ergon::storage::Durability::kNormal);
    REQUIRE(db);
    REQUIRE(ergon::storage::migrate(*db, ergon::client::local_migrations()));
    return std::move(*db);
  }

  void merge(const std::string& entity, RevisionObject& object) {
    auto stmt = db.prepare(sql::kServerRevisionsMerge);
    REQUIRE(stmt);
    REQUIRE(stmt->bind(1, entity).bind(2, object.take()).run());
  }

  // "epoch/seq/device/user/at_ms" of a group, or nothing when the home holds none.
  std::vector<std::string> who(const std::string& entity, const std::string& group) {
    auto stmt = db.prepare(sql::kServerRevisionWho);
    REQUIRE(stmt);
    stmt->bind(1, entity).bind(2, group);
    auto rows = stmt->collect<std::string>([](auto& s) {
      return std::to_string(s.column_uint64(0)) + "/" + std::to_string(s.column_uint64(1)) + "/" +
             s.column_text(2) + "/" + s.column_text(3) + "/" + std::to_string(s.column_int64(4));
    });
    REQUIRE(rows);
    return *rows;
  }
};

GroupRevision revision(std::uint64_t seq, const DeviceId& device) {
  return GroupRevision{{1, seq}, device, seq};
}

}  // namespace

TEST_CASE("a revision object keeps user names with quotes, backslashes and line breaks exactly",
          "[store]") {
  Home home;
  auto device = DeviceId::random();
  const std::string awkward = "Μαρία \"η μηχανικός\" \\ Δ.Τ.Ε.\nγραφείο\t3";
  RevisionObject object;
  object.add("money", revision(7, device), awkward, 1'700'000'000'000);
  object.add("title", revision(9, device));
  home.merge("p1", object);
  CHECK(home.who("p1", "money") ==
        std::vector<std::string>{"1/7/" + device.hex() + "/" + awkward + "/1700000000000"});
  CHECK(home.who("p1", "title") == std::vector<std::string>{"1/9/" + device.hex() + "//0"});
  CHECK(home.who("p1", "schedule").empty());
  CHECK(home.who("p2", "money").empty());
}

TEST_CASE("merging a revision object replaces the groups it holds and keeps the others",
          "[store]") {
  Home home;
  auto first = DeviceId::random();
  auto second = DeviceId::random();
  RevisionObject created;
  created.add("money", revision(3, first), "Νίκος", 5);
  created.add("title", revision(3, first), "Νίκος", 5);
  home.merge("p1", created);
  RevisionObject edited;
  edited.add("money", revision(11, second), "Ελένη", 8);
  home.merge("p1", edited);
  CHECK(home.who("p1", "money") == std::vector<std::string>{"1/11/" + second.hex() + "/Ελένη/8"});
  CHECK(home.who("p1", "title") == std::vector<std::string>{"1/3/" + first.hex() + "/Νίκος/5"});

  auto all = home.db.prepare(sql::kServerRevisionsAll);
  REQUIRE(all);
  auto rows = all->collect<std::string>([](auto& s) {
    return s.column_text(0) + "/" + std::to_string(s.column_uint64(1)) + "/" +
           std::to_string(s.column_uint64(2));
  });
  REQUIRE(rows);
  std::sort(rows->begin(), rows->end());
  CHECK(*rows == std::vector<std::string>{"p1/1/11", "p1/1/3"});
}

TEST_CASE("an empty revision object is an empty JSON object", "[store]") {
  RevisionObject object;
  CHECK(object.empty());
  CHECK(object.take() == "{}");
  object.add("money", revision(1, DeviceId::random()));
  CHECK_FALSE(object.empty());
  auto text = object.take();
  CHECK(text.front() == '{');
  CHECK(text.back() == '}');
  CHECK(object.empty());
}
