#include "shared/core/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ergon::core {

std::int64_t SystemClock::now_ms() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

std::string format_utc(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buffer;
}

std::string format_local(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  long offset = tm.tm_gmtoff / 60;  // minutes east of UTC
  char sign = offset < 0 ? '-' : '+';
  if (offset < 0) offset = -offset;
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d:%02d %c%02ld:%02ld",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                sign, offset / 60, offset % 60);
  return buffer;
}

std::string format_human(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%02d/%02d/%04d %02d:%02d", tm.tm_mday, tm.tm_mon + 1,
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
  return buffer;
}

std::string format_human_date(std::string_view iso_date) {
  bool is_iso = iso_date.size() == 10 && iso_date[4] == '-' && iso_date[7] == '-';
  if (!is_iso) return std::string(iso_date);
  return std::string(iso_date.substr(8, 2)) + "/" + std::string(iso_date.substr(5, 2)) + "/" +
         std::string(iso_date.substr(0, 4));
}

core::Result<std::int64_t> parse_time(std::string_view text) {
  auto bad = [&] {
    return core::fail(core::ErrorCode::kUsage,
                      "'" + std::string(text) +
                          "' is not a date or time; write 2024-03-05 (local midnight), "
                          "2024-03-05T14:30, 2024-03-05 14:30:15, or with Z or +02:00 at the end");
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &year, &month, &day, &consumed) != 3) return bad();
  std::string_view rest = std::string_view(s).substr(static_cast<std::size_t>(consumed));
  if (!rest.empty() && (rest[0] == 'T' || rest[0] == ' ')) {
    int used = 0;
    std::string clock(rest.substr(1));
    if (std::sscanf(clock.c_str(), "%2d:%2d%n", &hour, &minute, &used) != 2) return bad();
    rest = rest.substr(1 + static_cast<std::size_t>(used));
    if (!rest.empty() && rest[0] == ':') {
      std::string secs(rest.substr(1));
      if (std::sscanf(secs.c_str(), "%2d%n", &second, &used) != 1) return bad();
      rest = rest.substr(1 + static_cast<std::size_t>(used));
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  if (rest.empty()) {
    tm.tm_isdst = -1;  // local time: the zone's rules say whether summer time applies
    return static_cast<std::int64_t>(std::mktime(&tm)) * 1000;
  }
  long offset = 0;
  if (rest != "Z") {
    int oh = 0, om = 0;
    std::string zone(rest);
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') ||
        std::sscanf(zone.c_str() + 1, "%2d:%2d", &oh, &om) != 2)
      return bad();
    offset = (zone[0] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
  }
  return (static_cast<std::int64_t>(timegm(&tm)) - offset) * 1000;
}

}  // namespace ergon::core
