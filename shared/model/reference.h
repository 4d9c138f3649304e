#pragma once
// ReferenceData: the municipality's lists (directorates, areas, funding sources, the
// categories each year allows), loaded from a folder like the project's data/. Data, never
// constants in code: they change by year and by municipality. Value type; thread-compatible.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "shared/core/result.h"
#include "shared/model/proposal.h"

namespace ergon::model {

struct CodeName {
  std::string code;
  std::string name_el;
  std::string name_en;
};

struct ReferenceData {
  std::vector<CodeName> directorates;
  std::vector<CodeName> areas;
  std::vector<CodeName> funding_sources;
  std::map<int, std::vector<Category>> allowed_categories;  // by year

  /// The four files every reference folder has.
  static const std::vector<std::string>& file_names();
  /// Reads directorates.csv, areas.csv, funding-sources.csv and years.csv from `dir`.
  static core::Result<ReferenceData> load(const std::filesystem::path& dir);
  /// The same lists from the files' contents, by file name (as a server stores and ships them).
  static core::Result<ReferenceData> from_files(const std::map<std::string, std::string>& files);
  /// The contents of the four files in `dir`, by file name.
  static core::Result<std::map<std::string, std::string>> read_files(
      const std::filesystem::path& dir);

  const CodeName* directorate(std::string_view code) const;
  const CodeName* area(std::string_view code) const;
  const CodeName* funding_source(std::string_view code) const;
};

/// The reference folder shipped with the build: $ERGON_DATA, else `<exe>/../share/ergon/data`,
/// else the source tree's data/ folder.
std::filesystem::path default_reference_dir();

}  // namespace ergon::model
