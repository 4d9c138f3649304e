#pragma once
// CSV as spreadsheets export it: `;` or `,` separated (detected from the header), RFC 4180
// quoting, UTF-8 with or without BOM, CRLF or LF. Pure; thread-safe.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
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

/// Reads CSV from a stream one row at a time, so a file of a million rows costs one row of
/// memory. `delimiter` 0 detects `;` or `,` from the header line. Fails on invalid UTF-8 or an
/// unterminated quote, naming the line. The stream must outlive the reader. Not thread-safe.
class CsvReader {
 public:
  explicit CsvReader(std::istream& in, char delimiter = 0);

  /// The header line's cells, trimmed; kInvalidArgument for an empty file. Call first.
  core::Result<std::vector<std::string>> header();
  /// The next row that is not blank, or nullopt at the end.
  core::Result<std::optional<CsvRow>> next();
  char delimiter() const { return delimiter_; }
  /// Refuses, while reading, a cell longer than `max_cell_bytes` or a row of more than
  /// `max_cells` cells, so a hostile file costs at most one bounded row of memory.
  void limit(std::size_t max_cell_bytes, std::size_t max_cells) {
    max_cell_bytes_ = max_cell_bytes;
    max_cells_ = max_cells;
  }
  /// Bytes consumed so far, for progress.
  std::size_t bytes_read() const { return bytes_read_; }

 private:
  int get();
  int peek();
  core::Result<std::optional<CsvRow>> read_row();
  core::Status check_limits(const CsvRow& row, const std::string& cell) const;

  std::istream& in_;
  char delimiter_;
  std::string lookahead_;  // the header line, read ahead to detect the delimiter
  std::size_t lookahead_at_ = 0;
  std::size_t line_ = 1;
  std::size_t bytes_read_ = 0;
  std::size_t max_cell_bytes_ = SIZE_MAX, max_cells_ = SIZE_MAX;
};

/// Parses a whole text (CsvReader over it), keeping every row.
core::Result<CsvTable> parse_csv(std::string_view text, char delimiter = 0);

/// One cell, quoted when it holds the delimiter, a quote or a line break. A value a spreadsheet
/// would run as a formula (starting with =, +, -, @, tab or carriage return, after any leading
/// apostrophes) gets one apostrophe in front, as OWASP's CSV-injection guidance recommends;
/// CsvReader takes exactly that apostrophe off again, so every value makes the round trip.
std::string csv_cell(std::string_view value, char delimiter);

/// Whether csv_cell guards `value` with an apostrophe.
bool starts_formula(std::string_view value);
/// A cell as read, with csv_cell's guard taken off (CsvReader does it for every cell).
std::string unguarded(std::string cell);

}  // namespace ergon::model
