#include "shared/model/csv.h"

#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "shared/core/error.h"
#include "tests/support/paths.h"

using Catch::Matchers::Contains;
using ergon::core::ErrorCode;
using ergon::model::csv_cell;
using ergon::model::CsvTable;
using ergon::model::parse_csv;

namespace {

using Cells = std::vector<std::string>;

CsvTable parse(std::string_view text, char delimiter = 0) {
  auto table = parse_csv(text, delimiter);
  INFO((table ? std::string() : table.error().message));
  REQUIRE(table.has_value());
  return *table;
}

std::vector<std::size_t> lines_of(const CsvTable& table) {
  std::vector<std::size_t> lines;
  for (const auto& row : table.rows) lines.push_back(row.line);
  return lines;
}

}  // namespace

TEST_CASE("the delimiter is detected from the header line", "[csv]") {
  auto [text, delimiter] = GENERATE(table<std::string, char>({
      {"a;b;c\n1;2;3\n", ';'},
      {"a,b,c\n1,2,3\n", ','},
      {"a;b,c;d\n1;2,5;3\n", ';'},    // more semicolons than commas
      {"\"x;y\",b,c\n1,2,3\n", ','},  // a quoted delimiter does not count
      {"only\n1,2,3,4\n", ';'},       // no delimiter in the header: semicolon
      {"a,b\n1;2;3;4;5\n", ','},      // only the header line counts
  }));
  CAPTURE(text);
  CHECK(parse(text).delimiter == delimiter);
}

TEST_CASE("semicolon and comma files give the same cells", "[csv]") {
  auto semicolons = parse("ka_code;title;total_budget\n30-7323.001;Πλατεία;1.500,00\n");
  auto commas = parse("ka_code,title,total_budget\n30-7323.001,Πλατεία,1500.00\n");
  CHECK(semicolons.header == Cells{"ka_code", "title", "total_budget"});
  CHECK(commas.header == semicolons.header);
  REQUIRE(semicolons.rows.size() == 1);
  REQUIRE(commas.rows.size() == 1);
  CHECK(semicolons.rows[0].cells == Cells{"30-7323.001", "Πλατεία", "1.500,00"});
  CHECK(commas.rows[0].cells == Cells{"30-7323.001", "Πλατεία", "1500.00"});
}

TEST_CASE("a delimiter given by the caller overrides detection", "[csv]") {
  auto table = parse("a,b;c\n1,2;3\n", ';');
  CHECK(table.delimiter == ';');
  CHECK(table.header == Cells{"a,b", "c"});
  CHECK(table.rows.at(0).cells == Cells{"1,2", "3"});
}

TEST_CASE("a byte order mark is skipped and CRLF line ends are read like LF", "[csv]") {
  auto table = parse("\xEF\xBB\xBFka_code;title\r\n30-7323.001;Πλατεία\r\n64-7413.002;Μελέτη\r\n");
  CHECK(table.header == Cells{"ka_code", "title"});
  CHECK(table.column("ka_code") == 0);
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[0].cells == Cells{"30-7323.001", "Πλατεία"});
  CHECK(table.rows[1].cells == Cells{"64-7413.002", "Μελέτη"});
  CHECK(lines_of(table) == std::vector<std::size_t>{2, 3});
}

TEST_CASE("a lone CR also ends a line", "[csv]") {
  auto table = parse("a;b\r1;2\r3;4");
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[1].cells == Cells{"3", "4"});
  CHECK(lines_of(table) == std::vector<std::size_t>{2, 3});
}

TEST_CASE("the last row needs no line break", "[csv]") {
  auto table = parse("a;b\n1;2");
  REQUIRE(table.rows.size() == 1);
  CHECK(table.rows[0].cells == Cells{"1", "2"});
}

TEST_CASE("quoted cells keep delimiters, doubled quotes and line breaks", "[csv]") {
  auto table = parse(
      "title;remarks\n"
      "\"Οδός Α; Οδός Β\";\"το \"\"νέο\"\" έργο\"\n"
      "\"δύο\ngραμμές\";\"\"\n");
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[0].cells == Cells{"Οδός Α; Οδός Β", "το \"νέο\" έργο"});
  CHECK(table.rows[1].cells == Cells{"δύο\ngραμμές", ""});
}

