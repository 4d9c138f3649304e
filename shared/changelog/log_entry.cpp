#include "shared/changelog/log_entry.h"

#include "shared/changelog/canonical.h"

namespace ergon::changelog {
namespace {

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

}  // namespace

std::string entry_bytes(const Change& change, const Outcome& outcome) {
  std::string out = canonical_bytes(change);
  put_u64(out, outcome.position.epoch);
  put_u64(out, outcome.position.seq);
  out.push_back(static_cast<char>(outcome.kind));
  out.push_back(outcome.is_new_revision ? 1 : 0);
  auto conflict = outcome.conflict.value_or(Revision{});
  put_u64(out, conflict.epoch);
  put_u64(out, conflict.seq);
  put_u64(out, outcome.reason.size());
  out += outcome.reason;
  return out;
}

crypto::Digest chain_hash(const crypto::Digest& previous, const Change& change,
                          const Outcome& outcome) {
  return crypto::sha256({crypto::as_bytes(previous), entry_bytes(change, outcome)});
}

std::string head_text(const Revision& at, const crypto::Digest& hash) {
  return std::to_string(at.epoch) + "." + std::to_string(at.seq) + ":" + crypto::to_hex(hash);
}

core::Result<std::pair<Revision, crypto::Digest>> parse_head(std::string_view text) {
  auto bad = [&] {
    return core::fail(core::ErrorCode::kUsage,
                      "'" + std::string(text) +
                          "' is not a chain head; write EPOCH.SEQ:HEX as 'ergon status' shows it, "
                          "e.g. 1.120:5f3a… (64 hex digits)");
  };
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return bad();
  auto at = parse_conflict_id(text.substr(0, colon));
  auto hex = text.substr(colon + 1);
  crypto::Digest hash{};
  if (!at || hex.size() != hash.size() * 2) return bad();
  for (std::size_t i = 0; i < hash.size(); ++i) {
    auto digit = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad();
    hash[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return std::pair{*at, hash};
}

void StateDigest::toggle(std::string_view entity, std::string_view field, std::string_view value) {
  // One buffer hashed in one call: a first sync toggles a million fields (bench/RESULTS.md).
  thread_local std::string bytes;
  bytes.assign(entity).push_back('\0');
  bytes.append(field).push_back('\0');
  bytes.append(value);
  auto h = crypto::sha256(bytes);
  for (std::size_t i = 0; i < value_.size(); ++i) value_[i] ^= h[i];
}

void StateDigest::replace(std::string_view entity, const model::FieldValues& before,
                          const model::FieldValues& after) {
  for (const auto& [field, value] : after) {
    auto old = before.find(field);
    if (old != before.end() && old->second == value) continue;
    if (old != before.end()) toggle(entity, field, old->second);
    toggle(entity, field, value);
  }
}

}  // namespace ergon::changelog
