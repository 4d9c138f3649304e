// The official table printed from a frozen stage, through the real `ergond` and `ergon`: the
// PDF (printed by Chromium) is A4 landscape and its text holds every full title and the Greek
// totals; the workbook, read back with openpyxl, holds the same numbers as totals computed here
// from the listed rows, as formulas with their cached values, under a frozen header.

#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <string>

#include <catch2/catch.hpp>

#include "shared/model/money.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

std::string greek(std::int64_t cents) {
  return ergon::model::Money::from_cents(cents).greek_euro();
}

// Runs of whitespace as one space: a title wrapped in print is still the same words in order.
std::string squeeze(const std::string& text) {
  return std::regex_replace(text, std::regex("\\s+"), " ");
}

// Totals computed here from `list --json`, not by Ergon's report.
struct Expected {
  std::map<std::string, std::int64_t> total, allocation;  // by directorate
  std::map<std::string, std::int64_t> by_source;          // the rows' funding
  std::int64_t grand_total = 0, grand_allocation = 0;
  std::vector<std::string> titles;
};

Expected expected_from(const json& listed) {
  Expected e;
  for (const auto& p : listed) {
    auto state = p.at("state").get<std::string>();
    if (state == "withdrawn" || state == "rejected" || state == "deferred") continue;
    auto d = p.at("directorate").get<std::string>();
    e.total[d] += p.at("total_budget").get<std::int64_t>();
    e.allocation[d] += p.at("allocation").get<std::int64_t>();
    e.grand_total += p.at("total_budget").get<std::int64_t>();
    e.grand_allocation += p.at("allocation").get<std::int64_t>();
    for (const auto& line : p.at("funding"))
      e.by_source[line.at("source")] += line.at("amount").get<std::int64_t>();
    e.titles.push_back(p.at("title"));
  }
  return e;
}

// Long titles (they wrap over several lines in print) for several directorates; two of the
// rows are withdrawn, so the totals must leave them out.
void add_generated(const Client& planning, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* words[] = {"Ανάπλαση",     "κοινόχρηστων", "χώρων",   "και",     "οδών",
                         "στην",         "Κοινότητα",    "Αγίου",   "Μύρωνα",  "με",
                         "αποκατάσταση", "πεζοδρομίων",  "δικτύων", "ομβρίων", "υδάτων",
                         "φωτισμού",     "πρασίνου"};
  const char* directorates[] = {"DTE", "DPOL", "DPER", "DHM"};
  for (int i = 0; i < 8; ++i) {
    std::string title = "Έργο " + std::to_string(i) + ":";
    for (int w = 0; w < 25; ++w) title += std::string(" ") + words[rng() % std::size(words)];
    auto euros = 100'000 + rng() % 900'000;
    ok(planning, {"add", "title=" + title, "category=work", "area=HER-CITY",
                  "total_budget=" + std::to_string(euros) + ",00",
                  "allocation=" + std::to_string(euros / 4) + ",00",
                  std::string("funding=") + (i % 2 ? "1099" : "0518"), "new_or_continuing=new",
                  "status=maturing", "priority=" + std::string(1, "ABC"[i % 3]),
                  std::string("directorate=") + directorates[i % 4]});
  }
}

std::int64_t cents(const json& cell) {
  REQUIRE(cell.is_number());
  return std::llround(cell.get<double>() * 100);
}

}  // namespace

TEST_CASE("the report of a frozen stage: PDF text and workbook totals checked independently",
          "[integration][report]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto seed = test_seed();
  INFO("seed " << seed);
  add_generated(planning, seed);
  auto ids = planning.proposal_ids("DTE");
  ok(planning, {"withdraw", ids.at(0).substr(0, 8)});
  ok(planning, {"decide", ids.at(1).substr(0, 8), ids.at(2).substr(0, 8), "included"});
  planning.sync();
  auto draft = planning.run_json({"stage", "advance", "draft", "--json"});
  auto expected = expected_from(planning.run_json({"list", "--json"}));
  REQUIRE(expected.titles.size() == 27u);  // 20 + 8 − 1 withdrawn

  auto pdf = dir.path() / "draft.pdf";
  ok(planning, {"report", "--as-of", "draft", "--format", "pdf", "--out", pdf.string()});
  auto info = run_process({"/usr/bin/pdfinfo", pdf.string()});
  REQUIRE(info.status.ok());
  CHECK_THAT(info.out, Catch::Contains("841.92 x 59") && Catch::Contains("(A4)"));
  auto text = run_process({"/usr/bin/pdftotext", pdf.string(), "-"});
  REQUIRE(text.status.ok());
  auto printed = squeeze(text.out);
  for (const auto& title : expected.titles) CHECK_THAT(printed, Catch::Contains(title));
  // Cells come out of the PDF one by one, so each total is looked for on its own.
  CHECK_THAT(printed, Catch::Contains("ΓΕΝΙΚΟ ΣΥΝΟΛΟ (27 έργα και μελέτες)") &&
                          Catch::Contains(greek(expected.grand_total)) &&
                          Catch::Contains(greek(expected.grand_allocation)));
  for (const auto& [directorate, total] : expected.total)
    CHECK_THAT(printed, Catch::Contains(greek(total)) &&
                            Catch::Contains(greek(expected.allocation.at(directorate))));
  CHECK_THAT(printed, Catch::Contains("Στάδιο: Προσχέδιο (draft-1)") &&
                          Catch::Contains(": " + draft.at("checkpoint").get<std::string>()));

  auto xlsx = dir.path() / "draft.xlsx";
  ok(planning, {"report", "--as-of", "draft", "--format", "xlsx", "--out", xlsx.string()});
  auto book = read_xlsx(dir.path(), xlsx);
  CHECK(book.at("freeze") == "D5");
  CHECK(book.at("landscape") == "landscape");
  const auto& values = book.at("values");
  const auto& formulas = book.at("formulas");
  const auto& header = values.at(3);
  std::string directorate;
  std::size_t checked = 0;
  for (std::size_t r = 4; r < values.size(); ++r) {
    const auto& row = values.at(r);
    std::smatch m;
    std::string first = row.at(0).is_string() ? row.at(0).get<std::string>() : "";
    if (std::regex_search(first, m, std::regex("\\(([A-Z]+)\\)$"))) directorate = m[1];
    std::string label = row.at(2).is_string() ? row.at(2).get<std::string>() : "";
    if (label.rfind("Σύνολο Διεύθυνσης", 0) == 0) {
      CHECK(cents(row.at(3)) == expected.total.at(directorate));
      CHECK(cents(row.at(4)) == expected.allocation.at(directorate));
      CHECK(formulas.at(r).at(3).get<std::string>().front() == '=');
      ++checked;
    }
    if (label.rfind("ΓΕΝΙΚΟ ΣΥΝΟΛΟ", 0) == 0) {
      CHECK(cents(row.at(3)) == expected.grand_total);
      CHECK(cents(row.at(4)) == expected.grand_allocation);
      for (std::size_t c = 12; c < header.size(); ++c) {
        INFO("source " << header.at(c));
        CHECK(cents(row.at(c)) == expected.by_source[header.at(c).get<std::string>()]);
        CHECK(formulas.at(r).at(c).get<std::string>().front() == '=');
      }
      ++checked;
    }
  }
  CHECK(checked == expected.total.size() + 1);
}
