#pragma once
// Clock: the one seam through which code reads the time, so tests can set it. SystemClock is
// thread-safe; FakeClock is not (a test owns it).

#include <cstdint>
#include <string>
#include <string_view>

#include "shared/core/result.h"

namespace ergon::core {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Milliseconds since the Unix epoch (UTC).
  virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override;
};

/// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_ms) : now_(start_ms) {}
  std::int64_t now_ms() const override { return now_; }
  void advance(std::int64_t ms) { now_ += ms; }
  void set(std::int64_t ms) { now_ = ms; }

 private:
  std::int64_t now_;
};

/// The process's system clock.
const Clock& system_clock();

/// "2026-11-25T19:46:17.123Z": UTC with milliseconds, for display and JSON.
std::string format_utc(std::int64_t ms);

/// "2026-11-25 21:46:17 +02:00": the process's local time zone (TZ; the client defaults it to
/// Europe/Athens) with its offset, from the system's tzdata, for people.
std::string format_local(std::int64_t ms);

/// "01/03/2024 14:30": the local time zone (both programs default it to Europe/Athens) in the
/// one form every human output uses; JSON keeps format_utc (ISO 8601, offset Z).
std::string format_human(std::int64_t ms);

/// "01/03/2024" for a date stored as "2024-03-01"; any other text unchanged.
std::string format_human_date(std::string_view iso_date);

/// An ISO 8601 date or date-time as milliseconds since 1970: "2024-03-05" (local midnight),
/// "2024-03-05T14:30", "2024-03-05 14:30:15" (local), with "Z" or "+02:00" (that offset).
/// kUsage shows the forms.
core::Result<std::int64_t> parse_time(std::string_view text);

}  // namespace ergon::core