TEST_CASE("empty cells are kept, including a trailing one", "[csv]") {
  auto table = parse("a;b;c\n;;\n1;;3\n1;2;\n");
  REQUIRE(table.rows.size() == 3);
  CHECK(table.rows[0].cells == Cells{"", "", ""});
  CHECK(table.rows[1].cells == Cells{"1", "", "3"});
  CHECK(table.rows[2].cells == Cells{"1", "2", ""});
}

TEST_CASE("blank lines are skipped and rows keep the line they start on", "[csv]") {
  auto table = parse("a;b\n\n1;2\r\n\r\n\n3;4\n\n");
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[0].cells == Cells{"1", "2"});
  CHECK(table.rows[1].cells == Cells{"3", "4"});
  CHECK(lines_of(table) == std::vector<std::size_t>{3, 6});
}

TEST_CASE("a row after a multi-line quoted cell has the right line number", "[csv]") {
  auto table = parse(
      "title;remarks\n"   // line 1
      "x;\"first\n"       // line 2, the row starts here
      "second\n"          // line 3
      "third\"\n"         // line 4
      "y;z\n"             // line 5
      "\n"                // line 6
      "\"a\r\nb\";w\r\n"  // lines 7-8
      "v;u\n");           // line 9
  REQUIRE(table.rows.size() == 4);
  CHECK(table.rows[0].cells == Cells{"x", "first\nsecond\nthird"});
  CHECK(table.rows[2].cells == Cells{"a\r\nb", "w"});
  CHECK(lines_of(table) == std::vector<std::size_t>{2, 5, 7, 9});
}

TEST_CASE("header names are trimmed and found by column()", "[csv]") {
  auto table = parse(" ka_code ;\ttitle\n1;2\n");
  CHECK(table.header == Cells{"ka_code", "title"});
  CHECK(table.column("title") == 1);
  CHECK(table.column("remarks") == -1);
}

