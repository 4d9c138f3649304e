#include "tests/support/fixtures.h"

namespace ergon::testing {

model::FieldValues a_work(const std::string& title, const std::string& directorate) {
  return {{"title", title},
          {"category", "work"},
          {"new_or_continuing", "new"},
          {"area", "HER-CITY"},
          {"total_budget", "1.000.000,00"},
          {"allocation", "400.000,00"},
          {"funding", "1099"},
          {"status", "maturing"},
          {"priority", "B"},
          {"directorate", directorate}};
}

}  // namespace ergon::testing
