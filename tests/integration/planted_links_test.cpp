// Output files are never written through a link someone planted. Each command that writes a
// file (the client's export, xlsx and PDF reports and bundle, the server's bundle answer) runs
// with a symbolic link to a victim file at every name it used to write first (`OUT.tmp`,
// `OUT.part`, `OUT.partial`) and, for the tables, at the output's own name. The victim keeps
// its bytes, the output is a regular file, and no temporary file is left beside it.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPrecious = "the server's store: must never be overwritten\n";

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

struct Trap {
  fs::path victim;
  std::vector<fs::path> links;
};

// A victim file and links to it at `out` + each suffix ("" is the output's own name).
Trap plant(const fs::path& dir, const fs::path& out, const std::vector<std::string>& suffixes) {
  Trap trap{dir / ("victim-" + out.filename().string()), {}};
  std::ofstream(trap.victim, std::ios::binary) << kPrecious;
  for (const auto& suffix : suffixes) {
    fs::path link = out.string() + suffix;
    fs::create_symlink(trap.victim, link);
    trap.links.push_back(link);
  }
  return trap;
}

void check_untouched(const Trap& trap, const fs::path& out) {
  INFO("output " << out);
  CHECK(read_all(trap.victim) == kPrecious);
  CHECK(fs::is_regular_file(fs::symlink_status(out)));
  CHECK(fs::file_size(out) > 0);
  for (const auto& link : trap.links)
    if (link != out) CHECK(fs::is_symlink(fs::symlink_status(link)));
  for (const auto& entry : fs::directory_iterator(out.parent_path())) {
    auto name = entry.path().filename().string();
    INFO("left beside the output: " << name);
    CHECK_FALSE(name.starts_with("." + out.filename().string() + "."));
  }
}

}  // namespace

TEST_CASE("no output file is written through a planted link", "[integration][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);

  SECTION("the client's export, xlsx and PDF tables") {
    struct Case {
      std::string name;
      std::vector<std::string> args;
      std::vector<std::string> suffixes;
    };
    const std::vector<Case> cases = {
        {"export.csv", {"export"}, {"", ".tmp"}},
        {"export.json", {"export"}, {"", ".tmp"}},
        {"export.xlsx", {"export"}, {"", ".part"}},
        {"report.html", {"report", "--format", "html", "--out"}, {"", ".tmp"}},
        {"report.xlsx", {"report", "--format", "xlsx", "--out"}, {"", ".part"}},
        {"report.pdf", {"report", "--format", "pdf", "--out"}, {"", ".part"}},
    };
    for (const auto& c : cases) {
      auto folder = dir.path() / ("out-" + c.name);
      fs::create_directory(folder);
      auto out = folder / c.name;
      auto trap = plant(dir.path(), out, c.suffixes);
      auto args = c.args;
      args.push_back(out.string());
      auto ran = planning.run(args, std::chrono::seconds(120));
      INFO(c.name << ": " << ran.err);
      REQUIRE(ran.status.ok());
      check_untouched(trap, out);
      if (c.name == "report.html")  // nothing but its own styles runs or loads
        CHECK(read_all(out).find("Content-Security-Policy\" content=\"default-src 'none'") !=
              std::string::npos);
    }
  }

  SECTION("the client's bundle and the server's answer") {
    auto folder = dir.path() / "stick";
    fs::create_directory(folder);
    auto request = folder / "dte.bundle", answer = folder / "dte.answer";
    auto request_trap = plant(dir.path(), request, {".partial"});
    auto answer_trap = plant(dir.path(), answer, {".partial"});
    auto usb = server.add_client("usb", "directorate", "DTE");
    ok(usb, {"bundle", "export", request.string()});
    check_untouched(request_trap, request);
    auto applied = run_process({ergond_binary(), "bundle", "apply", "--data",
                                server.data().string(), request.string(), answer.string()});
    INFO(applied.err);
    REQUIRE(applied.status.ok());
    check_untouched(answer_trap, answer);
  }
}
