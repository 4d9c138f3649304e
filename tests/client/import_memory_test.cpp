// A large import holds one row at a time: the peak memory of `ergon import` barely grows from
// 10,000 to 100,000 rows (a file read whole and parsed into a table grew by ~800 bytes a row).

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace {

std::string ergon_binary() {
  return (ergon::testing::binary_dir() / "client" / "cli" / "ergon").string();
}

// Runs argv and returns its exit code and its peak resident memory in KiB (wait4's rusage).
std::pair<int, long> run_measured(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    // ASan keeps freed memory in a quarantine that would read as growth; measure the program.
    ::setenv("ASAN_OPTIONS", "quarantine_size_mb=0:detect_leaks=0", 1);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, usage.ru_maxrss};
}

void write_rows(const std::filesystem::path& file, std::size_t rows) {
  std::ofstream out(file);
  out << "title;category;new_or_continuing;directorate;area;total_budget;allocation;funding;"
         "status;priority;remarks\n";
  for (std::size_t i = 0; i < rows; ++i)
    out << "Έργο μεγάλης εισαγωγής αριθμός " << i << ";work;new;DTE;HER-CITY;" << (100 + i % 900)
        << ".000,00;10.000,00;1099;maturing;B;Γραμμή " << i << "\n";
}

long import_peak_kib(const ergon::testing::TempDir& dir, std::size_t rows) {
  auto home = dir / ("home-" + std::to_string(rows));
  auto file = dir / ("rows-" + std::to_string(rows) + ".csv");
  write_rows(file, rows);
  auto [init, init_peak] =
      run_measured({ergon_binary(), "--home", home.string(), "init", "--directorate", "DTE",
                    "--year", "2024", "--reference", ergon::testing::reference_dir().string()});
  REQUIRE(init == 0);
  auto [code, peak] = run_measured(
      {ergon_binary(), "--home", home.string(), "import", file.string(), "--year", "2024"});
  REQUIRE(code == 0);
  return peak;
}

}  // namespace

TEST_CASE("the peak memory of an import hardly grows with the number of rows", "[import][memory]") {
  ergon::testing::TempDir dir;
  auto small = import_peak_kib(dir, 10'000);
  auto large = import_peak_kib(dir, 100'000);
  double bytes_per_row = static_cast<double>(large - small) * 1024.0 / 90'000.0;
  INFO("peak " << small / 1024 << " MiB at 10,000 rows, " << large / 1024
               << " MiB at 100,000 rows: " << bytes_per_row << " bytes a row");
  CHECK(bytes_per_row < 100.0);
}
