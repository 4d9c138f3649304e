// A forged bundle is refused before it is decoded (Hardening II): a 32 MiB request of two
// million empty changes with a wrong MAC, and a 32 MiB answer of the same signed by nobody,
// are refused by `ergond bundle apply` and `ergon bundle import` from their authentication
// alone, and neither program's peak memory follows what decoding them would take (gigabytes).
// The peak is read by a python3 parent (getrusage of its only child).

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "shared/core/ids.h"
#include "shared/crypto/crypto.h"
#include "shared/wire/bundle.h"
#include "shared/wire/frame.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/temp_dir.h"

using namespace ergon;
using namespace ergon::testing;
using namespace ergon::testing::integration;

namespace {

constexpr std::size_t kMiB = 1u << 20;

std::string varint(std::size_t value) {
  std::string out;
  for (; value >= 0x80; value >>= 7) out.push_back(static_cast<char>((value & 0x7f) | 0x80));
  out.push_back(static_cast<char>(value));
  return out;
}

// Field `outer` of a message holding one message whose field 1 repeats empty sixteen million
// times: 32 MiB on the disk, sixteen million protobuf objects once decoded.
std::string bulk_field(int outer) {
  std::string inner;
  inner.reserve(32 * kMiB);
  for (int i = 0; i < 16'000'000; ++i) inner += std::string("\x0a\x00", 2);
  return static_cast<char>((outer << 3) | 2) + varint(inner.size()) + inner;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Peak {
  ProcessResult result;
  std::size_t bytes = 0;
};

// Runs `argv` under a python3 parent that prints its child's peak resident memory (KiB).
Peak run_measured(const std::vector<std::string>& argv) {
  std::vector<std::string> wrapped{
      "/usr/bin/python3", "-c",
      "import resource, subprocess, sys\n"
      "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
      "sys.stderr.write(r.stderr)\n"
      "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
      "sys.exit(r.returncode)\n"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  Peak peak{run_process(wrapped), 0};
  peak.bytes = std::stoull(peak.result.out) * 1024;
  return peak;
}

}  // namespace

TEST_CASE("a forged bundle is refused before it is decoded, in bounded memory",
          "[integration][bundle][hardening]") {
  TempDir dir;
  RunningServer server(dir.path());
  server.start();
  auto laptop = server.add_client("laptop", "directorate", "DTE");
  laptop.sync();

  SECTION("a request with a wrong MAC") {
    auto token = server.enrol("directorate", "DTE", "forged stick");
    auto key = crypto::generate_signing_key();
    auto id = core::DeviceId::random().bytes();
    std::string device(id.begin(), id.end());
    auto nonce = crypto::random_bytes(16);
    wire::BundleRequest request;
    auto* hello = request.mutable_hello();
    hello->set_min_version(wire::kProtocolVersion);
    hello->set_max_version(wire::kProtocolVersion);
    hello->set_token(token.substr(0, token.find('.')));
    hello->set_client_device_id(device);
    hello->set_public_key(key.public_key);
    request.set_nonce(nonce);
    wire::BundleFile file;
    file.set_kind(static_cast<std::uint32_t>(wire::BundleKind::kRequest));
    file.set_body(request.SerializeAsString() + bulk_field(3));  // pushes
    file.set_mac(std::string(32, 'x'));
    file.set_signature(crypto::sign(key, file.body()));
    auto in = dir.path() / "forged.bundle";
    REQUIRE(wire::write_bundle(in, file));
    auto applied =
        run_measured({ergond_binary(), "bundle", "apply", "--data", server.data().string(),
                      in.string(), (dir.path() / "forged.answer").string()});
    INFO(applied.result.err << "peak " << applied.bytes / kMiB << " MiB");
    CHECK(applied.result.exit_code() == 4);
    CHECK(applied.bytes < 400 * kMiB);
  }

  SECTION("an answer signed by nobody") {
    wire::BundleAnswer answer;
    answer.set_certificate(read_text(server.data() / "server.crt"));  // the pinned key's
    wire::BundleFile file;
    file.set_kind(static_cast<std::uint32_t>(wire::BundleKind::kAnswer));
    file.set_body(answer.SerializeAsString() + bulk_field(4));  // push replies
    file.set_signature("nobody");
    auto in = dir.path() / "forged.answer";
    REQUIRE(wire::write_bundle(in, file));
    std::vector<std::string> argv{ergon_binary(), "--home", laptop.home.string(),
                                  "bundle",       "import", in.string()};
    auto imported = run_measured(argv);
    INFO(imported.result.err << "peak " << imported.bytes / kMiB << " MiB");
    CHECK(imported.result.exit_code() == 5);
    CHECK(imported.bytes < 400 * kMiB);
  }
}
