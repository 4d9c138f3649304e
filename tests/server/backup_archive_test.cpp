// The backup archive as its header promises it: a round trip, plain and encrypted; every damaged,
// truncated or lengthened file refused; hand-made archives with unsafe names refused; the file
// appearing whole or not at all. Then the backup folder's naming and pruning, and the data lock.

#include "server/backup/backup_archive.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>
#include <set>

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/backup/backup_service.h"
#include "server/backup/data_lock.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using ergon::core::ErrorCode;
using ergon::testing::TempDir;
using namespace ergon::server::backup;

namespace {

const std::string kSecret = R"({"server_id":"RECOGNISABLE-PLAINTEXT-4711"})";
const std::optional<std::string> kPass = std::string("correct horse battery staple");
const std::optional<std::string> kNoPass;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xFF);
  return out;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// A fresh empty folder under `tmp` for each extraction.
fs::path fresh_dir(const TempDir& tmp) {
  static int counter = 0;
  auto dir = tmp / ("out-" + std::to_string(++counter));
  fs::create_directories(dir);
  return dir;
}

// The error of reading `archive` into a fresh folder, or nothing when it was accepted.
std::optional<ErrorCode> read_error(const TempDir& tmp, const fs::path& archive,
                                    const std::optional<std::string>& pass) {
  auto r = read_archive(archive, fresh_dir(tmp), pass);
  if (r) return std::nullopt;
  return r.error().code;
}

std::string le(std::uint64_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
  return out;
}

std::string sha256(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  REQUIRE(EVP_Digest(bytes.data(), bytes.size(), md, &size, EVP_sha256(), nullptr) == 1);
  return {reinterpret_cast<const char*>(md), size};
}

// A plain archive built by hand from the format in backup_archive.h.
std::string craft_plain(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string body;
  for (const auto& [name, bytes] : files)
    body += le(name.size(), 4) + name + le(bytes.size(), 8) + bytes;
  body += le(0, 4);
  return std::string(kArchiveMagic) + '\x01' + '\x00' + body + sha256(body);
}

constexpr std::size_t kHeaderPlain = kArchiveMagic.size() + 2;
constexpr std::size_t kHeaderEncrypted = kHeaderPlain + 16 + 12;

