// Whose backup is restored: a plain backup carries only a hash that anyone can recompute, so an
// altered copy with another server key must not replace the server's identity. A real `ergond`
// backs up; the test re-hashes the archive with another key (what an attacker with the file
// can do) and the restore refuses it, into the server's own folder (whose key it knows) and
// into an empty one (unless --fingerprint names the key, or --unauthenticated accepts it).

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "server/backup/backup_archive.h"
#include "shared/net/tls.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using namespace ergon::testing;
using namespace ergon::testing::integration;
namespace fs = std::filesystem;

namespace {

// `plain` unpacked, its server identity swapped for a new one, packed again (plain).
fs::path with_another_key(const fs::path& plain, const fs::path& work) {
  auto unpacked = work / "unpacked", stranger = work / "stranger";
  fs::create_directories(unpacked);
  fs::create_directories(stranger);
  auto names = server::backup::read_archive(plain, unpacked, std::nullopt);
  REQUIRE(names);
  REQUIRE(net::create_server_identity(stranger));
  std::vector<server::backup::ArchiveEntry> entries;
  for (const auto& name : *names) {
    bool is_identity = name == net::kKeyFile || name == net::kCertFile;
    entries.push_back({name, (is_identity ? stranger : unpacked) / name, {}});
  }
  auto altered = work / "altered.backup";
  REQUIRE(server::backup::write_archive(altered, entries, std::nullopt));
  return altered;
}

ProcessResult restore(const fs::path& data, const fs::path& from,
                      const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{ergond_binary(), "restore", "--data",
                                data.string(),   "--from",  from.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return run_process(argv);
}

}  // namespace

TEST_CASE("a plain backup re-hashed with another server key is never restored",
          "[integration][backup][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  seed_programme(server);
  auto plain = dir.path() / "plain.backup";
  REQUIRE(server.admin("backup", {"--out", plain.string()}).status.ok());
  server.stop();
  auto altered = with_another_key(plain, dir.path());

  // Into the server's own folder: its key is known, the stranger's is refused.
  auto refused = restore(server.data(), altered);
  INFO(refused.err);
  CHECK(refused.exit_code() != 0);
  CHECK_THAT(refused.err, Catch::Contains("not this server's backup"));
  auto same = restore(server.data(), altered, {"--fingerprint", server.fingerprint()});
  CHECK(same.exit_code() != 0);
  CHECK(net::server_fingerprint(server.data()).value() == server.fingerprint());

  // Into an empty folder (the server's disk was lost): only what the fingerprint vouches for.
  auto lost = dir.path() / "new-disk";
  auto unvouched = restore(lost, plain);
  CHECK(unvouched.exit_code() != 0);
  CHECK_THAT(unvouched.err, Catch::Contains("--fingerprint"));
  CHECK(restore(lost, altered, {"--fingerprint", server.fingerprint()}).exit_code() != 0);
  auto vouched = restore(lost, plain, {"--fingerprint", server.fingerprint()});
  INFO(vouched.err);
  CHECK(vouched.status.ok());
  CHECK(net::server_fingerprint(lost).value() == server.fingerprint());

  // The administrator may accept a file as it is, knowingly.
  auto accepted = restore(dir.path() / "other-disk", altered, {"--unauthenticated"});
  INFO(accepted.err);
  CHECK(accepted.status.ok());

  // The folder the refusals left is the server's as before: it serves with its own key.
  server.start(server.port());
  CHECK(server.verify().at("rows").get<int>() > 0);
}
