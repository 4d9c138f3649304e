#include "shared/model/reference.h"

#include <fstream>
#include <sstream>

#include "shared/model/csv.h"
#include "shared/model/fields.h"

#ifndef ERGON_SOURCE_DATA_DIR
#define ERGON_SOURCE_DATA_DIR "data"
#endif

namespace ergon::model {
namespace {

using core::ErrorCode;
using core::fail;

using Files = std::map<std::string, std::string>;

core::Result<CsvTable> read_table(const Files& files, const std::string& file) {
  auto it = files.find(file);
  if (it == files.end())
    return fail(ErrorCode::kNotFound, "the reference data has no " + file +
                                          "; pass --reference DIR with the municipality's lists");
  auto table = parse_csv(it->second, ';');
  if (!table) return fail(table.error().code, file + ": " + table.error().message);
  return table;
}

core::Result<std::vector<CodeName>> read_codes(const Files& files, const std::string& file) {
  auto table = read_table(files, file);
  if (!table) return tl::unexpected(table.error());
  int code = table->column("code"), el = table->column("name_el"), en = table->column("name_en");
  if (code < 0 || el < 0)
    return fail(ErrorCode::kCorrupt, file + ": needs the columns code and name_el");
  std::vector<CodeName> out;
  for (const auto& row : table->rows) {
    auto cell = [&](int i) {
      return i >= 0 && static_cast<std::size_t>(i) < row.cells.size()
                 ? row.cells[static_cast<std::size_t>(i)]
                 : std::string{};
    };
    if (cell(code).empty()) continue;
    out.push_back(CodeName{cell(code), cell(el), cell(en)});
  }
  return out;
}

const CodeName* find_code(const std::vector<CodeName>& list, std::string_view code) {
  for (const auto& c : list)
    if (c.code == code) return &c;
  return nullptr;
}

}  // namespace

const std::vector<std::string>& ReferenceData::file_names() {
  static const std::vector<std::string> names = {"directorates.csv", "areas.csv",
                                                 "funding-sources.csv", "years.csv"};
  return names;
}

core::Result<std::map<std::string, std::string>> ReferenceData::read_files(
    const std::filesystem::path& dir) {
  Files files;
  for (const auto& name : file_names()) {
    std::ifstream in(dir / name, std::ios::binary);
    if (!in)
      return fail(ErrorCode::kNotFound, "cannot read reference file " + (dir / name).string() +
                                            "; pass --reference DIR with the municipality's lists");
    std::stringstream buffer;
    buffer << in.rdbuf();
    files[name] = buffer.str();
  }
  return files;
}

core::Result<ReferenceData> ReferenceData::load(const std::filesystem::path& dir) {
  auto files = read_files(dir);
  if (!files) return tl::unexpected(files.error());
  return from_files(*files);
}

core::Result<ReferenceData> ReferenceData::from_files(
    const std::map<std::string, std::string>& files) {
  ReferenceData ref;
  auto directorates = read_codes(files, "directorates.csv");
  if (!directorates) return tl::unexpected(directorates.error());
  auto areas = read_codes(files, "areas.csv");
  if (!areas) return tl::unexpected(areas.error());
  auto sources = read_codes(files, "funding-sources.csv");
  if (!sources) return tl::unexpected(sources.error());
  ref.directorates = std::move(*directorates);
  ref.areas = std::move(*areas);
  ref.funding_sources = std::move(*sources);

  auto years = read_table(files, "years.csv");
  if (!years) return tl::unexpected(years.error());
  int year_col = years->column("year"), cats_col = years->column("allowed_categories");
  if (year_col < 0 || cats_col < 0)
    return fail(ErrorCode::kCorrupt, "years.csv needs the columns year and allowed_categories");
  for (const auto& row : years->rows) {
    Proposal probe;
    auto y = static_cast<std::size_t>(year_col), c = static_cast<std::size_t>(cats_col);
    if (row.cells.size() <= std::max(y, c)) continue;
    if (auto ok = set_field(probe, "year", row.cells[y]); !ok)
      return fail(ErrorCode::kCorrupt,
                  "years.csv line " + std::to_string(row.line) + ": " + ok.error().message);
    std::vector<Category> cats;
    std::string_view list = row.cells[c];
    std::size_t start = 0;
    while (start <= list.size()) {
      auto bar = list.find('|', start);
      auto name = list.substr(start, bar == std::string_view::npos ? bar : bar - start);
      auto cat = parse_enum<Category>(name);
      if (!cat)
        return fail(ErrorCode::kCorrupt,
                    "years.csv line " + std::to_string(row.line) + ": " + cat.error().message);
      cats.push_back(*cat);
      if (bar == std::string_view::npos) break;
      start = bar + 1;
    }
    ref.allowed_categories[probe.year] = std::move(cats);
  }
  return ref;
}

const CodeName* ReferenceData::directorate(std::string_view code) const {
  return find_code(directorates, code);
}
const CodeName* ReferenceData::area(std::string_view code) const { return find_code(areas, code); }
const CodeName* ReferenceData::funding_source(std::string_view code) const {
  return find_code(funding_sources, code);
}

std::filesystem::path default_reference_dir() {
  if (const char* env = std::getenv("ERGON_DATA"); env && *env) return env;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // Each package carries the data under its own name (/usr/share/ergon, /usr/share/ergond).
    for (const auto* package : {"ergon", "ergond"}) {
      auto installed = exe.parent_path().parent_path() / "share" / package / "data";
      if (std::filesystem::exists(installed / "directorates.csv", ec)) return installed;
    }
  }
  return ERGON_SOURCE_DATA_DIR;
}

}  // namespace ergon::model
