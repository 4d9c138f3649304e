// Re-importing an exported sheet: the revision each row was exported at tells the sheet's own
// edits from changes made in the app since; stale rows are listed and left alone unless
// overwrite; a dry run reports field by field and commits nothing; words that mix Greek and
// Latin letters are refused with the Latin letters' positions.

#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "client/store/importer.h"
#include "shared/model/csv.h"
#include "tests/client/store_fixture.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using ergon::client::ExportTable;
using ergon::client::ImportOptions;
using ergon::client::ImportReport;
using ergon::client::ListFilter;
using ergon::client::LocalStore;
using ergon::client::RowChange;
using ergon::testing::TempDir;

namespace {

// The home's own export (with revisions), as a table to edit like a spreadsheet user.
ExportTable exported(LocalStore& store) {
  auto list = store.list(ListFilter{});
  REQUIRE(list);
  auto marks = store.export_marks();
  REQUIRE(marks);
  return ergon::client::export_table(*list, *marks);
}

std::size_t column(const ExportTable& t, const std::string& name) {
  for (std::size_t i = 0; i < t.header.size(); ++i)
    if (t.header[i] == name) return i;
  FAIL("no column " << name);
  return 0;
}

// The row of `title` (its index in t.rows).
std::size_t row_of(const ExportTable& t, const std::string& title) {
  auto at = column(t, "title");
  for (std::size_t i = 0; i < t.rows.size(); ++i)
    if (t.rows[i][at] == title) return i;
  FAIL("no row " << title);
  return 0;
}

ergon::core::Result<ImportReport> import(LocalStore& store, const ExportTable& t,
                                         ImportOptions options = {},
                                         std::vector<RowChange>* changed = nullptr) {
  std::istringstream in(ergon::client::export_csv(t));
  if (changed) options.on_change = [changed](const RowChange& r) { changed->push_back(r); };
  return ergon::client::import_csv(store, in, options);
}

std::string remarks_of(LocalStore& store, const std::string& id) {
  auto p = store.get(*ergon::core::ProposalId::parse(id));
  REQUIRE(p);
  return p->remarks;
}

// A DTE home holding the sample programme.
LocalStore sample_home(const std::filesystem::path& home) {
  auto store = ergon::testing::init_dte_home(home);
  std::istringstream sample(ergon::testing::sample_programme_text());
  REQUIRE(ergon::client::import_csv(store, sample, 2024));
  return store;
}

constexpr const char* kSquare = "Αναβάθμιση και εξωραϊσμός Πλατείας Ελευθερίας";

}  // namespace

