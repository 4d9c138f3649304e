// Printing to PDF finds Chromium as $ERGON_CHROMIUM first, and says what went wrong when the
// binary is missing or fails, leaving no file behind.

#include "client/report/pdf_print.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include "client/report/programme_report.h"
#include "tests/support/temp_dir.h"

using Catch::Matchers::Contains;

namespace {

// Sets an environment variable for the scope of a test.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() { unsetenv(name_); }
  const char* name_;
};

}  // namespace

TEST_CASE("ERGON_CHROMIUM names the browser; a missing or failing one is a clear error",
          "[report][pdf]") {
  ergon::testing::TempDir dir;
  auto out = dir / "out.pdf";
  SECTION("a path that is not an executable") {
    ScopedEnv env("ERGON_CHROMIUM", "/nonexistent/chromium");
    auto printed = ergon::client::print_pdf("<p>Δοκιμή</p>", out);
    REQUIRE_FALSE(printed);
    CHECK(printed.error().code == ergon::core::ErrorCode::kNotFound);
    CHECK_THAT(printed.error().message, Contains("ERGON_CHROMIUM") && Contains("/nonexistent"));
  }
  SECTION("a binary that fails") {
    ScopedEnv env("ERGON_CHROMIUM", "/bin/false");
    auto printed = ergon::client::print_pdf("<p>Δοκιμή</p>", out);
    REQUIRE_FALSE(printed);
    CHECK_THAT(printed.error().message, Contains("could not print"));
  }
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("a report page runs no script when Chromium prints it", "[report][pdf][hardening]") {
  ergon::testing::TempDir dir;
  auto out = dir / "out.pdf";
  auto printed = ergon::client::print_pdf(
      "<head>" + std::string(ergon::client::kReportSecurityPolicy) +
          "</head><p id=\"t\">ΚΕΙΜΕΝΟ ΣΕΛΙΔΑΣ</p>"
          "<script>document.getElementById('t').textContent = 'SCRIPT RAN';</script>",
      out);
  INFO((printed ? std::string() : printed.error().message));
  REQUIRE(printed);
  auto text = dir / "out.txt";
  REQUIRE(std::system(("pdftotext " + out.string() + " " + text.string()).c_str()) == 0);
  std::ifstream in(text);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content.find("SCRIPT RAN") == std::string::npos);
  CHECK(content.find("ΚΕΙΜΕΝΟ ΣΕΛΙΔΑΣ") != std::string::npos);
}
