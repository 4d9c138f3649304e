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
  std::map<std::string, std::int64_t> total, paid, allocation;  // by directorate
  std::map<std::string, std::int64_t> by_source;                // the rows' funding
  std::int64_t grand_total = 0, grand_paid = 0, grand_allocation = 0;
  std::vector<std::string> titles, left_out;  // the second table's (--all)
};

// From the first draft on the table is the programme: the included proposals only (#27).
Expected expected_from(const json& listed) {
  Expected e;
  for (const auto& p : listed) {
    if (p.at("state") != "included") {
      e.left_out.push_back(p.at("title"));
      continue;
    }
    auto d = p.at("directorate").get<std::string>();
    e.total[d] += p.at("total_budget").get<std::int64_t>();
    e.paid[d] += p.at("paid_to_date").get<std::int64_t>();
    e.allocation[d] += p.at("allocation").get<std::int64_t>();
    e.grand_total += p.at("total_budget").get<std::int64_t>();
    e.grand_paid += p.at("paid_to_date").get<std::int64_t>();
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
  ok(planning, {"decide", ids.at(1).substr(0, 8), ids.at(2).substr(0, 8), "deferred", "--reason",
                "Ώριμο για το 2025"});
  decide_undecided(planning);
  // The header names the municipality, set on the server and learnt at the next sync.
  REQUIRE(server.admin("settings", {"--municipality", "Δήμος Ηρακλείου"}).status.ok());
  planning.sync();
  auto draft = planning.run_json({"stage", "advance", "draft", "--json"});
  auto expected = expected_from(planning.run_json({"list", "--json"}));
  REQUIRE(expected.titles.size() == 25u);  // 20 + 8, less one withdrawn and two deferred
  REQUIRE(expected.left_out.size() == 3u);

  auto pdf = dir.path() / "draft.pdf";
  ok(planning, {"report", "--as-of", "draft", "--all", "--format", "pdf", "--out", pdf.string()});
  auto info = run_process({"/usr/bin/pdfinfo", pdf.string()});
  REQUIRE(info.status.ok());
  CHECK_THAT(info.out, Catch::Contains("841.92 x 59") && Catch::Contains("(A4)"));
  auto text = run_process({"/usr/bin/pdftotext", pdf.string(), "-"});
  REQUIRE(text.status.ok());
  auto printed = squeeze(text.out);
  for (const auto& title : expected.titles) CHECK_THAT(printed, Catch::Contains(title));
  // Cells come out of the PDF one by one, so each total is looked for on its own.
  CHECK_THAT(printed, Catch::Contains("ΓΕΝΙΚΟ ΣΥΝΟΛΟ (25 έργα και μελέτες)") &&
                          Catch::Contains(greek(expected.grand_total)) &&
                          Catch::Contains(greek(expected.grand_paid)) &&
                          Catch::Contains(greek(expected.grand_allocation)));
  for (const auto& [directorate, total] : expected.total)
    CHECK_THAT(printed, Catch::Contains(greek(total)) &&
                            Catch::Contains(greek(expected.allocation.at(directorate))));
  CHECK_THAT(printed, Catch::Contains("Δήμος Ηρακλείου") &&
                          Catch::Contains("ΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ 2024") &&
                          Catch::Contains("Πληρωμές έως 31/12"));
  // The second table: the ones left out, with their reasons, after the programme's total.
  auto second = printed.find("Προτάσεις που δεν εντάχθηκαν");
  REQUIRE(second != std::string::npos);
  CHECK(second > printed.find("ΓΕΝΙΚΟ ΣΥΝΟΛΟ"));
  for (const auto& title : expected.left_out)
    CHECK_THAT(printed.substr(second), Catch::Contains(title));
  CHECK_THAT(printed.substr(second), Catch::Contains("Ώριμο για το 2025"));
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
      CHECK(cents(row.at(4)) == expected.paid.at(directorate));
      CHECK(cents(row.at(5)) == expected.allocation.at(directorate));
      CHECK(formulas.at(r).at(3).get<std::string>().front() == '=');
      ++checked;
    }
    if (label.rfind("ΓΕΝΙΚΟ ΣΥΝΟΛΟ", 0) == 0) {
      CHECK(cents(row.at(3)) == expected.grand_total);
      CHECK(cents(row.at(4)) == expected.grand_paid);
      CHECK(cents(row.at(5)) == expected.grand_allocation);
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

// #27: "requested" (αιτούμενα: submitted and included) and "allocated" (included) per funding
// source mean one thing in `envelopes`, `report` and `diff`, each checked against the same
// computation from `list --json`.
TEST_CASE("envelopes, report and diff give the same requested and allocated per source",
          "[integration][report]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto ids = planning.proposal_ids("DTE");
  auto more = planning.proposal_ids("DPOL");
  ids.insert(ids.end(), more.begin(), more.end());
  REQUIRE(ids.size() >= 6u);
  ok(planning, {"submit", ids[0].substr(0, 8), ids[1].substr(0, 8), ids[2].substr(0, 8)});
  ok(planning, {"decide", ids[3].substr(0, 8), ids[4].substr(0, 8), "included"});
  ok(planning, {"decide", ids[5].substr(0, 8), "rejected", "--reason", "Εκτός στρατηγικής"});
  planning.sync();

  std::map<std::string, std::int64_t> requested, allocated;
  for (const auto& p : planning.run_json({"list", "--json"})) {
    bool is_included = p.at("state") == "included";
    if (!is_included && p.at("state") != "submitted") continue;
    for (const auto& line : p.at("funding")) {
      requested[line.at("source")] += line.at("amount").get<std::int64_t>();
      if (is_included) allocated[line.at("source")] += line.at("amount").get<std::int64_t>();
    }
  }
  REQUIRE_FALSE(allocated.empty());

  auto envelopes = planning.run_json({"envelopes", "--json"});
  std::size_t named = 0;
  for (const auto& row : envelopes) {
    std::string source = row.at("source");
    INFO("envelopes, source " << source);
    CHECK(row.at("requested") == requested[source]);
    CHECK(row.at("allocated") == allocated[source]);
    named += requested[source] != 0 ? 1u : 0u;
  }
  CHECK(named == requested.size());

  auto diff = planning.run_json({"diff", "current", "current", "--json"});
  for (const auto& row : diff.at("sources")) {
    std::string source = row.at("source");
    INFO("diff, source " << source);
    CHECK(row.at("after") == allocated[source]);
  }

  auto xlsx = dir.path() / "now.xlsx";
  ok(planning, {"report", "--format", "xlsx", "--out", xlsx.string()});
  auto values = read_xlsx(dir.path(), xlsx).at("values");
  std::size_t at = 0;
  while (at < values.size() && !(values.at(at).size() > 2 && values.at(at).at(2).is_string() &&
                                 values.at(at).at(2) == "Ανά πηγή χρηματοδότησης"))
    ++at;
  REQUIRE(at < values.size());
  std::size_t rows = 0;
  for (std::size_t r = at + 2;
       r < values.size() && values.at(r).size() > 5 && values.at(r).at(1).is_string();
       ++r, ++rows) {
    const auto& row = values.at(r);
    std::string source = row.at(1);
    INFO("report, source " << source);
    CHECK(cents(row.at(4)) == allocated[source]);  // after the envelope column
    CHECK(cents(row.at(5)) == requested[source]);
  }
  CHECK(rows == requested.size());
}