TEST_CASE("a sheet re-imported after edits in the app: stale rows listed, not applied",
          "[import][stale]") {
  TempDir dir;
  auto store = sample_home(dir / "home");
  auto sheet = exported(store);
  auto r = row_of(sheet, kSquare);
  auto id = sheet.rows[r][column(sheet, "id")];
  REQUIRE_THAT(sheet.rows[r][column(sheet, "revision")], Contains("@"));

  // In the app, after the export: the remarks change (a pending change of this home).
  REQUIRE(store.edit(*ergon::core::ProposalId::parse(id), {{"remarks", "Από την εφαρμογή"}}));
  // In the sheet: the same row's remarks and another row's allocation.
  sheet.rows[r][column(sheet, "remarks")] = "Από το φύλλο";
  std::size_t other = 0;  // another row of this home's directorate
  while (other == r || sheet.rows[other][column(sheet, "directorate")] != "DTE") ++other;
  sheet.rows[other][column(sheet, "allocation")] = "1,00";
  sheet.rows[other][column(sheet, "funding")] = "1099=1,00";

  SECTION("the stale row is reported with its fields and left alone; the rest is applied") {
    std::vector<RowChange> changed;
    auto report = import(store, sheet, {}, &changed);
    REQUIRE(report);
    REQUIRE(report->stale.size() == 1u);
    CHECK(report->stale[0].id == id);
    CHECK(report->stale[0].line == r + 2);
    CHECK_THAT(report->stale[0].why, Contains("edited in this client since the export"));
    REQUIRE(report->stale[0].fields.size() == 1u);
    CHECK(report->stale[0].fields[0].before == "Από την εφαρμογή");
    CHECK(report->stale[0].fields[0].after == "Από το φύλλο");
    CHECK(remarks_of(store, id) == "Από την εφαρμογή");
    CHECK(report->updated == 1u);
    REQUIRE(changed.size() == 1u);
    CHECK(changed[0].line == other + 2);
    std::vector<std::string> fields;
    for (const auto& f : changed[0].fields) fields.push_back(f.field);
    CHECK(fields == std::vector<std::string>{"allocation", "funding"});
  }
  SECTION("--overwrite lets the sheet win") {
    ImportOptions options;
    options.overwrite = true;
    auto report = import(store, sheet, options);
    REQUIRE(report);
    CHECK(report->stale.empty());
    CHECK(report->overwritten == 1u);
    CHECK(remarks_of(store, id) == "Από το φύλλο");
  }
  SECTION("a dry run reports the same and commits nothing") {
    auto outbox_before = store.outbox();
    REQUIRE(outbox_before);
    ImportOptions options;
    options.dry_run = true;
    std::vector<RowChange> changed;
    auto report = import(store, sheet, options, &changed);
    REQUIRE(report);
    CHECK(report->is_dry_run);
    CHECK(report->stale.size() == 1u);
    CHECK(changed.size() == 1u);
    CHECK(store.outbox()->size() == outbox_before->size());
    CHECK(remarks_of(store, id) == "Από την εφαρμογή");
  }
  SECTION("the sheet's value equal to the app's is not stale: nothing to change") {
    sheet.rows[r][column(sheet, "remarks")] = "Από την εφαρμογή";
    auto report = import(store, sheet);
    REQUIRE(report);
    CHECK(report->stale.empty());
  }
  SECTION("without the revision column the sheet behaves as one made by hand: it wins") {
    auto at = column(sheet, "revision");
    sheet.header.erase(sheet.header.begin() + static_cast<std::ptrdiff_t>(at));
    for (auto& row : sheet.rows) row.erase(row.begin() + static_cast<std::ptrdiff_t>(at));
    auto report = import(store, sheet);
    REQUIRE(report);
    CHECK(report->stale.empty());
    CHECK(remarks_of(store, id) == "Από το φύλλο");
  }
  SECTION("a damaged revision cell stops the import, naming the line and the form") {
    sheet.rows[r][column(sheet, "revision")] = "yesterday";
    auto report = import(store, sheet);
    REQUIRE_FALSE(report);
    CHECK_THAT(report.error().message, Contains("line " + std::to_string(r + 2)) &&
                                           Contains("column revision") &&
                                           Contains("EPOCH.SEQ@DEVICE:SEQ"));
  }
}

TEST_CASE("a sheet exported by another home sees this home's pending edits as changes since",
          "[import][stale]") {
  TempDir dir;
  auto store = sample_home(dir / "home");
  auto sheet = exported(store);
  auto r = row_of(sheet, kSquare);
  // The same ids and revisions, but a device this home is not.
  auto& mark = sheet.rows[r][column(sheet, "revision")];
  mark = mark.substr(0, mark.find('@')) + "@00000000:999";
  REQUIRE(store.edit(*ergon::core::ProposalId::parse(sheet.rows[r][0]), {{"remarks", "Νέα"}}));
  sheet.rows[r][column(sheet, "remarks")] = "Παλιά";
  auto report = import(store, sheet);
  REQUIRE(report);
  CHECK(report->stale.size() == 1u);
}

TEST_CASE("words mixing Greek and Latin letters are refused with the Latin letters' places",
          "[import][text]") {
  TempDir dir;
  auto store = sample_home(dir / "home");
  auto sheet = exported(store);
  auto r = row_of(sheet, kSquare);
  sheet.rows[r][column(sheet, "title")] = "Mελέτη οδού Boυτών";  // Latin M, B and o
  auto report = import(store, sheet);
  REQUIRE_FALSE(report);
  CHECK_THAT(report.error().message, Contains("line " + std::to_string(r + 2) + ", column title") &&
                                         Contains("'Mελέτη'") && Contains("'M' at character 1") &&
                                         Contains("'B' at character 13, 'o' at character 14"));
  CHECK(store.list(ListFilter{})->size() == 20u);

  // A priority typed on a Greek keyboard is the Latin code it looks like.
  sheet = exported(store);
  sheet.rows[r][column(sheet, "priority")] = "Α";  // Greek capital alpha
  auto greek_key = import(store, sheet);
  REQUIRE(greek_key);
  auto p = store.get(*ergon::core::ProposalId::parse(sheet.rows[r][0]));
  CHECK(p->priority == ergon::model::Priority::kA);
}
