#include "shared/model/csv.h"

#include "shared/model/text.h"

namespace ergon::model {

using core::ErrorCode;
using core::fail;

int CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

namespace {

char detect_delimiter(std::string_view text) {
  std::size_t semicolons = 0, commas = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == '\n' || c == '\r')) break;
    if (!quoted && c == ';') ++semicolons;
    if (!quoted && c == ',') ++commas;
  }
  return commas > semicolons ? ',' : ';';
}

}  // namespace

core::Result<CsvTable> parse_csv(std::string_view text, char delimiter) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (!is_valid_utf8(text))
    return fail(ErrorCode::kInvalidArgument,
                "the file is not valid UTF-8; save it from the spreadsheet as 'CSV UTF-8'");
  CsvTable table;
  table.delimiter = delimiter != 0 ? delimiter : detect_delimiter(text);

  std::vector<CsvRow> rows;
  CsvRow row;
  std::string cell;
  std::size_t line = 1;
  row.line = 1;
  bool quoted = false, cell_was_quoted = false, row_has_content = false;
  std::size_t quote_line = 0;

  auto end_cell = [&] {
    row.cells.push_back(std::move(cell));
    cell.clear();
    cell_was_quoted = false;
  };
  auto end_row = [&] {
    end_cell();
    bool blank = !row_has_content && row.cells.size() == 1 && row.cells[0].empty();
    if (!blank) rows.push_back(std::move(row));
    row = CsvRow{};
    row_has_content = false;
  };

  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell.push_back(c);
      }
      continue;
    }
    if (c == '"' && cell.empty() && !cell_was_quoted) {
      quoted = cell_was_quoted = row_has_content = true;
      quote_line = line;
    } else if (c == table.delimiter) {
      row_has_content = true;
      end_cell();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_row();
      ++line;
      row.line = line;
    } else {
      row_has_content = true;
      cell.push_back(c);
    }
  }
  if (quoted)
    return fail(ErrorCode::kInvalidArgument, "line " + std::to_string(quote_line) +
                                                 ": a quoted cell is never closed; add the "
                                                 "closing '\"'");
  if (!cell.empty() || !row.cells.empty() || row_has_content) end_row();

  if (rows.empty()) return fail(ErrorCode::kInvalidArgument, "the file is empty: no header line");
  table.header = std::move(rows.front().cells);
  for (auto& h : table.header) h = std::string(trim(h));
  rows.erase(rows.begin());
  table.rows = std::move(rows);
  return table;
}

std::string csv_cell(std::string_view value, char delimiter) {
  if (value.find_first_of(std::string{delimiter, '"', '\n', '\r'}) == std::string_view::npos)
    return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace ergon::model
