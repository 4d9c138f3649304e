// The official table's content (#27): from the first draft on it is the programme, the
// included proposals only, with every total and per-source figure over them; --all adds the
// ones left out with their reasons; a directorate's or area's part has no envelopes; rows go by
// priority, then ΚΑ code. Checked against sums computed here.

#include "client/report/programme_report.h"

#include <catch2/catch.hpp>

#include "tests/support/fixtures.h"
#include "tests/support/paths.h"

using namespace ergon;
using client::build_report;
using client::ReportOptions;
using model::Money;
using model::State;

namespace {

model::Proposal proposal(const std::string& title, const std::string& directorate, State state,
                         const std::string& allocation, const std::string& ka = "",
                         const std::string& priority = "B") {
  auto values = testing::a_work(title, directorate);
  values["year"] = "2024";
  values["allocation"] = allocation;
  values["funding"] = "1099=" + allocation;
  values["paid_to_date"] = "10.000,00";
  values["priority"] = priority;
  if (!ka.empty()) values["ka_code"] = ka;
  model::Proposal p;
  p.id = core::ProposalId::random();
  auto applied = model::apply_values(p, values);
  INFO((applied ? std::string() : applied.error().message));
  REQUIRE(applied);
  p.state = state;
  if (state == State::kDeferred) p.decision_reason = "Ώριμο για το 2025";
  return p;
}

const model::ReferenceData& reference() {
  static auto ref = model::ReferenceData::load(testing::reference_dir());
  REQUIRE(ref);
  return *ref;
}

std::vector<std::string> titles_of(const client::ProgrammeReport& r) {
  std::vector<std::string> out;
  for (const auto& d : r.directorates)
    for (const auto& g : d.groups)
      for (const auto& row : g.rows) out.push_back(row.proposal->title);
  return out;
}

}  // namespace

TEST_CASE("from the first draft on the table holds the included proposals only", "[report]") {
  std::vector<model::Proposal> rows = {
      proposal("Α έργο", "DTE", State::kIncluded, "100.000,00", "30-7323.002"),
      proposal("Β έργο", "DTE", State::kIncluded, "200.000,00", "30-7323.001"),
      proposal("Γ σχέδιο", "DTE", State::kDraft, "300.000,00"),
      proposal("Δ υποβληθέν", "DPOL", State::kSubmitted, "400.000,00"),
      proposal("Ε αναβληθέν", "DPOL", State::kDeferred, "500.000,00"),
      proposal("Ζ αποσυρθέν", "DPOL", State::kWithdrawn, "600.000,00"),
      proposal("Η πρώτο", "DTE", State::kIncluded, "50.000,00", "", "A"),
  };
  ReportOptions options;
  options.year = 2024;
  options.envelopes = {{"1099", *Money::parse("1.000.000,00")}};

  SECTION("the programme: included only, totals over them, requested and allocated as defined") {
    options.is_programme = true;
    auto report = build_report(rows, reference(), options);
    // Priority A first, then by ΚΑ code (001 before 002), not by title.
    CHECK(titles_of(report) == std::vector<std::string>{"Η πρώτο", "Β έργο", "Α έργο"});
    CHECK(report.counted_rows == 3);
    CHECK(report.allocation == *Money::parse("350.000,00"));
    CHECK(report.paid_to_date == *Money::parse("30.000,00"));
    CHECK(report.not_included.empty());
    REQUIRE(report.sources.size() == 1u);
    CHECK(report.sources[0].allocated == *Money::parse("350.000,00"));
    CHECK(report.sources[0].requested == *Money::parse("750.000,00"));  // + the submitted one
    CHECK(report.sources[0].remaining == *Money::parse("650.000,00"));
    auto text = client::render_programme_text(report, reference());
    CHECK_THAT(text, Catch::StartsWith("ΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ 2024"));
    CHECK_THAT(text, !Catch::Contains("Γ σχέδιο") && !Catch::Contains("Σχέδιο"));
  }
  SECTION("--all: a second table of the others, with their reasons, outside the totals") {
    options.is_programme = true;
    options.list_not_included = true;
    options.municipality = "Δήμος Ηρακλείου";
    auto report = build_report(rows, reference(), options);
    CHECK(report.counted_rows == 3);
    REQUIRE(report.not_included.size() == 4u);
    auto text = client::render_programme_text(report, reference());
    CHECK_THAT(text, Catch::StartsWith("Δήμος Ηρακλείου\nΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ 2024"));
    auto second = text.find(client::kNotIncludedTitle);
    REQUIRE(second != std::string::npos);
    CHECK(second > text.find("ΓΕΝΙΚΟ ΣΥΝΟΛΟ (3 έργα και μελέτες)"));
    CHECK_THAT(text.substr(second), Catch::Contains("Ε αναβληθέν") &&
                                        Catch::Contains("Ώριμο για το 2025") &&
                                        Catch::Contains("Ζ αποσυρθέν"));
    auto html = client::render_programme_html(report, reference());
    CHECK_THAT(html, Catch::Contains("Προτάσεις που δεν εντάχθηκαν") &&
                         Catch::Contains("Πληρωμές έως 31/12") &&
                         Catch::Contains("Αναβλήθηκε: Ώριμο για το 2025"));
  }
  SECTION("before the first draft: the proposals' table, every proposal still in the running") {
    auto report = build_report(rows, reference(), options);
    CHECK(report.counted_rows == 5);  // included, draft and submitted
    CHECK(report.allocation == *Money::parse("1.050.000,00"));
    CHECK_THAT(client::render_programme_text(report, reference()),
               Catch::StartsWith("ΠΡΟΤΑΣΕΙΣ ΓΙΑ ΤΟ ΤΕΧΝΙΚΟ ΠΡΟΓΡΑΜΜΑ 2024"));
  }
  SECTION("a directorate's part: its rows, totals over them, no envelopes") {
    options.is_programme = true;
    options.directorate = "DTE";
    auto report = build_report(rows, reference(), options);
    CHECK(report.is_part);
    REQUIRE(report.directorates.size() == 1u);
    CHECK(report.directorates[0].code == "DTE");
    REQUIRE(report.sources.size() == 1u);
    CHECK_FALSE(report.sources[0].envelope);
    CHECK(report.sources[0].requested == *Money::parse("350.000,00"));
    auto text = client::render_programme_text(report, reference());
    CHECK_THAT(text, !Catch::Contains("φάκελος"));
    CHECK_THAT(client::render_programme_html(report, reference()),
               !Catch::Contains("Φάκελος (διαθέσιμα)"));
  }
  SECTION("an area's part") {
    options.is_programme = true;
    options.area = "HER-ALL-NONE";
    auto report = build_report(rows, reference(), options);
    CHECK(report.counted_rows == 0);
    CHECK(report.is_part);
  }
}
