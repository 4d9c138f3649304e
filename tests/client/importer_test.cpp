#include "client/store/importer.h"

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "client/store/local_store.h"
#include "shared/model/csv.h"
#include "shared/model/money.h"
#include "tests/client/store_fixture.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using ergon::changelog::Base;
using ergon::client::import_csv;
using ergon::client::ImportReport;
using ergon::client::InitOptions;
using ergon::client::ListFilter;
using ergon::client::LocalStore;
using ergon::core::ErrorCode;
using ergon::model::Proposal;
using ergon::testing::TempDir;

namespace {

LocalStore init_store(const std::filesystem::path& home) {
  return ergon::testing::init_dte_home(home);
}

std::string sample_text() { return ergon::testing::sample_programme_text(); }

ImportReport import_ok(LocalStore& store, std::string_view text) {
  auto report = import_csv(store, text, 2024);
  if (!report) FAIL("import: " << report.error().message);
  return *report;
}

std::vector<Proposal> all_of(LocalStore& store) {
  auto list = store.list(ListFilter{});
  if (!list) FAIL("list: " << list.error().message);
  return std::move(*list);
}

std::size_t outbox_size(LocalStore& store) {
  auto outbox = store.outbox();
  if (!outbox) FAIL("outbox: " << outbox.error().message);
  return outbox->size();
}

Proposal by_title(LocalStore& store, const std::string& words) {
  ListFilter filter;
  filter.search = words;
  auto list = store.list(filter);
  if (!list) FAIL("list: " << list.error().message);
  if (list->size() != 1) FAIL(list->size() << " proposals match '" << words << "'");
  return list->front();
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    auto at = text.find(separator, start);
    parts.push_back(text.substr(start, at == std::string::npos ? at : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : separator) + parts[i];
  return out;
}

// The sample with one cell replaced: `line` is the file's 1-based line, `column` a header name.
std::string with_cell(const std::string& text, std::size_t line, const std::string& column,
                      const std::string& value) {
  auto lines = split(text, '\n');
  auto header = split(lines.at(0), ';');
  auto cells = split(lines.at(line - 1), ';');
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == column) cells.at(i) = value;
  lines.at(line - 1) = join(cells, ";");
  return join(lines, "\n");
}

std::string plain_money(const std::string& greek) {
  auto money = ergon::model::Money::parse(greek);
  if (!money) FAIL("money: " << money.error().message);
  return money->plain();
}

// The sample as another spreadsheet saves it: ',' separated, plain money, CRLF, a BOM.
std::string as_comma_plain_crlf_bom(const std::string& text) {
  auto table = ergon::model::parse_csv(text);
  if (!table) FAIL("parse: " << table.error().message);
  std::string out = "\xEF\xBB\xBF";
  std::vector<std::string> header;
  for (const auto& h : table->header) header.push_back(ergon::model::csv_cell(h, ','));
  out += join(header, ",") + "\r\n";
  for (const auto& row : table->rows) {
    std::vector<std::string> cells;
    for (std::size_t i = 0; i < row.cells.size(); ++i) {
      const auto& name = table->header[i];
      std::string cell = row.cells[i];
      if (name == "total_budget" || name == "paid_to_date" || name == "allocation") {
        cell = plain_money(cell);
      } else if (name == "funding") {
        auto lines = split(cell, '|');
        for (auto& line : lines) {
          auto eq = line.find('=');
          if (eq != std::string::npos)
            line = line.substr(0, eq + 1) + plain_money(line.substr(eq + 1));
        }
        cell = join(lines, "|");
      }
      cells.push_back(ergon::model::csv_cell(cell, ','));
    }
    out += join(cells, ",") + "\r\n";
  }
  return out;
}

std::vector<Proposal> without_ids(std::vector<Proposal> proposals) {
  for (auto& p : proposals) p.id = {};
  return proposals;
}

}  // namespace