// A small archive for the damage tests: one file entry over a chunk and one content entry.
fs::path small_archive(const TempDir& tmp, const std::optional<std::string>& pass) {
  auto data = tmp / "data.bin";
  write_bytes(data, random_bytes(70'000, 7));
  std::vector<ArchiveEntry> entries{{"store.db", data, ""}, {"manifest.json", {}, kSecret}};
  auto out = tmp / (pass ? "small-encrypted.backup" : "small-plain.backup");
  REQUIRE(write_archive(out, entries, pass));
  return out;
}

}  // namespace

TEST_CASE("an archive round trips its files byte for byte, plain and encrypted", "[backup]") {
  TempDir tmp;
  auto big = random_bytes(3 * 1024 * 1024 + 12'345, 42);  // many 64 KiB chunks and a tail
  write_bytes(tmp / "store.db", big);
  std::vector<ArchiveEntry> entries{
      {"store.db", tmp / "store.db", ""}, {"manifest.json", {}, kSecret}, {"empty", {}, ""}};
  const std::vector<std::string> expected{"store.db", "manifest.json", "empty"};

  for (const auto& pass : {kNoPass, kPass}) {
    INFO("encrypted: " << pass.has_value());
    auto archive = tmp / (pass ? "enc.backup" : "plain.backup");
    REQUIRE(write_archive(archive, entries, pass));

    struct stat st {};
    REQUIRE(::stat(archive.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    CHECK_FALSE(fs::exists(archive.string() + ".partial"));
    auto encrypted = is_encrypted(archive);
    REQUIRE(encrypted);
    CHECK(*encrypted == pass.has_value());

    auto dir = fresh_dir(tmp);
    auto names = read_archive(archive, dir, pass);
    REQUIRE(names);
    CHECK(*names == expected);
    CHECK(names_in(dir) == std::set<std::string>(expected.begin(), expected.end()));
    CHECK(read_bytes(dir / "store.db") == big);
    CHECK(read_bytes(dir / "manifest.json") == kSecret);
    CHECK(fs::file_size(dir / "empty") == 0);
  }
}

TEST_CASE("an encrypted archive needs the right passphrase and hides its contents", "[backup]") {
  TempDir tmp;
  auto archive = small_archive(tmp, kPass);

  auto missing = read_archive(archive, fresh_dir(tmp), kNoPass);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kInvalidArgument);
  CHECK(read_error(tmp, archive, std::string("wrong horse battery staple")) == ErrorCode::kCorrupt);
  CHECK(read_error(tmp, archive, std::string()) == ErrorCode::kCorrupt);
  CHECK_FALSE(read_error(tmp, archive, kPass));

  auto bytes = read_bytes(archive);
  CHECK(bytes.find("RECOGNISABLE-PLAINTEXT") == std::string::npos);
  CHECK(bytes.find("manifest.json") == std::string::npos);
  CHECK(bytes.find("store.db") == std::string::npos);
  // The same entries written again are sealed under a fresh salt and nonce.
  auto again = tmp / "again.backup";
  std::vector<ArchiveEntry> entries{{"manifest.json", {}, kSecret}};
  REQUIRE(write_archive(again, entries, kPass));
  REQUIRE(write_archive(tmp / "again2.backup", entries, kPass));
  CHECK(read_bytes(again) != read_bytes(tmp / "again2.backup"));
}

TEST_CASE("an archive with any one byte changed is refused", "[backup]") {
  TempDir tmp;
  for (const auto& pass : {kNoPass, kPass}) {
    auto archive = small_archive(tmp, pass);
    const auto original = read_bytes(archive);
    const auto size = original.size();
    const auto header = pass ? kHeaderEncrypted : kHeaderPlain;
    const auto tag = pass ? std::size_t{16} : 0;
    std::vector<std::pair<std::string, std::size_t>> offsets{
        {"magic", 0},
        {"magic end", kArchiveMagic.size() - 1},
        {"body start", header},
        {"first name", header + 4},
        {"first size", header + 4 + 8},
        {"file bytes", header + 4 + 8 + 8 + 100},
        {"middle", size / 2},
        {"second entry", header + 4 + 8 + 8 + 70'000 + 2},
        {"end marker", size - tag - 32 - 4},
        {"digest", size - tag - 32},
        {"digest end", size - tag - 1},
        {"last byte", size - 1}};
    if (pass) {
      offsets.emplace_back("salt", kHeaderPlain);
      offsets.emplace_back("nonce", kHeaderPlain + 16);
      offsets.emplace_back("nonce end", kHeaderEncrypted - 1);
      offsets.emplace_back("tag", size - 16);
    }
    auto damaged = tmp / "damaged.backup";
    for (const auto& [what, at] : offsets) {
      for (int mask : {0x01, 0x80, 0xFF}) {
        INFO("encrypted: " << pass.has_value() << ", " << what << " at " << at << " ^ " << mask);
        auto bytes = original;
        bytes[at] = static_cast<char>(bytes[at] ^ mask);
        write_bytes(damaged, bytes);
        CHECK(read_error(tmp, damaged, pass) == ErrorCode::kCorrupt);
      }
    }
    // The version byte: another format version.
    auto bytes = original;
    bytes[kArchiveMagic.size()] = '\x02';
    write_bytes(damaged, bytes);
    CHECK(read_error(tmp, damaged, pass) == ErrorCode::kVersionMismatch);
    CHECK(is_encrypted(damaged).error().code == ErrorCode::kVersionMismatch);
  }
}

TEST_CASE("a changed flags byte is refused", "[backup]") {
  TempDir tmp;
  const auto at = kArchiveMagic.size() + 1;
  auto damaged = tmp / "damaged.backup";
  SECTION("an encrypted archive whose header no longer says encrypted") {
    auto bytes = read_bytes(small_archive(tmp, kPass));
    for (int flags : {0x00, 0x03, 0xFE, 0xFF}) {
      INFO("flags " << flags);
      bytes[at] = static_cast<char>(flags);
      write_bytes(damaged, bytes);
      CHECK(read_error(tmp, damaged, kPass) == ErrorCode::kCorrupt);
    }
  }
  SECTION("a plain archive that now claims to be encrypted") {
    auto bytes = read_bytes(small_archive(tmp, kNoPass));
    bytes[at] = '\x01';
    write_bytes(damaged, bytes);
    CHECK(read_error(tmp, damaged, kNoPass) == ErrorCode::kInvalidArgument);
    CHECK(read_error(tmp, damaged, kPass) == ErrorCode::kCorrupt);
  }
  SECTION("a plain archive with a flag bit the format does not define") {
    // Version 1 defines bit 0 only, and a plain archive's checksum does not cover its header.
    auto bytes = read_bytes(small_archive(tmp, kNoPass));
    for (int flags : {0x02, 0x80, 0xFE}) {
      INFO("flags " << flags);
      bytes[at] = static_cast<char>(flags);
      write_bytes(damaged, bytes);
      CHECK(read_error(tmp, damaged, kNoPass).has_value());
    }
  }
}

TEST_CASE("a truncated or lengthened archive is refused as corrupt", "[backup]") {
  TempDir tmp;
  for (const auto& pass : {kNoPass, kPass}) {
    auto archive = small_archive(tmp, pass);
    const auto original = read_bytes(archive);
    const auto size = original.size();
    const auto header = pass ? kHeaderEncrypted : kHeaderPlain;
    auto cut = tmp / "cut.backup";
    for (std::size_t length :
         {std::size_t{0}, std::size_t{5}, kHeaderPlain - 1, kHeaderPlain, kHeaderPlain + 3, header,
          header + 2, header + 30, size / 2, size - 49, size - 33, size - 16, size - 2, size - 1}) {
      INFO("encrypted: " << pass.has_value() << ", cut to " << length << " of " << size);
      write_bytes(cut, std::string_view(original).substr(0, length));
      CHECK(read_error(tmp, cut, pass) == ErrorCode::kCorrupt);
    }
    for (const auto& extra :
         std::vector<std::string>{std::string(1, '\0'), "x", std::string(4, '\0')}) {
      INFO("encrypted: " << pass.has_value() << ", " << extra.size() << " extra bytes");
      write_bytes(cut, original + extra);
      CHECK(read_error(tmp, cut, pass) == ErrorCode::kCorrupt);
    }
  }
}

TEST_CASE("a file that is not an archive is said to be corrupt", "[backup]") {
  TempDir tmp;
  for (std::string_view text : {"", "ERGON", "ERGON-BACKUP\n", "just some text that is long",
                                "ergon-backup\n\x01\x01 lower case"}) {
    INFO("'" << text << "'");
    write_bytes(tmp / "not.backup", text);
    auto encrypted = is_encrypted(tmp / "not.backup");
    REQUIRE_FALSE(encrypted);
    CHECK(encrypted.error().code == ErrorCode::kCorrupt);
    CHECK(read_error(tmp, tmp / "not.backup", kPass) == ErrorCode::kCorrupt);
  }
  auto absent = is_encrypted(tmp / "absent.backup");
  REQUIRE_FALSE(absent);
  CHECK(absent.error().code == ErrorCode::kNotFound);
}

TEST_CASE("a hand-made plain archive in the documented format is accepted", "[backup]") {
  TempDir tmp;
  auto data = random_bytes(100'000, 3);
  auto crafted = craft_plain({{"a.db", data}, {"b_c-d.json", "{}"}, {"empty", ""}});
  write_bytes(tmp / "crafted.backup", crafted);
  auto dir = fresh_dir(tmp);
  auto names = read_archive(tmp / "crafted.backup", dir, kNoPass);
  REQUIRE(names);
  CHECK(*names == std::vector<std::string>{"a.db", "b_c-d.json", "empty"});
  CHECK(read_bytes(dir / "a.db") == data);
  CHECK(read_bytes(dir / "b_c-d.json") == "{}");

  // And write_archive produces exactly these bytes for the same files.
  std::vector<ArchiveEntry> entries{
      {"a.db", {}, data}, {"b_c-d.json", {}, "{}"}, {"empty", {}, ""}};
  REQUIRE(write_archive(tmp / "written.backup", entries, kNoPass));
  CHECK(read_bytes(tmp / "written.backup") == crafted);
}

TEST_CASE("an archive naming anything but a plain file name is refused", "[backup]") {
  TempDir tmp;
  auto dir = tmp / "target" / "inner";
  fs::create_directories(dir);
  for (const auto& name :
       std::vector<std::string>{"../escape", "a/b", ".hidden", "..", ".", "/abs", "sp ace",
                                std::string("nul\0x", 5), std::string(256, 'n')}) {
    INFO("name '" << name << "'");
    write_bytes(tmp / "crafted.backup", craft_plain({{"fine", "ok"}, {name, "payload"}}));
    auto r = read_archive(tmp / "crafted.backup", dir, kNoPass);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kCorrupt);
    CHECK_FALSE(fs::exists(tmp / "target" / "escape"));
    CHECK_FALSE(fs::exists(tmp / "escape"));
    CHECK_FALSE(fs::exists(dir / "a"));
    CHECK(names_in(tmp / "target") == std::set<std::string>{"inner"});
    CHECK(names_in(tmp.path()) == std::set<std::string>{"crafted.backup", "target"});
    auto inside = names_in(dir);
    inside.erase("fine");
    CHECK(inside.empty());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
}

TEST_CASE("an archive naming the same file twice is refused", "[backup]") {
  TempDir tmp;
  write_bytes(tmp / "twice.backup", craft_plain({{"same", "one"}, {"other", ""}, {"same", "two"}}));
  auto dir = fresh_dir(tmp);
  auto r = read_archive(tmp / "twice.backup", dir, kNoPass);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kCorrupt);
  CHECK(read_bytes(dir / "same") == "one");  // the second never overwrote the first
}

TEST_CASE("write_archive replaces an existing file whole or leaves it as it was", "[backup]") {
  TempDir tmp;
  auto out = tmp / "out.backup";
  std::vector<ArchiveEntry> good{{"manifest.json", {}, kSecret}};

  SECTION("a successful write replaces a longer file completely") {
    write_bytes(out, std::string(1'000'000, 'z'));
    ::chmod(out.c_str(), 0644);
    REQUIRE(write_archive(out, good, kNoPass));
    CHECK(fs::file_size(out) < 1000);
    struct stat st {};
    REQUIRE(::stat(out.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    auto names = read_archive(out, fresh_dir(tmp), kNoPass);
    REQUIRE(names);
    CHECK(*names == std::vector<std::string>{"manifest.json"});
  }
  SECTION("a file at the old partial name neither stops a new write nor is touched by it") {
    // It may be a link someone planted: the archive goes to a new file of its own.
    write_bytes(out.string() + ".partial", "left by a crash");
    REQUIRE(write_archive(out, good, kPass));
    CHECK(read_bytes(out.string() + ".partial") == "left by a crash");
    CHECK_FALSE(read_error(tmp, out, kPass));
  }
  SECTION("a failing write leaves no file, and no partial file") {
    for (const auto& pass : {kNoPass, kPass}) {
      std::vector<ArchiveEntry> bad{{"manifest.json", {}, kSecret},
                                    {"store.db", tmp / "does-not-exist.db", ""}};
      CHECK_FALSE(write_archive(out, bad, pass));
      std::vector<ArchiveEntry> unsafe{{"../escape", {}, "x"}};
      CHECK_FALSE(write_archive(out, unsafe, pass));
      CHECK(names_in(tmp.path()).empty());
    }
  }
  SECTION("a failing write leaves an existing file as it was") {
    write_bytes(out, "the previous backup");
    std::vector<ArchiveEntry> bad{{"store.db", tmp / "does-not-exist.db", ""}};
    CHECK_FALSE(write_archive(out, bad, kPass));
    CHECK(read_bytes(out) == "the previous backup");
    CHECK(names_in(tmp.path()) == std::set<std::string>{"out.backup"});
  }
}

TEST_CASE("backup_name_in names a backup by its UTC time and never reuses a name", "[backup]") {
  TempDir tmp;
  const std::int64_t at = 1'700'000'000'123;  // 2023-11-14 22:13:20.123 UTC
  auto first = backup_name_in(tmp.path(), at);
  CHECK(first == tmp / "ergond-20231114-221320.backup");
  CHECK(backup_name_in(tmp.path(), at) == first);  // nothing there yet
  std::set<fs::path> seen{first};
  write_bytes(first, "1");
  for (int i = 0; i < 11; ++i) {
    auto next = backup_name_in(tmp.path(), at);
    INFO(next.string());
    CHECK_FALSE(fs::exists(next));
    CHECK(next.parent_path() == tmp.path());
    CHECK(next.filename().string().starts_with("ergond-20231114-221320"));
    CHECK(next.extension() == ".backup");
    CHECK(seen.insert(next).second);
    write_bytes(next, "x");
  }
}

TEST_CASE("prune_backups keeps the newest backups and touches nothing else", "[backup]") {
  TempDir tmp;
  std::vector<fs::path> backups;
  for (std::int64_t day = 0; day < 5; ++day) {
    backups.push_back(backup_name_in(tmp.path(), 1'700'000'000'000 + day * 86'400'000));
    write_bytes(backups.back(), "b");
  }
  const std::set<std::string> others{"notes.txt", "ergond-x.backup.partial", "other-1.backup",
                                     "ergond.lock"};
  for (const auto& name : others) write_bytes(tmp / name, "keep me");
  fs::create_directories(tmp / "ergond-00000000-000000.backup");  // a folder, not a backup

  auto removed = prune_backups(tmp.path(), 3);
  REQUIRE(removed);
  std::sort(removed->begin(), removed->end());
  CHECK(*removed == std::vector<fs::path>{backups[0], backups[1]});
  for (std::size_t i = 0; i < backups.size(); ++i) CHECK(fs::exists(backups[i]) == (i >= 2));
  for (const auto& name : others) CHECK(fs::exists(tmp / name));
  CHECK(fs::is_directory(tmp / "ergond-00000000-000000.backup"));

  auto none = prune_backups(tmp.path(), 3);
  REQUIRE(none);
  CHECK(none->empty());
  auto bigger = prune_backups(tmp.path(), 10);
  REQUIRE(bigger);
  CHECK(bigger->empty());
  auto all = prune_backups(tmp.path(), 0);
  REQUIRE(all);
  CHECK(all->size() == 3);
  for (const auto& name : others) CHECK(fs::exists(tmp / name));
}

TEST_CASE("prune_backups counts a second backup of the same second as the newer", "[backup]") {
  TempDir tmp;
  const std::int64_t at = 1'700'000'000'000;
  std::vector<fs::path> taken;  // in the order they were taken
  for (int i = 0; i < 3; ++i) {
    taken.push_back(backup_name_in(tmp.path(), at));
    write_bytes(taken.back(), "b");
  }
  auto removed = prune_backups(tmp.path(), 1);
  REQUIRE(removed);
  CHECK(removed->size() == 2);
  CHECK(fs::exists(taken.back()));
}

TEST_CASE("the data lock admits one holder at a time and names it", "[backup]") {
  TempDir tmp;
  CHECK_FALSE(DataLock::holder(tmp.path()));  // no lock file at all
  {
    auto lock = DataLock::acquire(tmp.path(), "stop it first");
    REQUIRE(lock);
    CHECK(DataLock::holder(tmp.path()) == static_cast<long>(::getpid()));
    struct stat st {};
    REQUIRE(::stat((tmp / kLockFile).c_str(), &st) == 0);
    CHECK((st.st_mode & 0077) == 0);

    auto second = DataLock::acquire(tmp.path(), "stop it first");
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::kUnavailable);
    CHECK_THAT(second.error().message, Catch::Contains(std::to_string(::getpid())));
    CHECK_THAT(second.error().message, Catch::Contains("stop it first"));
    // Asking who holds it takes nothing.
    CHECK(DataLock::holder(tmp.path()) == static_cast<long>(::getpid()));

    auto moved = std::move(*lock);
    CHECK_FALSE(DataLock::acquire(tmp.path(), ""));
  }
  CHECK_FALSE(DataLock::holder(tmp.path()));
  auto again = DataLock::acquire(tmp.path(), "");
  REQUIRE(again);
  CHECK(DataLock::holder(tmp.path()) == static_cast<long>(::getpid()));
}
