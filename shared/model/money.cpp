#include "shared/model/money.h"

#include <limits>
#include <vector>

#include "shared/model/text.h"

namespace ergon::model {
namespace {

using core::ErrorCode;
using core::fail;

constexpr std::int64_t kMaxCents = std::numeric_limits<std::int64_t>::max();

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

// Spreadsheets put a no-break space (U+00A0) or a narrow one (U+202F) before the euro sign.
std::string_view trim_money(std::string_view s) {
  for (;;) {
    s = trim(s);
    if (s.ends_with("\xC2\xA0"))
      s.remove_suffix(2);
    else if (s.ends_with("\xE2\x80\xAF"))
      s.remove_suffix(3);
    else if (s.starts_with("\xC2\xA0"))
      s.remove_prefix(2);
    else
      return s;
  }
}

core::Error not_money(std::string_view text, std::string_view why) {
  return core::Error{ErrorCode::kInvalidArgument,
                     "'" + std::string(text) + "' is not an amount of money (" + std::string(why) +
                         "); write it as 1.234.567,89 or 1234567.89"};
}

std::string group_thousands(std::int64_t euros, char sep) {
  std::string digits = std::to_string(euros);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0) out.insert(out.begin(), sep);
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

std::string two_digits(std::int64_t cents) {
  std::string s = std::to_string(cents % 100);
  return s.size() == 1 ? "0" + s : s;
}

}  // namespace

core::Result<Money> Money::parse(std::string_view text) {
  std::string_view s = trim_money(text);
  if (s.size() >= 3 && s.substr(s.size() - 3) == "\xE2\x82\xAC")
    s = trim_money(s.substr(0, s.size() - 3));
  if (s.empty()) return fail(not_money(text, "it is empty"));
  if (s.front() == '-')
    return fail(ErrorCode::kInvalidArgument,
                "'" + std::string(text) + "' is negative: amounts must be 0 or more");

  std::string_view integer = s;
  std::string_view fraction;
  if (auto comma = s.find(','); comma != std::string_view::npos) {
    integer = s.substr(0, comma);
    fraction = s.substr(comma + 1);
    if (fraction.find(',') != std::string_view::npos)
      return fail(not_money(text, "more than one decimal comma"));
    if (fraction.find('.') != std::string_view::npos)
      return fail(not_money(text, "a '.' after the decimal comma"));
  } else if (auto dot = s.find('.'); dot != std::string_view::npos &&
                                     s.find('.', dot + 1) == std::string_view::npos &&
                                     (s.size() - dot - 1 == 1 || s.size() - dot - 1 == 2)) {
    integer = s.substr(0, dot);  // the only separator, followed by 1-2 digits: a decimal point
    fraction = s.substr(dot + 1);
  }

  if (fraction.size() > 2 || (s.find(',') != std::string_view::npos && fraction.empty()))
    return fail(not_money(text, "cents take one or two digits after the decimal mark"));
  if (!fraction.empty() && !all_digits(fraction))
    return fail(not_money(text, "only digits may follow the decimal mark"));

  std::string digits;
  auto groups = split(integer, '.');
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const auto& g = groups[i];
    if (!all_digits(g)) return fail(not_money(text, "unexpected characters"));
    if (groups.size() > 1 && ((i == 0 && g.size() > 3) || (i > 0 && g.size() != 3)))
      return fail(not_money(text, "thousands are grouped by three digits"));
    digits += g;
  }

  std::int64_t euros = 0;
  for (char c : digits) {
    int d = c - '0';
    if (euros > (kMaxCents / 100 - d) / 10)
      return fail(ErrorCode::kInvalidArgument, "'" + std::string(text) +
                                                   "' is too large: the largest amount is " +
                                                   Money(kMaxCents).greek());
    euros = euros * 10 + d;
  }
  std::int64_t cents = 0;
  if (!fraction.empty())
    cents = std::stoll(std::string(fraction)) * (fraction.size() == 1 ? 10 : 1);
  if (euros > (kMaxCents - cents) / 100)
    return fail(ErrorCode::kInvalidArgument, "'" + std::string(text) +
                                                 "' is too large: the largest amount is " +
                                                 Money(kMaxCents).greek());
  return Money(euros * 100 + cents);
}

std::string Money::greek() const {
  std::string sign = cents_ < 0 ? "-" : "";
  std::int64_t abs = cents_ < 0 ? -cents_ : cents_;
  return sign + group_thousands(abs / 100, '.') + "," + two_digits(abs);
}

std::string Money::greek_euro() const { return greek() + " \xE2\x82\xAC"; }

std::string Money::plain() const {
  std::string sign = cents_ < 0 ? "-" : "";
  std::int64_t abs = cents_ < 0 ? -cents_ : cents_;
  return sign + std::to_string(abs / 100) + "." + two_digits(abs);
}

core::Result<Money> Money::plus(Money other) const {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(cents_, other.cents_, &sum))
    return fail(ErrorCode::kInvalidArgument,
                "the sum of " + greek() + " and " + other.greek() + " is too large");
  return Money(sum);
}

}  // namespace ergon::model