TEST_CASE("importing the sample programme creates its 20 proposals as drafts", "[import]") {
  TempDir dir;
  auto store = init_store(dir / "home");
  auto report = import_ok(store, sample_text());
  CHECK(report.rows == 20u);
  CHECK(report.created == 20u);
  CHECK(report.updated == 0u);
  CHECK(report.unchanged == 0u);
  CHECK(report.changes == 20u);

  auto all = all_of(store);
  REQUIRE(all.size() == 20u);
  for (const auto& p : all) {
    CHECK(p.year == 2024);
    CHECK(p.state == ergon::model::State::kDraft);
  }
  auto outbox = store.outbox();
  REQUIRE(outbox);
  REQUIRE(outbox->size() == 20u);
  for (std::size_t i = 0; i < outbox->size(); ++i) {
    CHECK((*outbox)[i].change.device_seq == i + 1);
    CHECK((*outbox)[i].change.group == "create");
  }

  auto square = by_title(store, "πλατειας ελευθεριας");
  CHECK(square.ka_code->canonical() == "30-7323.004");
  CHECK(square.directorate == "DTE");
  CHECK(square.area == "HER-CITY");
  CHECK(square.total_budget.cents() == 210000000);
  CHECK(square.paid_to_date.cents() == 35000000);
  CHECK(square.allocation.cents() == 140000000);
  REQUIRE(square.funding.size() == 2u);
  CHECK(square.funding[0].source == "0518");
  CHECK(square.funding[0].amount.cents() == 100000000);
  CHECK(square.funding[1].source == "1099");
  CHECK(square.funding[1].amount.cents() == 40000000);
  CHECK(square.status == ergon::model::WorkStatus::kContracted);
  CHECK(square.new_or_continuing == ergon::model::Continuity::kContinuing);
  CHECK(square.strategic_plans ==
        std::vector<ergon::model::StrategicPlan>{ergon::model::StrategicPlan::kSoap,
                                                 ergon::model::StrategicPlan::kSvaa});
  CHECK(square.priority == ergon::model::Priority::kA);
  CHECK(square.remarks == "Σύμβαση 31/10/2023");

  // A lone funding code carries the whole allocation.
  auto park = by_title(store, "ερυθραιας");
  REQUIRE(park.funding.size() == 1u);
  CHECK(park.funding[0].source == "AT06");
  CHECK(park.funding[0].amount == park.allocation);
  // Another directorate's row keeps its directorate.
  CHECK(by_title(store, "led").directorate == "DHM");
}

TEST_CASE("importing the same file twice changes nothing", "[import]") {
  TempDir dir;
  auto store = init_store(dir / "home");
  import_ok(store, sample_text());
  auto before = all_of(store);

  auto report = import_ok(store, sample_text());
  CHECK(report.rows == 20u);
  CHECK(report.created == 0u);
  CHECK(report.updated == 0u);
  CHECK(report.unchanged == 20u);
  CHECK(report.changes == 0u);
  CHECK(outbox_size(store) == 20u);
  CHECK(all_of(store) == before);
}

TEST_CASE("an export imports back unchanged, and into a new home as equal proposals", "[import]") {
  TempDir dir;
  auto store = init_store(dir / "home");
  import_ok(store, sample_text());
  auto before = all_of(store);
  auto exported = ergon::client::export_csv(before);
  REQUIRE_THAT(exported, StartsWith("\xEF\xBB\xBFid;year;directorate;ka_code;title;"));
  CHECK(split(exported, '\n').size() == 22u);  // header, 20 rows, the empty tail

  auto report = import_ok(store, exported);
  CHECK(report.created == 0u);
  CHECK(report.updated == 0u);
  CHECK(report.unchanged == 20u);
  CHECK(outbox_size(store) == 20u);
  CHECK(all_of(store) == before);

  auto other = init_store(dir / "other");
  auto fresh = import_ok(other, exported);
  CHECK(fresh.created == 20u);
  CHECK(all_of(other) == before);  // the same ids too: the export carries them
  CHECK(ergon::client::export_csv(all_of(other)) == exported);
}

TEST_CASE("a comma-separated file with plain money, CRLF and a BOM imports to equal proposals",
          "[import]") {
  TempDir dir;
  auto greek = init_store(dir / "greek");
  import_ok(greek, sample_text());

  auto converted = as_comma_plain_crlf_bom(sample_text());
  REQUIRE_THAT(converted, StartsWith("\xEF\xBB\xBF"
                                     "ka_code,title,"));
  REQUIRE_THAT(converted, Contains(",12400000.00,2100000.00,3000000.00,AT06,"));
  REQUIRE_THAT(converted, Contains("\r\n"));

  auto plain = init_store(dir / "plain");
  auto report = import_ok(plain, converted);
  CHECK(report.created == 20u);
  CHECK(without_ids(all_of(plain)) == without_ids(all_of(greek)));

  // And it matches the rows the Greek file created.
  auto again = import_ok(greek, converted);
  CHECK(again.unchanged == 20u);
  CHECK(outbox_size(greek) == 20u);
}

