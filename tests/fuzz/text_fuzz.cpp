// libFuzzer target: untrusted text from spreadsheets and the command line through the CSV
// parser, money and ΚΑ parsing, Greek normalisation and search folding.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "shared/model/csv.h"
#include "shared/model/fields.h"
#include "shared/model/ka_code.h"
#include "shared/model/money.h"
#include "shared/model/text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ergon::model;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto table = parse_csv(text); table)
    for (const auto& row : table->rows)
      for (std::size_t i = 0; i < row.cells.size() && i < table->header.size(); ++i) {
        Proposal p;
        (void)set_field(p, table->header[i], row.cells[i]);
      }
  if (auto money = Money::parse(text); money) {
    auto again = Money::parse(money->greek());
    if (!again || *again != *money) __builtin_trap();  // printing must round-trip
  }
  (void)KaCode::parse(text);
  (void)normalise_text(text);
  (void)fold_for_search(text);
  return 0;
}
