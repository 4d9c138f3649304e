#include "client/store/local_store.h"

#include <cstdint>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "client/store/importer.h"
#include "client/store/local_schema.h"
#include "shared/core/clock.h"
#include "shared/storage/database.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using ergon::changelog::Base;
using ergon::client::InitOptions;
using ergon::client::ListFilter;
using ergon::client::LocalStore;
using ergon::client::OutboxEntry;
using ergon::core::ErrorCode;
using ergon::core::ProposalId;
using ergon::model::FieldValues;
using ergon::model::Proposal;
using ergon::model::State;
using ergon::testing::TempDir;

namespace {

InitOptions dte_options() {
  InitOptions options;
  options.directorate = "DTE";
  options.user = "Μαρία Παπαδάκη";
  options.year = 2024;
  options.reference_dir = ergon::testing::reference_dir();
  return options;
}

LocalStore init_store(const TempDir& dir,
                      const ergon::core::Clock& clock = ergon::core::system_clock()) {
  auto store = LocalStore::init(dir / "home", dte_options(), clock);
  if (!store) FAIL("init: " << store.error().message);
  return std::move(*store);
}

// A complete, valid new proposal in the forms a person types.
FieldValues square_values() {
  return {{"title", "Ανάπλαση πλατείας Αγίου Τίτου"},
          {"category", "work"},
          {"ka_code", "30-7323.050"},
          {"new_or_continuing", "new"},
          {"area", "HER-CITY"},
          {"total_budget", "1.500.000,00"},
          {"paid_to_date", "100.000,00"},
          {"allocation", "800.000,00"},
          {"funding", "1099=300.000,00|0518=500.000,00"},
          {"status", "maturing"},
          {"strategic_plans", "SVAA|SMART"},
          {"priority", "A"},
          {"remarks", "Πρώτη φάση"}};
}

std::vector<OutboxEntry> outbox_of(LocalStore& store) {
  auto outbox = store.outbox();
  if (!outbox) FAIL("outbox: " << outbox.error().message);
  return std::move(*outbox);
}

Proposal get_of(LocalStore& store, const ProposalId& id) {
  auto p = store.get(id);
  if (!p) FAIL("get: " << p.error().message);
  return *p;
}

Proposal create_square(LocalStore& store) {
  auto created = store.create(square_values());
  if (!created) FAIL("create: " << created.error().message);
  return *created;
}

// Device sequences must run 1, 2, 3... in outbox order.
void require_gap_free(const std::vector<OutboxEntry>& outbox) {
  for (std::size_t i = 0; i < outbox.size(); ++i) {
    CAPTURE(i);
    REQUIRE(outbox[i].change.device_seq == i + 1);
  }
}

std::vector<std::string> titles_of(const std::vector<Proposal>& proposals) {
  std::vector<std::string> titles;
  for (const auto& p : proposals) titles.push_back(p.title);
  return titles;
}

std::vector<Proposal> list_of(LocalStore& store, const ListFilter& filter) {
  auto list = store.list(filter);
  if (!list) FAIL("list: " << list.error().message);
  return std::move(*list);
}

void import_sample(LocalStore& store) {
  auto text =
      ergon::testing::read_file(ergon::testing::reference_dir() / "sample-programme-2024.csv");
  REQUIRE_FALSE(text.empty());
  auto report = ergon::client::import_csv(store, text, 2024);
  if (!report) FAIL("import: " << report.error().message);
  REQUIRE(report->created == 20u);
}

}  // namespace

