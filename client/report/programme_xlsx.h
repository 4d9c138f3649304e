#pragma once
// Excel workbooks written with libxlsxwriter (write only: no xlsx reader is packaged). Money is
// written as numbers with the format `#,##0.00`, which Excel shows the Greek way (1.234,56)
// under a Greek locale. Totals are formulas stored with their computed values, so that a reader
// that does not calculate (a viewer, a script) sees them too. Each file is written beside its
// destination and renamed into place, so a failed write leaves no half file.

#include <filesystem>
#include <vector>

#include "client/report/programme_report.h"
#include "shared/core/result.h"

namespace ergon::client {

/// The official table: one sheet with the header frozen, one money column per funding source
/// so that each source's total is a formula, the sources against their envelopes, the flags
/// and the stage footer; printed on A4 landscape.
core::Status write_programme_xlsx(const ProgrammeReport& report, const model::ReferenceData& ref,
                                  const std::filesystem::path& path);

/// A table of texts (the CSV export's header and rows) as one sheet with a frozen header; the
/// cells of the columns total_budget, paid_to_date and allocation become numbers.
core::Status write_table_xlsx(const std::vector<std::string>& header,
                              const std::vector<std::vector<std::string>>& rows,
                              const std::filesystem::path& path);

}  // namespace ergon::client
