#pragma once
// A libxlsxwriter workbook written to a new file beside its destination (core::OutputFile: made
// exclusively, never through a planted link) and renamed into place by commit(), so a failed
// write leaves no half file; with the cell formats the Ergon sheets share.
// Not thread-safe.

#include <filesystem>
#include <optional>
#include <string>

#include <xlsxwriter.h>

#include "shared/core/output_file.h"
#include "shared/core/result.h"
#include "shared/model/money.h"

namespace ergon::client {

// Excel stores numbers as doubles: an amount of cents is exact up to 2^53 cents, far beyond any
// municipal budget. Totals are computed in integer cents and only then converted.
inline double euros(model::Money m) { return static_cast<double>(m.cents()) / 100.0; }

/// "D5" for row 4, column 3 (both from 0), as formulas name cells.
std::string cell_name(lxw_row_t row, lxw_col_t col);

class Workbook {
 public:
  explicit Workbook(std::filesystem::path path);
  Workbook(const Workbook&) = delete;
  Workbook& operator=(const Workbook&) = delete;
  ~Workbook();  // without commit(): the temporary file is removed

  /// kIo naming the file when it could not be created; check before adding sheets.
  core::Status opened() const;
  lxw_worksheet* add_sheet(const std::string& name);
  /// Closes the workbook and renames it into place.
  core::Status commit();

  struct Formats {
    lxw_format* money = nullptr;       // #,##0.00
    lxw_format* bold_money = nullptr;  // totals
    lxw_format* bold = nullptr;
    lxw_format* wrap = nullptr;  // long text, top-aligned
    lxw_format* header = nullptr;
    lxw_format* title = nullptr;
  };
  const Formats& formats() const { return formats_; }

 private:
  std::filesystem::path path_;
  std::optional<core::OutputFile> file_;
  std::string error_;  // why the file could not be made
  lxw_workbook* book_ = nullptr;
  Formats formats_;
};

}  // namespace ergon::client