TEST_CASE("creating a proposal queues exactly one create change with every value and no base",
          "[store]") {
  TempDir dir;
  auto store = init_store(dir);
  auto p = create_square(store);

  CHECK(p.state == State::kDraft);
  CHECK(p.year == 2024);
  CHECK(p.directorate == "DTE");  // the client's directorate by default
  CHECK(p.allocation.cents() == 80000000);

  auto outbox = outbox_of(store);
  REQUIRE(outbox.size() == 1u);
  const auto& c = outbox[0].change;
  CHECK(outbox[0].status == ergon::client::OutboxStatus::kPending);
  CHECK(c.device_seq == 1u);
  CHECK(c.device_id == store.device().device_id);
  CHECK(c.group == "create");
  CHECK(c.entity.key == p.id.hex());
  CHECK(c.base.kind == Base::Kind::kNone);
  CHECK(c.user == "Μαρία Παπαδάκη");
  CHECK(c.values == ergon::model::all_values(p));
  // Canonical text: plain money, sorted funding, the programme year, the draft state.
  CHECK(c.values.at("total_budget") == "1500000.00");
  CHECK(c.values.at("funding") == "0518=500000.00|1099=300000.00");
  CHECK(c.values.at("year") == "2024");
  CHECK(c.values.at("state") == "draft");
  CHECK(c.values.at("directorate") == "DTE");
  CHECK(c.values.at("id") == p.id.hex());
  CHECK(get_of(store, p.id) == p);
}

TEST_CASE("a create missing a required field is refused and uses no sequence number", "[store]") {
  TempDir dir;
  auto store = init_store(dir);
  auto values = square_values();
  values.erase("title");
  auto refused = store.create(values);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(refused.error().message, Contains("title"));
  CHECK(outbox_of(store).empty());

  create_square(store);
  auto outbox = outbox_of(store);
  REQUIRE(outbox.size() == 1u);
  CHECK(outbox[0].change.device_seq == 1u);
}

TEST_CASE("an edit of allocation and funding queues one money change with the home's horizon",
          "[store]") {
  TempDir dir;
  auto store = init_store(dir);
  auto p = create_square(store);

  auto edited = store.edit(
      p.id, {{"allocation", "900.000,00"}, {"funding", "1099=400.000,00|0518=500.000,00"}});
  REQUIRE(edited);
  REQUIRE(edited->queued_seqs == std::vector<std::uint64_t>{2});
  CHECK(edited->proposal.allocation.cents() == 90000000);

  auto outbox = outbox_of(store);
  REQUIRE(outbox.size() == 2u);
  const auto& money = outbox[1].change;
  CHECK(money.device_seq == 2u);
  CHECK(money.group == "money");
  // Its horizon: what the home had seen of the server's log (nothing yet, never synced).
  CHECK(money.base.kind == Base::Kind::kRevision);
  CHECK(money.base.revision == ergon::changelog::Revision{});
  CHECK(money.values == FieldValues{{"allocation", "900000.00"},
                                    {"funding", "0518=500000.00|1099=400000.00"},
                                    {"paid_to_date", "100000.00"},
                                    {"total_budget", "1500000.00"}});
  CHECK(get_of(store, p.id).allocation.cents() == 90000000);

  SECTION("a second edit of the same group keeps the horizon of the changes in flight") {
    auto again = store.edit(p.id, {{"allocation", "700.000,00"}, {"funding", "1099"}});
    REQUIRE(again);
    REQUIRE(again->queued_seqs == std::vector<std::uint64_t>{3});
    outbox = outbox_of(store);
    REQUIRE(outbox.size() == 3u);
    CHECK(outbox[2].change.group == "money");
    CHECK(outbox[2].change.base.kind == Base::Kind::kRevision);
    CHECK(outbox[2].change.base.revision == ergon::changelog::Revision{});
    CHECK(outbox[2].change.values.at("funding") == "1099=700000.00");
  }

  SECTION("an edit of title and money queues two changes with gap-free sequences") {
    auto both = store.edit(p.id, {{"title", "Ανάπλαση πλατείας Αγίου Τίτου (Β' φάση)"},
                                  {"allocation", "600.000,00"},
                                  {"funding", "0518"}});
    REQUIRE(both);
    REQUIRE(both->queued_seqs == std::vector<std::uint64_t>{3, 4});
    outbox = outbox_of(store);
    REQUIRE(outbox.size() == 4u);
    require_gap_free(outbox);
    CHECK(outbox[2].change.group == "title");
    CHECK(outbox[2].change.base.kind == Base::Kind::kRevision);
    CHECK(outbox[2].change.values ==
          FieldValues{{"title", "Ανάπλαση πλατείας Αγίου Τίτου (Β' φάση)"}});
    CHECK(outbox[3].change.group == "money");
    CHECK(outbox[3].change.base == outbox[2].change.base);
    CHECK(outbox[3].change.client_time > outbox[2].change.client_time);
  }
}