TEST_CASE("a file with a bad row is refused naming line and column, and none of it is applied",
          "[import]") {
  TempDir dir;
  auto store = init_store(dir / "home");
  auto existing = store.create({{"title", "Υπάρχουσα πρόταση"},
                                {"category", "study"},
                                {"new_or_continuing", "new"},
                                {"area", "ALL"},
                                {"total_budget", "10.000,00"},
                                {"ka_code", "30-7412.500"},
                                {"status", "maturing"},
                                {"priority", "C"}});
  REQUIRE(existing);

  auto [column, value, reason] = GENERATE(table<std::string, std::string, std::string>({
      {"total_budget", "abc", "abc"},
      {"area", "ATLANTIS", "ATLANTIS"},
      {"funding", "9999", "9999"},
      {"category", "supply", "supply"},
      {"priority", "Z", "Z"},
      {"ka_code", "30-7412.031", "ka_code"},       // a study code on a work
      {"allocation", "900.000,00", "allocation"},  // above total minus paid
      {"status", "", "status"},
  }));
  CAPTURE(column, value);
  auto bad = with_cell(sample_text(), 12, column, value);
  auto report = import_csv(store, bad, 2024);
  REQUIRE_FALSE(report);
  CHECK(report.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(report.error().message, StartsWith("line 12, column " + column));
  CHECK_THAT(report.error().message, Contains(reason));
  CHECK(all_of(store).size() == 1u);
  CHECK(outbox_size(store) == 1u);

  // The same file fixed imports, continuing the sequence without a gap.
  auto fixed = import_ok(store, sample_text());
  CHECK(fixed.created == 20u);
  auto outbox = store.outbox();
  REQUIRE(outbox);
  REQUIRE(outbox->size() == 21u);
  CHECK(outbox->back().change.device_seq == 21u);
}

TEST_CASE("a refused file does not apply the edits of its good rows either", "[import]") {
  TempDir dir;
  auto store = init_store(dir / "home");
  import_ok(store, sample_text());
  auto before = all_of(store);

  auto edited = with_cell(sample_text(), 4, "allocation", "1.000.000,00");  // a good edit
  edited = with_cell(edited, 12, "total_budget", "abc");
  auto report = import_csv(store, edited, 2024);
  REQUIRE_FALSE(report);
  CHECK_THAT(report.error().message, Contains("line 12") && Contains("total_budget"));
  CHECK(all_of(store) == before);
  CHECK(outbox_size(store) == 20u);
}

TEST_CASE("a file with an unknown column or a row of the wrong width is refused whole",
          "[import]") {
  TempDir dir;
  auto store = init_store(dir / "home");
  auto text = sample_text();

  SECTION("unknown column") {
    auto lines = split(text, '\n');
    lines[0].replace(lines[0].find("total_budget"), 12, "budget");
    auto report = import_csv(store, join(lines, "\n"), 2024);
    REQUIRE_FALSE(report);
    CHECK(report.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(report.error().message,
               Contains("line 1") && Contains("'budget'") && Contains("total_budget"));
  }
  SECTION("a row with a cell too many") {
    auto lines = split(text, '\n');
    lines[6] += ";extra";
    auto report = import_csv(store, join(lines, "\n"), 2024);
    REQUIRE_FALSE(report);
    CHECK(report.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(report.error().message,
               Contains("line 7") && Contains("15 cells") && Contains("14"));
  }
  SECTION("a row with a cell too few") {
    auto lines = split(text, '\n');
    lines[19] = lines[19].substr(0, lines[19].rfind(';'));
    auto report = import_csv(store, join(lines, "\n"), 2024);
    REQUIRE_FALSE(report);
    CHECK_THAT(report.error().message, Contains("line 20") && Contains("13 cells"));
  }
  SECTION("an unterminated quote") {
    auto report = import_csv(store, with_cell(text, 9, "remarks", "\"ανοιχτό"), 2024);
    REQUIRE_FALSE(report);
    CHECK_THAT(report.error().message, Contains("line 9"));
  }
  CHECK(all_of(store).empty());
  CHECK(outbox_size(store) == 0u);
}

TEST_CASE("a row changed in the spreadsheet updates its proposal with one change per group",
          "[import]") {
  TempDir dir;
  auto store = init_store(dir / "home");
  import_ok(store, sample_text());
  auto roads = by_title(store, "τσιμεντοστρωσεις");
  REQUIRE(roads.allocation.cents() == 120000000);
  auto outbox = store.outbox();
  REQUIRE(outbox);
  std::uint64_t create_seq = 0;
  for (const auto& e : *outbox)
    if (e.change.entity.key == roads.id.hex()) create_seq = e.change.device_seq;
  REQUIRE(create_seq != 0u);

  SECTION("allocation edited: one money change") {
    auto report = import_ok(store, with_cell(sample_text(), 4, "allocation", "1.000.000,00"));
    CHECK(report.created == 0u);
    CHECK(report.updated == 1u);
    CHECK(report.unchanged == 19u);
    CHECK(report.changes == 1u);
    outbox = store.outbox();
    REQUIRE(outbox);
    REQUIRE(outbox->size() == 21u);
    const auto& c = outbox->back().change;
    CHECK(c.device_seq == 21u);
    CHECK(c.entity.key == roads.id.hex());
    CHECK(c.group == "money");
    CHECK(c.base.kind == Base::Kind::kRevision);  // the horizon: nothing seen yet
    CHECK(c.base.revision == ergon::changelog::Revision{});
    CHECK(c.values.at("allocation") == "1000000.00");
    CHECK(c.values.at("funding") == "1099=1000000.00");
    auto now = store.get(roads.id);
    REQUIRE(now);
    CHECK(now->allocation.cents() == 100000000);
  }
  SECTION("title edited: matched by its ΚΑ code, one title change") {
    auto report = import_ok(store, with_cell(sample_text(), 4, "title",
                                             "Τσιμεντοστρώσεις αγροτικών δρόμων Δ.Ε. Παλιανής"));
    CHECK(report.created == 0u);
    CHECK(report.updated == 1u);
    CHECK(report.changes == 1u);
    outbox = store.outbox();
    REQUIRE(outbox);
    CHECK(outbox->back().change.group == "title");
    CHECK(all_of(store).size() == 20u);
  }
  SECTION("ΚΑ code edited: matched by directorate and title, one classification change") {
    auto report = import_ok(store, with_cell(sample_text(), 4, "ka_code", "30-7323.099"));
    CHECK(report.created == 0u);
    CHECK(report.updated == 1u);
    outbox = store.outbox();
    REQUIRE(outbox);
    CHECK(outbox->back().change.group == "classification");
    auto now = store.get(roads.id);
    REQUIRE(now);
    CHECK(now->ka_code->canonical() == "30-7323.099");
    CHECK(all_of(store).size() == 20u);
  }
}

TEST_CASE("a large import reports progress every 500 rows", "[import]") {
  TempDir dir;
  auto store = init_store(dir / "home");
  std::string text = "ka_code;title;category;new_or_continuing;area;total_budget;status;priority\n";
  for (int i = 1; i <= 1200; ++i)
    text += "30-7323." + std::to_string(i) + ";Έργο αριθμός " + std::to_string(i) +
            ";work;new;ALL;1.000,00;maturing;B\n";
  static std::vector<std::pair<std::size_t, std::size_t>> calls;
  calls.clear();
  std::istringstream in(text);
  ergon::client::ImportProgress progress{
      [](std::size_t rows, std::size_t percent) { calls.emplace_back(rows, percent); },
      text.size()};
  auto report = import_csv(store, in, 2024, progress);
  REQUIRE(report);
  CHECK(report->created == 1200u);
  // Rows done, and the share of the file read: about 500/1200 and 1000/1200 of its bytes.
  REQUIRE(calls.size() == 2u);
  CHECK(calls[0].first == 500u);
  CHECK(calls[1].first == 1000u);
  CHECK((calls[0].second >= 40 && calls[0].second <= 43));
  CHECK((calls[1].second >= 82 && calls[1].second <= 85));
  CHECK(outbox_size(store) == 1200u);
}
