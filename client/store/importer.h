#pragma once
// Spreadsheet import and export of proposals (data/DOMAIN.md's import rules). A file is applied
// whole or not at all: the first bad row is reported with its line, column and reason.

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/store/local_store.h"
#include "shared/core/result.h"
#include "shared/model/proposal.h"

namespace ergon::client {

struct ImportReport {
  std::size_t rows = 0;
  std::size_t created = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
  std::size_t changes = 0;                   // outbox entries queued
  std::vector<std::string> ignored_columns;  // state, decision_reason: decided with `decide`
};

/// Where a long import is: called every 500 rows with the rows done and the percentage of
/// `total_bytes` read (0 when the size is unknown).
struct ImportProgress {
  void (*report)(std::size_t rows, std::size_t percent) = nullptr;
  std::size_t total_bytes = 0;
};

/// Imports CSV (`;` or `,`, Greek or plain money, BOM or not, CRLF or LF) read row by row from
/// `in`, so memory does not grow with the file. Rows without id are matched to existing
/// proposals (see EditBatch::match), so importing twice changes nothing. `year` applies to
/// rows without a year column. One transaction: the first bad row stops it, nothing applied.
core::Result<ImportReport> import_csv(LocalStore& store, std::istream& in, std::optional<int> year,
                                      ImportProgress progress = {});
/// The same over a text in memory.
core::Result<ImportReport> import_csv(LocalStore& store, std::string_view text,
                                      std::optional<int> year);

/// Every field of every proposal, `;`-separated, Greek money, with id, year and state, behind a
/// UTF-8 byte-order mark (what a Greek Excel needs to read it as UTF-8), in a form import_csv
/// reads back unchanged.
std::string export_csv(const std::vector<model::Proposal>& proposals);

}  // namespace ergon::client
