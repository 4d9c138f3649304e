#include "shared/model/ka_code.h"

#include "shared/model/proposal.h"
#include "shared/model/text.h"

namespace ergon::model {
namespace {

using core::ErrorCode;
using core::fail;

bool digits(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

core::Result<KaCode> KaCode::parse(std::string_view text) {
  std::string_view s = trim(text);
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::kInvalidArgument, "ka_code: '" + std::string(text) +
                                                 "' is not a ΚΑ code (" + std::string(why) +
                                                 "); write SS-EEEE.NNN, e.g. 30-7323.001");
  };
  if (s.size() < 9) return bad("too short");
  std::string_view service = s.substr(0, 2);
  if (!digits(service, 2, 2)) return bad("the service code is two digits");
  if (s[2] != '-' && s[2] != '.') return bad("the service code is followed by '-' or '.'");
  std::string_view expense = s.substr(3, 4);
  if (!digits(expense, 4, 4)) return bad("the expense class is four digits");
  if (s.size() < 9 || s[7] != '.') return bad("the expense class is followed by '.'");
  std::string_view serial = s.substr(8);
  if (!digits(serial, 1, 5)) return bad("the serial is one to five digits");

  std::size_t first = serial.find_first_not_of('0');
  std::string number = first == std::string_view::npos ? "0" : std::string(serial.substr(first));
  if (number.size() < 3) number.insert(0, 3 - number.size(), '0');
  return KaCode(std::string(service) + "-" + std::string(expense) + "." + number);
}

core::Status check_ka_category(const KaCode& code, Category category) {
  auto cls = code.expense_class();
  bool is_work_class = cls.substr(0, 2) == "73";
  bool is_study_class = cls.substr(0, 2) == "74";
  bool ok = (category == Category::kWork && is_work_class) ||
            (category == Category::kStudy && is_study_class) ||
            ((category == Category::kSupply || category == Category::kService) && !is_work_class &&
             !is_study_class);
  if (ok) return {};
  std::string fits = is_work_class    ? "class 73xx is for category work"
                     : is_study_class ? "class 74xx is for category study"
                                      : "works need class 73xx and studies class 74xx";
  return fail(ErrorCode::kInvalidArgument, "ka_code: '" + code.canonical() +
                                               "' does not fit category '" +
                                               std::string(to_string(category)) + "': " + fits);
}

}  // namespace ergon::model
