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

char detect_delimiter(std::string_view line) {
  std::size_t semicolons = 0, commas = 0;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (!quoted && c == ';') ++semicolons;
    if (!quoted && c == ',') ++commas;
  }
  return commas > semicolons ? ',' : ';';
}

// A view of a string as a stream buffer, so parse_csv reads a text without copying it.
class ViewBuffer : public std::streambuf {
 public:
  explicit ViewBuffer(std::string_view text) {
    char* begin = const_cast<char*>(text.data());  // read-only: the get area is never written
    setg(begin, begin, begin + text.size());
  }
};

}  // namespace

CsvReader::CsvReader(std::istream& in, char delimiter) : in_(in), delimiter_(delimiter) {
  // The first line (to its first unquoted line break) decides the delimiter.
  bool quoted = false;
  for (int c = in_.get(); c != EOF; c = in_.get()) {
    lookahead_.push_back(static_cast<char>(c));
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == '\n' || c == '\r')) break;
  }
  if (lookahead_.substr(0, 3) == "\xEF\xBB\xBF") lookahead_at_ = 3;
  if (delimiter_ == 0)
    delimiter_ = detect_delimiter(std::string_view(lookahead_).substr(lookahead_at_));
}

int CsvReader::get() {
  ++bytes_read_;
  if (lookahead_at_ < lookahead_.size())
    return static_cast<unsigned char>(lookahead_[lookahead_at_++]);
  return in_.get();
}

int CsvReader::peek() {
  if (lookahead_at_ < lookahead_.size())
    return static_cast<unsigned char>(lookahead_[lookahead_at_]);
  return in_.peek();
}

core::Status CsvReader::check_limits(const CsvRow& row, const std::string& cell) const {
  if (cell.size() >= max_cell_bytes_)
    return fail(ErrorCode::kInvalidArgument,
                "line " + std::to_string(row.line) + ", column " +
                    std::to_string(row.cells.size() + 1) + ": a cell of more than " +
                    std::to_string(max_cell_bytes_) +
                    " bytes; no field is that long (check the file is the right one)");
  if (row.cells.size() >= max_cells_)
    return fail(ErrorCode::kInvalidArgument, "line " + std::to_string(row.line) + ": more than " +
                                                 std::to_string(max_cells_) +
                                                 " cells; the sheet has far fewer columns");
  return {};
}

core::Result<std::optional<CsvRow>> CsvReader::read_row() {
  CsvRow row;
  row.line = line_;
  std::string cell;
  bool quoted = false, cell_was_quoted = false, has_content = false;
  std::size_t quote_line = 0;
  auto end_cell = [&]() -> core::Status {
    if (!is_valid_utf8(cell))
      return fail(ErrorCode::kInvalidArgument,
                  "line " + std::to_string(row.line) +
                      ": not valid UTF-8; save the file from the spreadsheet as 'CSV UTF-8'");
    row.cells.push_back(unguarded(std::move(cell)));
    cell.clear();
    cell_was_quoted = false;
    return {};
  };
  for (int c = get(); c != EOF; c = get()) {
    ERGON_TRY(check_limits(row, cell));
    if (quoted) {
      if (c == '"' && peek() == '"') {
        cell.push_back('"');
        get();
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line_;
        cell.push_back(static_cast<char>(c));
      }
    } else if (c == '"' && cell.empty() && !cell_was_quoted) {
      quoted = cell_was_quoted = has_content = true;
      quote_line = line_;
    } else if (c == delimiter_) {
      has_content = true;
      ERGON_TRY(end_cell());
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && peek() == '\n') get();
      ++line_;
      if (!has_content && row.cells.empty() && cell.empty()) {  // a blank line: skipped
        row.line = line_;
        continue;
      }
      ERGON_TRY(end_cell());
      return std::optional<CsvRow>(std::move(row));
    } else {
      has_content = true;
      cell.push_back(static_cast<char>(c));
    }
  }
  if (quoted)
    return fail(ErrorCode::kInvalidArgument, "line " + std::to_string(quote_line) +
                                                 ": a quoted cell is never closed; add the "
                                                 "closing '\"'");
  if (!has_content && cell.empty() && row.cells.empty()) return std::optional<CsvRow>{};
  ERGON_TRY(end_cell());
  return std::optional<CsvRow>(std::move(row));
}

core::Result<std::optional<CsvRow>> CsvReader::next() { return read_row(); }

core::Result<std::vector<std::string>> CsvReader::header() {
  auto first = next();
  if (!first) return fail(first.error());
  if (!*first) return fail(ErrorCode::kInvalidArgument, "the file is empty: no header line");
  auto cells = std::move((*first)->cells);
  for (auto& h : cells) h = std::string(trim(h));
  return cells;
}

core::Result<CsvTable> parse_csv(std::string_view text, char delimiter) {
  ViewBuffer buffer(text);
  std::istream in(&buffer);
  CsvReader reader(in, delimiter);
  CsvTable table;
  table.delimiter = reader.delimiter();
  auto header = reader.header();
  if (!header) return fail(header.error());
  table.header = std::move(*header);
  for (;;) {
    auto row = reader.next();
    if (!row) return fail(row.error());
    if (!*row) break;
    table.rows.push_back(std::move(**row));
  }
  return table;
}

bool starts_formula(std::string_view value) {
  auto first = value.find_first_not_of('\'');
  return first != std::string_view::npos &&
         std::string_view("=+-@\t\r").find(value[first]) != std::string_view::npos;
}

std::string unguarded(std::string cell) {
  if (cell.starts_with('\'') && starts_formula(std::string_view(cell).substr(1))) cell.erase(0, 1);
  return cell;
}

std::string csv_cell(std::string_view guarded_or_not, char delimiter) {
  std::string guarded;
  if (starts_formula(guarded_or_not)) guarded = "'" + std::string(guarded_or_not);
  std::string_view value = guarded.empty() ? guarded_or_not : guarded;
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
