#pragma once
// A work folder beside a backup or a restore, removed with what is in it however the work ends
// (a crash leaves a dot-folder named for what it was doing, which the next run ignores).

#include <ctime>
#include <filesystem>
#include <string>
#include <string_view>

#include "shared/core/result.h"
#include "shared/crypto/crypto.h"

namespace ergon::server::backup {

/// "YYYYMMDD-HHMMSS" in UTC: the time in the names of backups and kept stores (they sort).
inline std::string utc_stamp(std::int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d-%H%M%S", &tm);
  return text;
}

class Staging {
 public:
  static core::Result<Staging> make(const std::filesystem::path& beside, std::string_view what) {
    Staging s;
    s.dir = beside / ("." + std::string(what) + "-" + crypto::random_hex(6));
    std::error_code ec;
    std::filesystem::create_directories(s.dir, ec);
    if (ec)
      return core::fail(core::ErrorCode::kStorage,
                        "cannot create " + s.dir.string() + ": " + ec.message());
    return s;
  }
  Staging(Staging&& other) noexcept : dir(std::move(other.dir)) { other.dir.clear(); }
  Staging& operator=(Staging&&) = delete;
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  ~Staging() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }

  std::filesystem::path dir;

 private:
  Staging() = default;
};

}  // namespace ergon::server::backup
