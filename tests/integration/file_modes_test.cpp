// The stores hold device tokens, private keys and every directorate's figures: a home and a data
// folder that Ergon creates are its user's alone (0700), and every database file with its -wal
// and -shm is 0600, whatever the umask. A store left readable by others by an older version is
// narrowed the next time it is opened for writing.

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

void check_private_store(const fs::path& folder, const std::string& database) {
  INFO(folder);
  CHECK(mode_of(folder) == 0700);
  CHECK(mode_of(folder / database) == 0600);
  for (const char* suffix : {"-wal", "-shm"}) {
    fs::path side = (folder / database).string() + suffix;
    INFO(side);
    if (fs::exists(side)) CHECK(mode_of(side) == 0600);
  }
}

}  // namespace

TEST_CASE("homes and data folders are 0700, their databases 0600", "[integration][hardening]") {
  auto old_mask = ::umask(022);  // the usual umask, which would give 0755 and 0644
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);
  check_private_store(server.data(), "ergond.db");
  check_private_store(planning.home, "ergon.db");
  CHECK(fs::exists(server.data() / "ergond.db-wal"));  // the sidecar files were checked too

  SECTION("a store left readable by others is narrowed when next opened") {
    fs::permissions(planning.home / "ergon.db", fs::perms(0644), fs::perm_options::replace);
    planning.sync();
    CHECK(mode_of(planning.home / "ergon.db") == 0600);
  }
  ::umask(old_mask);
}
