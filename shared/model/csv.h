#pragma once
// CSV as spreadsheets export it: `;` or `,` separated (detected from the header), RFC 4180
// quoting, UTF-8 with or without BOM, CRLF or LF. Pure; thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "shared/core/result.h"

namespace ergon::model {

struct CsvRow {
  std::size_t line = 0;  // 1-based line where the row starts
  std::vector<std::string> cells;
};

struct CsvTable {
  char delimiter = ';';
  std::vector<std::string> header;
  std::vector<CsvRow> rows;  // blank lines skipped

  /// Index of a header column, or -1.
  int column(std::string_view name) const;
};

/// Parses a whole file. `delimiter` 0 detects `;` or `,` from the header line. Fails on
/// invalid UTF-8 or an unterminated quote, naming the line.
core::Result<CsvTable> parse_csv(std::string_view text, char delimiter = 0);

/// One cell, quoted when it holds the delimiter, a quote or a line break.
std::string csv_cell(std::string_view value, char delimiter);

}  // namespace ergon::model
