// Spreadsheets that round-trip safely, through the real `ergond` and two `ergon` homes: a sheet
// exported by planning, edited while a directorate changes the same row on the server, comes
// back stale (listed, not applied) until --overwrite; a dry run prints field by field and
// changes nothing; the xlsx export holds money as numbers.

#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

// `text` with the cell of `column` on the row holding `key` set to `value` (';'-separated, no
// quoted separators in the sample's cells).
std::string with_cell(const std::string& text, const std::string& key, const std::string& column,
                      const std::string& value) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    std::stringstream s(line);
    for (std::string cell; std::getline(s, cell, ';');) out.push_back(cell);
    return out;
  };
  auto header = cells(lines.at(0));
  auto at = std::find(header.begin(), header.end(), column) - header.begin();
  std::string out;
  for (auto& line : lines) {
    if (line.find(key) != std::string::npos) {
      auto row = cells(line);
      row.at(static_cast<std::size_t>(at)) = value;
      line.clear();
      for (std::size_t i = 0; i < row.size(); ++i) line += (i ? ";" : "") + row[i];
    }
    out += line + "\n";
  }
  return out;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("an old sheet re-imported after a change on the server: stale until --overwrite",
          "[integration][spreadsheet]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  auto dte = server.add_client("dte", "directorate", "DTE");
  dte.sync();
  auto id = dte.proposal_ids("DTE").at(0);

  auto sheet = dir.path() / "programme.csv";
  ok(planning, {"export", sheet.string()});
  auto text = read_text(sheet);
  REQUIRE(text.rfind("\xEF\xBB\xBF", 0) == 0);
  // Meanwhile the directorate changes the row's remarks; planning syncs and sees it.
  ok(dte, {"edit", id.substr(0, 8), "remarks=Από τη Διεύθυνση"});
  dte.sync();
  planning.sync();
  // In the old sheet planning types other remarks on that row.
  auto edited = dir.path() / "edited.csv";
  std::ofstream(edited, std::ios::binary) << with_cell(text, id, "remarks", "Από το φύλλο");

  auto dry = planning.run({"import", edited.string(), "--dry-run"});
  INFO(dry.err);
  REQUIRE(dry.status.ok());
  CHECK_THAT(dry.out, Catch::Contains("dry run, nothing imported") &&
                          Catch::Contains("1 stale (not applied)") &&
                          Catch::Contains("changed since the export") &&
                          Catch::Contains("remarks: Από τη Διεύθυνση → Από το φύλλο"));
  auto json_report = planning.run_json({"import", edited.string(), "--json"});
  REQUIRE(json_report.at("stale").size() == 1u);
  CHECK(json_report.at("stale")[0].at("id") == id);
  CHECK(json_report.at("updated") == 0);
  auto shown = planning.run_json({"show", id.substr(0, 8), "--json"});
  CHECK(shown.at("remarks") == "Από τη Διεύθυνση");

  auto overwritten = planning.run_json({"import", edited.string(), "--overwrite", "--json"});
  CHECK(overwritten.at("overwritten") == 1);
  REQUIRE(overwritten.at("changed").size() == 1u);
  CHECK(overwritten.at("changed")[0].at("fields")[0].at("field") == "remarks");
  planning.sync();
  dte.sync();
  CHECK(dte.run_json({"show", id.substr(0, 8), "--json"}).at("remarks") == "Από το φύλλο");

  auto xlsx = dir.path() / "programme.xlsx";
  ok(planning, {"export", xlsx.string()});
  auto book = read_xlsx(dir.path(), xlsx);
  CHECK(book.at("freeze") == "A2");
  const auto& values = book.at("values");
  const auto& header = values.at(0);
  auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  REQUIRE(values.size() == 21u);
  auto listed = planning.run_json({"list", "--json"});
  for (std::size_t r = 1; r < values.size(); ++r) {
    const auto& row = values.at(r);
    auto it = std::find_if(listed.begin(), listed.end(),
                           [&](const json& p) { return p.at("id") == row.at(column("id")); });
    REQUIRE(it != listed.end());
    CHECK(std::llround(row.at(column("total_budget")).get<double>() * 100) ==
          it->at("total_budget").get<std::int64_t>());
    CHECK_THAT(row.at(column("revision")).get<std::string>(), Catch::Contains("@"));
  }
}