TEST_CASE("an unterminated quote is refused naming the line it opened on", "[csv]") {
  auto [text, line] = GENERATE(table<std::string, std::string>({
      {"a;b\n1;\"never closed\n2;3\n", "line 2"},
      {"a;b\n1;2\n\n\"x;y\n", "line 4"},
      {"\"a;b\n", "line 1"},
  }));
  CAPTURE(text);
  auto table = parse_csv(text);
  REQUIRE_FALSE(table.has_value());
  CHECK(table.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(table.error().message, Contains(line + ":") && Contains("never closed"));
}

TEST_CASE("a file that is not UTF-8 is refused", "[csv]") {
  // "Πλατεία" in ISO-8859-7, as an old spreadsheet might save it.
  auto table = parse_csv("title;area\n\xD0\xEB\xE1\xF4\xE5\xDF\xE1;ALL\n");
  REQUIRE_FALSE(table.has_value());
  CHECK(table.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(table.error().message, Contains("UTF-8"));
}

TEST_CASE("an empty file has no header and is refused", "[csv]") {
  auto text = GENERATE(as<std::string>{}, "", "\n\n", "\xEF\xBB\xBF", "\r\n");
  auto table = parse_csv(text);
  REQUIRE_FALSE(table.has_value());
  CHECK(table.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(table.error().message, Contains("empty"));
}

TEST_CASE("a header without rows is a table without rows", "[csv]") {
  auto table = parse("a;b\n");
  CHECK(table.header == Cells{"a", "b"});
  CHECK(table.rows.empty());
}

TEST_CASE("csv_cell quotes only what needs it", "[csv]") {
  CHECK(csv_cell("plain", ';') == "plain");
  CHECK(csv_cell("1.500,00", ';') == "1.500,00");
  CHECK(csv_cell("1.500,00", ',') == "\"1.500,00\"");
  CHECK(csv_cell("a;b", ';') == "\"a;b\"");
  CHECK(csv_cell("say \"hi\"", ';') == "\"say \"\"hi\"\"\"");
  CHECK(csv_cell("two\nlines", ';') == "\"two\nlines\"");
  CHECK(csv_cell("cr\r", ';') == "\"cr\r\"");
  CHECK(csv_cell("", ';').empty());
}

TEST_CASE("csv_cell guards what a spreadsheet would run as a formula", "[csv][hardening]") {
  CHECK(csv_cell("=1+1", ';') == "'=1+1");
  CHECK(csv_cell("+30 2810", ';') == "'+30 2810");
  CHECK(csv_cell("-2", ';') == "'-2");
  CHECK(csv_cell("@SUM(A1)", ';') == "'@SUM(A1)");
  CHECK(csv_cell("\tx", ';') == "'\tx");
  CHECK(csv_cell("\rx", ';') == "\"'\rx\"");
  CHECK(csv_cell("=a;b", ';') == "\"'=a;b\"");
  CHECK(csv_cell("'=x", ';') == "''=x");  // so that reading takes one apostrophe off, not two
  CHECK(csv_cell("it's = fine", ';') == "it's = fine");
  CHECK(csv_cell("'quoted'", ';') == "'quoted'");
  // A cell of another program's file that begins with an apostrophe and no formula stays.
  auto table = parse("a;b\n'hello;'=x\n");
  CHECK(table.rows.at(0).cells == Cells{"'hello", "=x"});
}

TEST_CASE("a reader with limits refuses a huge cell or row while reading it", "[csv][hardening]") {
  std::string huge = "title;remarks\nx;" + std::string(100'000, 'a') + "\n";
  std::istringstream in(huge);
  ergon::model::CsvReader reader(in);
  reader.limit(1000, 8);
  REQUIRE(reader.header());
  auto row = reader.next();
  REQUIRE_FALSE(row);
  CHECK_THAT(row.error().message, Contains("line 2, column 2: a cell of more than 1000 bytes"));
  CHECK(reader.bytes_read() < 2000);  // it stopped there, not at the end of the cell

  std::istringstream wide("a;b\n" + std::string(100'000, ';') + "\n");
  ergon::model::CsvReader many(wide);
  many.limit(1000, 8);
  REQUIRE(many.header());
  auto cells = many.next();
  REQUIRE_FALSE(cells);
  CHECK_THAT(cells.error().message, Contains("line 2: more than 8 cells"));
}

TEST_CASE("cells written with csv_cell parse back unchanged", "[csv]") {
  char delimiter = GENERATE(';', ',');
  Cells header = {"title", "remarks", "amount"};
  std::vector<Cells> rows = {
      {"Ανάπλαση; Πλατείας, \"Ελευθερίας\"", "γραμμή 1\nγραμμή 2\r\nγραμμή 3", "1.234,56"},
      {"", "\"", "  spaces kept  "},
      {"\"\"", ";,", "x"},
      // what a spreadsheet would run as a formula, and apostrophes that must survive
      {"=HYPERLINK(\"http://x\";\"κλικ\")", "+30 2810 399399", "-5"},
      {"@SUM(A1)", "\tκαρτέλα", "\rγραμμή"},
      {"'=1+1", "''-x", "'απόστροφος"},
      {"'", "it's", "=;\""},
  };
  std::string text;
  auto write_row = [&](const Cells& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) text += delimiter;
      text += csv_cell(cells[i], delimiter);
    }
    text += "\r\n";
  };
  write_row(header);
  for (const auto& row : rows) write_row(row);

  auto table = parse(text, delimiter);
  CHECK(table.header == header);
  REQUIRE(table.rows.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(table.rows[i].cells == rows[i]);
}

TEST_CASE("the shipped sample programme parses to 20 rows of 14 columns", "[csv]") {
  auto text =
      ergon::testing::read_file(ergon::testing::reference_dir() / "sample-programme-2024.csv");
  REQUIRE_FALSE(text.empty());
  auto table = parse(text);
  CHECK(table.delimiter == ';');
  CHECK(table.header == Cells{"ka_code", "title", "category", "new_or_continuing", "directorate",
                              "area", "total_budget", "paid_to_date", "allocation", "funding",
                              "status", "strategic_plans", "priority", "remarks"});
  REQUIRE(table.rows.size() == 20);
  for (const auto& row : table.rows) {
    CAPTURE(row.line);
    CHECK(row.cells.size() == 14);
  }
  CHECK(table.rows.front().line == 2);
  CHECK(table.rows.front().cells.at(0) == "30-7321.001");
  CHECK(table.rows.front().cells.at(1) == "Αστική αναζωογόνηση – Πάρκο Ερυθραίας");
  CHECK(table.rows.at(1).cells.at(9) == "0518=1.000.000,00|1099=400.000,00");
}
