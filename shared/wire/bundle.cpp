#include "shared/wire/bundle.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "shared/core/output_file.h"

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

core::Result<std::map<int, std::string>> top_level_fields(std::string_view message,
                                                          std::initializer_list<int> numbers) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(message.data()),
                                            static_cast<int>(message.size()));
  std::map<int, std::string> found;
  auto damaged = [] {
    return fail(Code::kCorrupt, "the bundle is damaged (it cannot be decoded)");
  };
  while (auto tag = in.ReadTag()) {
    auto number = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
    bool wanted = std::find(numbers.begin(), numbers.end(), number) != numbers.end();
    if (!wanted ||
        WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return damaged();
      continue;
    }
    std::uint32_t length = 0;
    std::string bytes;
    if (found.contains(number) || !in.ReadVarint32(&length) ||
        !in.ReadString(&bytes, static_cast<int>(length)))
      return damaged();
    found.emplace(number, std::move(bytes));
  }
  if (!in.ConsumedEntireMessage() || in.CurrentPosition() != static_cast<int>(message.size()))
    return damaged();
  return found;
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
  return core::write_file(path, bytes, core::FileMode::kPrivate);
}

}  // namespace ergon::wire