TEST_CASE("an edit that changes nothing visible queues nothing", "[store]") {
  TempDir dir;
  auto store = init_store(dir);
  auto p = create_square(store);

  auto same = GENERATE(as<FieldValues>{},
                       FieldValues{{"allocation", "800000.00"}},  // plain form of the same amount
                       FieldValues{{"title", "  Ανάπλαση   πλατείας\tΑγίου Τίτου "}},
                       FieldValues{{"funding", "0518=500.000,00|1099=300.000,00"}},
                       FieldValues{{"strategic_plans", "SMART|SVAA|SMART"}},
                       FieldValues{{"ka_code", "30.7323.50"}}, FieldValues{{"priority", "a"}});
  auto edited = store.edit(p.id, same);
  REQUIRE(edited);
  CHECK(edited->queued_seqs.empty());
  CHECK(outbox_of(store).size() == 1u);
  CHECK(get_of(store, p.id) == p);
}

TEST_CASE("an invalid edit is refused naming the field and changes neither outbox nor proposal",
          "[store]") {
  TempDir dir;
  auto store = init_store(dir);
  auto p = create_square(store);
  REQUIRE(store.edit(p.id, {{"remarks", "δεύτερη"}}));

  SECTION("allocation above total minus paid") {
    auto refused = store.edit(p.id, {{"allocation", "1.450.000,00"}, {"funding", "1099"}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(refused.error().message, Contains("allocation"));
    CHECK_THAT(refused.error().message, Contains("1.400.000,00"));  // what is allowed
  }
  SECTION("a valid title change together with an invalid amount") {
    auto refused = store.edit(p.id, {{"title", "Νέος τίτλος"}, {"total_budget", "abc"}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(refused.error().message, Contains("total_budget"));
  }
  SECTION("an unknown area") {
    auto refused = store.edit(p.id, {{"area", "ATLANTIS"}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(refused.error().message, Contains("area") && Contains("ATLANTIS"));
  }
  SECTION("a field that is not set by hand") {
    auto refused = store.edit(p.id, {{"state", "included"}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kUsage);
    CHECK_THAT(refused.error().message, Contains("state"));
  }

  auto outbox = outbox_of(store);
  CHECK(outbox.size() == 2u);
  auto now = get_of(store, p.id);
  CHECK(now.allocation == p.allocation);
  CHECK(now.title == p.title);
  CHECK(now.area == p.area);
  CHECK(now.state == State::kDraft);

  // The next accepted edit continues the sequence without a gap.
  auto next = store.edit(p.id, {{"priority", "B"}});
  REQUIRE(next);
  CHECK(next->queued_seqs == std::vector<std::uint64_t>{3});
  require_gap_free(outbox_of(store));
}

TEST_CASE("a draft is submitted once and submitting again queues nothing, as on the server",
          "[store]") {
  TempDir dir;
  auto store = init_store(dir);
  auto p = create_square(store);

  auto submitted = store.submit(p.id);
  REQUIRE(submitted);
  CHECK(submitted->proposal.state == State::kSubmitted);
  REQUIRE(submitted->queued_seqs == std::vector<std::uint64_t>{2});
  auto outbox = outbox_of(store);
  REQUIRE(outbox.size() == 2u);
  CHECK(outbox[1].change.group == "state");
  CHECK(outbox[1].change.values.at("state") == "submitted");
  CHECK(outbox[1].change.base.kind == Base::Kind::kRevision);
  CHECK(get_of(store, p.id).state == State::kSubmitted);

  auto again = store.submit(p.id);
  REQUIRE(again);
  CHECK(again->queued_seqs.empty());
  CHECK(again->proposal.state == State::kSubmitted);
  CHECK(outbox_of(store).size() == 2u);

  SECTION("after submission a directorate may still change the money") {
    auto edited = store.edit(p.id, {{"allocation", "500.000,00"}, {"funding", "1099"}});
    REQUIRE(edited);
    CHECK(edited->queued_seqs.size() == 1u);
    CHECK(get_of(store, p.id).state == State::kSubmitted);
  }
  SECTION("a classification change after submission is refused for a directorate") {
    for (const auto& fields : {FieldValues{{"category", "study"}, {"ka_code", ""}},
                               FieldValues{{"ka_code", "30-7323.051"}},
                               FieldValues{{"ka_code", ""}, {"remarks", "χωρίς ΚΑ"}}}) {
      auto refused = store.edit(p.id, fields);
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code == ErrorCode::kPermissionDenied);
      CHECK_THAT(refused.error().message, Contains("category") && Contains("draft"));
    }
    CHECK(outbox_of(store).size() == 2u);
    auto now = get_of(store, p.id);
    CHECK(now.ka_code == p.ka_code);
    CHECK(now.category == p.category);
    CHECK(now.remarks == p.remarks);
  }
}

TEST_CASE("a withdrawn proposal is kept, cannot be edited and cannot be withdrawn again",
          "[store]") {
  TempDir dir;
  auto store = init_store(dir);
  auto p = create_square(store);
  bool submit_first = GENERATE(false, true);
  if (submit_first) REQUIRE(store.submit(p.id));
  auto before = outbox_of(store).size();

  auto withdrawn = store.withdraw(p.id);
  REQUIRE(withdrawn);
  CHECK(withdrawn->proposal.state == State::kWithdrawn);
  REQUIRE(withdrawn->queued_seqs.size() == 1u);
  auto outbox = outbox_of(store);
  REQUIRE(outbox.size() == before + 1);
  CHECK(outbox.back().change.group == "state");
  CHECK(outbox.back().change.values.at("state") == "withdrawn");
  CHECK(get_of(store, p.id).state == State::kWithdrawn);

  auto edit = store.edit(p.id, {{"remarks", "αλλαγή"}});
  REQUIRE_FALSE(edit);
  CHECK(edit.error().code == ErrorCode::kPermissionDenied);
  CHECK_THAT(edit.error().message, Contains("withdrawn"));
  auto submit = store.submit(p.id);
  REQUIRE_FALSE(submit);
  auto again = store.withdraw(p.id);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kPermissionDenied);

  CHECK(outbox_of(store).size() == before + 1);
  auto now = get_of(store, p.id);
  CHECK(now.remarks == p.remarks);
  CHECK(now.state == State::kWithdrawn);
  CHECK(list_of(store, {}).size() == 1u);  // kept, not deleted
}

TEST_CASE(
    "an id is resolved from 8 or more hex digits; short, unknown and ambiguous prefixes "
    "are refused",
    "[store]") {
  TempDir dir;
  auto store = init_store(dir);
  auto p = create_square(store);
  auto hex = p.id.hex();

  SECTION("prefixes of 8 and more digits, in either case, and the whole id") {
    for (std::size_t length : {8u, 12u, 31u, 32u}) {
      auto prefix = hex.substr(0, length);
      CAPTURE(prefix);
      auto id = store.resolve_id(prefix);
      REQUIRE(id);
      CHECK(*id == p.id);
    }
    std::string upper = hex.substr(0, 10);
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    auto id = store.resolve_id(" " + upper + " ");
    REQUIRE(id);
    CHECK(*id == p.id);
  }
  SECTION("too short or not hex") {
    for (std::string text :
         {hex.substr(0, 7), std::string(""), std::string("zzzzzzzz"), hex + "0"}) {
      CAPTURE(text);
      auto id = store.resolve_id(text);
      REQUIRE_FALSE(id);
      CHECK(id.error().code == ErrorCode::kInvalidArgument);
      CHECK_THAT(id.error().message, Contains("8"));
    }
  }
  SECTION("unknown prefix") {
    std::string other = hex.substr(0, 8);
    other[0] = other[0] == '0' ? '1' : '0';
    auto id = store.resolve_id(other);
    REQUIRE_FALSE(id);
    CHECK(id.error().code == ErrorCode::kNotFound);
    CHECK_THAT(id.error().message, Contains(other));
  }
  SECTION("a prefix shared by two proposals lists both") {
    std::string csv =
        "id;ka_code;title;category;new_or_continuing;area;total_budget;status;priority\n"
        "aaaaaaaa000000000000000000000001;30-7323.901;Πρώτη πρόταση;work;new;ALL;1.000,00;"
        "maturing;A\n"
        "aaaaaaaa000000000000000000000002;30-7323.902;Δεύτερη πρόταση;work;new;ALL;2.000,00;"
        "maturing;B\n";
    auto report = ergon::client::import_csv(store, csv, std::nullopt);
    INFO((report ? std::string() : report.error().message));
    REQUIRE(report);
    REQUIRE(report->created == 2u);

    auto id = store.resolve_id("aaaaaaaa");
    REQUIRE_FALSE(id);
    CHECK(id.error().code == ErrorCode::kAmbiguous);
    CHECK_THAT(id.error().message, Contains("aaaaaaaa000000000000000000000001") &&
                                       Contains("aaaaaaaa000000000000000000000002"));

    auto second = store.resolve_id("aaaaaaaa000000000000000000000002");
    REQUIRE(second);
    CHECK(get_of(store, *second).title == "Δεύτερη πρόταση");
    CHECK(get_of(store, *second).directorate == "DTE");
  }
}

TEST_CASE(
    "list searches title and remarks ignoring case and accents, and filters by directorate "
    "and state",
    "[store]") {
  TempDir dir;
  // A home that has not learnt its identity yet (as planning's before its first sync): it
  // submits and withdraws rows of every directorate, and the server decides.
  auto made = LocalStore::init(dir / "home", {});
  REQUIRE(made);
  auto& store = *made;
  import_sample(store);

  auto search = [&](std::string words) {
    ListFilter filter;
    filter.search = std::move(words);
    return titles_of(list_of(store, filter));
  };
  CHECK(search("οδοποιια") == std::vector<std::string>{"Αγροτική οδοποιία Τ.Κ. Αγίου Μύρωνος"});
  CHECK(search("ΠΛΑΤΕΙΑΣ ελευθεριας") ==
        std::vector<std::string>{"Αναβάθμιση και εξωραϊσμός Πλατείας Ελευθερίας"});
  CHECK(search("ΟΔΟΠΟΙΪΑ") == std::vector<std::string>{"Αγροτική οδοποιία Τ.Κ. Αγίου Μύρωνος"});
  CHECK(search("  ελευθεριας   πλατειας ") ==
        std::vector<std::string>{"Αναβάθμιση και εξωραϊσμός Πλατείας Ελευθερίας"});
  // Remarks are searched too.
  CHECK(search("συμβαση") ==
        std::vector<std::string>{"Αναβάθμιση και εξωραϊσμός Πλατείας Ελευθερίας"});
  // Every word must appear.
  CHECK(search("πλατειας οδοποιια").empty());
  // Past the four words the query filters, the rest are checked too.
  CHECK(search("αναβαθμιση και εξωραισμος πλατειας ελευθεριας") ==
        std::vector<std::string>{"Αναβάθμιση και εξωραϊσμός Πλατείας Ελευθερίας"});
  CHECK(search("αναβαθμιση και εξωραισμος πλατειας οδοποιια").empty());
  CHECK(search("").size() == 20u);

  ListFilter by_directorate;
  by_directorate.directorate = "DTE";
  auto dte = list_of(store, by_directorate);
  CHECK(dte.size() == 15u);
  for (const auto& p : dte) CHECK(p.directorate == "DTE");
  by_directorate.directorate = "DHM";
  CHECK(titles_of(list_of(store, by_directorate)) ==
        std::vector<std::string>{"Αντικατάσταση φωτιστικών οδοφωτισμού με LED"});

  ListFilter lighting;
  lighting.search = "led";
  auto led = list_of(store, lighting);
  REQUIRE(led.size() == 1u);
  ListFilter square;
  square.search = "πλατειας";
  auto squares = list_of(store, square);
  REQUIRE(squares.size() == 1u);
  REQUIRE(store.submit(led[0].id));
  REQUIRE(store.submit(squares[0].id));
  REQUIRE(store.withdraw(squares[0].id));

  ListFilter submitted;
  submitted.state = State::kSubmitted;
  CHECK(titles_of(list_of(store, submitted)) == titles_of(led));
  ListFilter withdrawn;
  withdrawn.state = State::kWithdrawn;
  withdrawn.search = "ελευθεριας";
  CHECK(titles_of(list_of(store, withdrawn)) == titles_of(squares));
  ListFilter drafts;
  drafts.state = State::kDraft;
  CHECK(list_of(store, drafts).size() == 18u);
  drafts.directorate = "DHM";
  CHECK(list_of(store, drafts).empty());
  ListFilter other_year;
  other_year.year = 2025;
  CHECK(list_of(store, other_year).empty());
}

TEST_CASE("re-opening the home keeps the device id, the outbox and a monotonic clock", "[store]") {
  TempDir dir;
  ergon::core::FakeClock early(1'800'000'000'000);
  std::string device;
  ProposalId id;
  std::vector<OutboxEntry> first_outbox;
  {
    auto store = init_store(dir, early);
    device = store.device().device_id.hex();
    auto p = create_square(store);
    id = p.id;
    REQUIRE(store.edit(id, {{"remarks", "πρώτη"}}));
    first_outbox = outbox_of(store);
    REQUIRE(first_outbox.size() == 2u);
  }

  // The wall clock has gone back an hour since: the new changes must still be later.
  ergon::core::FakeClock late(1'800'000'000'000 - 3'600'000);
  auto reopened = LocalStore::open(dir / "home", late);
  REQUIRE(reopened);
  CHECK(reopened->device().device_id.hex() == device);
  CHECK(reopened->device().directorate == "DTE");
  CHECK(reopened->device().user == "Μαρία Παπαδάκη");
  CHECK(reopened->device().year == 2024);
  auto outbox = outbox_of(*reopened);
  REQUIRE(outbox.size() == 2u);
  for (std::size_t i = 0; i < outbox.size(); ++i) CHECK(outbox[i].change == first_outbox[i].change);

  auto edited = reopened->edit(id, {{"remarks", "δεύτερη"}});
  REQUIRE(edited);
  CHECK(edited->queued_seqs == std::vector<std::uint64_t>{3});
  outbox = outbox_of(*reopened);
  REQUIRE(outbox.size() == 3u);
  require_gap_free(outbox);
  CHECK(outbox[2].change.client_time > outbox[1].change.client_time);
  CHECK(outbox[1].change.client_time > outbox[0].change.client_time);
  CHECK(get_of(*reopened, id).remarks == "δεύτερη");

  SECTION("running init again keeps the device id and the edits") {
    auto options = dte_options();
    options.user = "Γιώργος";
    auto again = LocalStore::init(dir / "home", options, late);
    REQUIRE(again);
    CHECK(again->device().device_id.hex() == device);
    CHECK(again->device().user == "Γιώργος");
    CHECK(outbox_of(*again).size() == 3u);
    CHECK(get_of(*again, id).remarks == "δεύτερη");
  }
}

TEST_CASE("opening a folder without a home fails with advice", "[store]") {
  TempDir dir;
  auto store = LocalStore::open(dir / "nothing-here");
  REQUIRE_FALSE(store);
  CHECK(store.error().code == ErrorCode::kNotFound);
  CHECK_THAT(store.error().message, Contains("ergon init"));
}

// Regression: Statement::bind (shared/storage/database.cpp) bound the default std::string_view
// that LocalStore::write_view passes for a missing ΚΑ code as SQL NULL, and proposals.ka_code is
// NOT NULL: "running SQL: NOT NULL constraint failed: proposals.ka_code". Fixed in 96fe902.
TEST_CASE("a proposal without a ΚΑ code can be created, and a ΚΑ code can be cleared", "[store]") {
  TempDir dir;
  auto store = init_store(dir);

  SECTION("created without a code") {
    auto values = square_values();
    values.erase("ka_code");
    auto created = store.create(values);
    INFO((created ? std::string() : created.error().message));
    REQUIRE(created);
    CHECK_FALSE(created->ka_code.has_value());
    CHECK(outbox_of(store).size() == 1u);
    CHECK_FALSE(get_of(store, created->id).ka_code.has_value());
  }
  SECTION("the code of a draft cleared") {
    auto p = create_square(store);
    auto cleared = store.edit(p.id, {{"ka_code", ""}});
    INFO((cleared ? std::string() : cleared.error().message));
    REQUIRE(cleared);
    CHECK(cleared->queued_seqs == std::vector<std::uint64_t>{2});
    CHECK_FALSE(get_of(store, p.id).ka_code.has_value());
  }
}

// Bug: the hybrid clock is read from the home only when a store is opened
// (LocalStore::load_settings, client/store/local_store.cpp); queue_change
// (client/store/local_store.cpp, `hlc_.now()`) then stamps changes from that in-memory copy,
// although it reads next_seq inside the write transaction. Two `ergon` processes on one home (an
// import in one terminal, an edit in another) therefore number a later change with an earlier or
// equal client time. Seen for real by the concurrent rounds of crash_test.cpp.
TEST_CASE("two stores open on one home still give later changes later client times", "[store]") {
  TempDir dir;
  ergon::core::FakeClock clock(1'800'000'000'000);  // every change in the same millisecond
  auto first = init_store(dir, clock);
  auto p = create_square(first);
  auto second = LocalStore::open(dir / "home", clock);
  REQUIRE(second);
  REQUIRE(first.edit(p.id, {{"remarks", "α"}}));
  REQUIRE(first.edit(p.id, {{"remarks", "β"}}));
  REQUIRE(first.edit(p.id, {{"remarks", "γ"}}));
  REQUIRE(second->edit(p.id, {{"priority", "C"}}));

  auto outbox = outbox_of(*second);
  REQUIRE(outbox.size() == 5u);
  require_gap_free(outbox);
  for (std::size_t i = 1; i < outbox.size(); ++i) {
    CAPTURE(i, outbox[i].change.client_time.wall_ms, outbox[i].change.client_time.logical,
            outbox[i - 1].change.client_time.logical);
    CHECK(outbox[i].change.client_time > outbox[i - 1].change.client_time);
  }
}

TEST_CASE("a home of schema 5 keeps every group revision through the keyed table and the objects",
          "[store]") {
  TempDir dir;
  auto file = dir / "home" / std::string(ergon::client::kDatabaseFile);
  { init_store(dir); }
  {
    // Put the home back to schema 5: the revisions in a rowid table, as step 5 left them.
    auto db = ergon::storage::Database::open(file, ergon::storage::Durability::kNormal);
    REQUIRE(db);
    REQUIRE(db->exec(R"sql(
DROP TABLE server_revisions;
CREATE TABLE server_revisions (entity TEXT NOT NULL, grp TEXT NOT NULL, epoch INTEGER NOT NULL,
                               seq INTEGER NOT NULL, PRIMARY KEY (entity, grp));
ALTER TABLE server_revisions ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE server_revisions ADD COLUMN user TEXT NOT NULL DEFAULT '';
ALTER TABLE server_revisions ADD COLUMN at_ms INTEGER NOT NULL DEFAULT 0;
INSERT INTO server_revisions VALUES ('p1', 'money', 1, 7, 'dev', 'Μαρία', 1000);
INSERT INTO server_revisions VALUES ('p1', 'title', 1, 9, 'dev', '', 0);
INSERT INTO server_revisions VALUES ('envelope:2024:1099', 'amount', 2, 3, 'plan', 'Νίκος', 5);
PRAGMA user_version = 5;
)sql"));
  }
  auto reopened = LocalStore::open(dir / "home");
  REQUIRE(reopened);
  auto db = ergon::storage::Database::open(file, ergon::storage::Durability::kNormal);
  REQUIRE(db);
  // Step 6 moved the rows to a keyed table, step 7 into one JSON object per entity.
  auto rows = db->prepare(
      "SELECT entity || '/' || r.key || '/' || (r.value ->> 0) || '/' || (r.value ->> 1) || '/' || "
      "(r.value ->> 2) || '/' || (r.value ->> 3) || '/' || (r.value ->> 4) FROM server_revisions, "
      "json_each(groups) AS r ORDER BY entity, r.key");
  REQUIRE(rows);
  auto text = rows->collect<std::string>([](auto& s) { return s.column_text(0); });
  REQUIRE(text);
  CHECK(*text == std::vector<std::string>{"envelope:2024:1099/amount/2/3/plan/Νίκος/5",
                                          "p1/money/1/7/dev/Μαρία/1000", "p1/title/1/9/dev//0"});
  auto entities = db->prepare("SELECT count(*) FROM server_revisions");
  REQUIRE(entities);
  auto count = entities->collect<std::int64_t>([](auto& s) { return s.column_int64(0); });
  REQUIRE(count);
  CHECK(count->front() == 2);
}

TEST_CASE("a home of schema 7: each queued change gets the horizon it would have had", "[store]") {
  TempDir dir;
  auto file = dir / "home" / std::string(ergon::client::kDatabaseFile);
  {
    auto store = init_store(dir);
    create_square(store);  // change 1, a create (base none)
  }
  {
    // Protocol 1's bases: a group revision, or the device's own earlier change to the group.
    auto db = ergon::storage::Database::open(file, ergon::storage::Durability::kNormal);
    REQUIRE(db);
    REQUIRE(db->exec(R"sql(
INSERT INTO outbox (device_seq, entity_kind, entity, grp, vals, base_kind, base_epoch, base_seq,
                    base_own_seq, hlc_wall, hlc_logical, user)
  SELECT n, entity_kind, entity, grp, vals, kind, epoch, seq, own, hlc_wall + n, 0, user
  FROM outbox, (SELECT 2 AS n, 1 AS kind, 1 AS epoch, 40 AS seq, 0 AS own
                UNION ALL SELECT 3, 2, 0, 0, 2     -- on change 2: its revision
                UNION ALL SELECT 4, 2, 0, 0, 3     -- on change 3, on change 2
                UNION ALL SELECT 5, 2, 0, 0, 1     -- on the create: nothing seen
                UNION ALL SELECT 6, 2, 0, 0, 99)   -- on a change gone: nothing seen
  WHERE device_seq = 1;
PRAGMA user_version = 7;
)sql"));
  }
  auto reopened = LocalStore::open(dir / "home");
  REQUIRE(reopened);
  auto outbox = outbox_of(*reopened);
  REQUIRE(outbox.size() == 6u);
  using ergon::changelog::Revision;
  const Revision expected[] = {{0, 0}, {1, 40}, {1, 40}, {1, 40}, {0, 0}, {0, 0}};
  for (std::size_t i = 1; i < outbox.size(); ++i) {
    INFO("change " << outbox[i].change.device_seq);
    CHECK(outbox[i].change.base.kind == Base::Kind::kRevision);
    CHECK(outbox[i].change.base.revision == expected[i]);
    CHECK(outbox[i].change.base.own_seq == 0u);
  }
}
