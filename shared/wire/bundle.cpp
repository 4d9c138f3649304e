#include "shared/wire/bundle.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace ergon::wire {

using Code = core::ErrorCode;
using core::fail;

namespace {

std::string_view kind_name(BundleKind kind) {
  return kind == BundleKind::kRequest ? "a client's bundle ('ergon bundle export')"
                                      : "a server's answer ('ergond bundle apply')";
}

}  // namespace

std::string encode_bundle(const BundleFile& file) {
  std::string out(kBundleMagic);
  out += static_cast<char>(kBundleFormat);
  out += file.SerializeAsString();
  return out;
}

core::Result<BundleFile> decode_bundle(std::string_view bytes, BundleKind expected,
                                       std::string_view name) {
  auto where = std::string(name);
  if (bytes.size() < kBundleMagic.size() + 1 ||
      bytes.substr(0, kBundleMagic.size()) != kBundleMagic)
    return fail(Code::kCorrupt, where + " is not an Ergon bundle");
  auto format = static_cast<std::uint8_t>(bytes[kBundleMagic.size()]);
  if (format != kBundleFormat)
    return fail(Code::kVersionMismatch,
                where + " is a bundle of format " + std::to_string(format) +
                    "; this program reads format 1: use the same Ergon version on both sides");
  BundleFile file;
  if (!file.ParseFromArray(bytes.data() + kBundleMagic.size() + 1,
                           static_cast<int>(bytes.size() - kBundleMagic.size() - 1)))
    return fail(Code::kCorrupt, where + " is damaged (it cannot be decoded)");
  if (file.kind() != static_cast<std::uint32_t>(expected)) {
    auto other = expected == BundleKind::kRequest ? BundleKind::kAnswer : BundleKind::kRequest;
    if (file.kind() != static_cast<std::uint32_t>(other))
      return fail(Code::kCorrupt, where + " is damaged (an unknown kind of bundle)");
    return fail(Code::kInvalidArgument, where + " is " + std::string(kind_name(other)) + ", not " +
                                            std::string(kind_name(expected)));
  }
  return file;
}

core::Result<BundleFile> read_bundle(const std::filesystem::path& path, BundleKind expected) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(Code::kNotFound, "cannot read " + path.string() + ": " + ec.message());
  if (size > kMaxBundleBytes)
    return fail(Code::kTooLarge, path.string() + " is " + std::to_string(size >> 20) +
                                     " MiB, above the " + std::to_string(kMaxBundleBytes >> 20) +
                                     " MiB a bundle may have");
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (!in) return fail(Code::kStorage, "cannot read " + path.string());
  return decode_bundle(bytes.str(), expected, path.string());
}

core::Status write_bundle(const std::filesystem::path& path, const BundleFile& file) {
  auto bytes = encode_bundle(file);
  auto partial = std::filesystem::path(path.string() + ".partial");
  std::FILE* f = std::fopen(partial.c_str(), "wb");
  if (!f) return fail(Code::kStorage, "cannot create " + partial.string());
  bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  written = std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0 && written;
  written = std::fclose(f) == 0 && written;
  std::error_code ec;
  if (written) std::filesystem::rename(partial, path, ec);
  if (!written || ec) {
    std::filesystem::remove(partial, ec);
    return fail(Code::kStorage, "cannot write " + path.string() + " (is the disk full?)");
  }
  return {};
}

}  // namespace ergon::wire
