#pragma once
// Spreadsheet import and export of proposals (data/DOMAIN.md's import rules). A file is applied
// whole or not at all: the first bad row is reported with its line, column and reason.

#include <cstddef>
#include <functional>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/store/local_store.h"
#include "shared/core/result.h"
#include "shared/model/proposal.h"

namespace ergon::client {

/// One field an import changes, in the Greek text forms people read (1.234,56).
struct FieldChange {
  std::string field, before, after;
};

/// A row the import changes (or, in a dry run, would change).
struct RowChange {
  std::size_t line = 0;
  std::string id, title;
  bool is_created = false;
  std::vector<FieldChange> fields;  // an update's changed fields; empty for a created row
};

/// A row left alone: the sheet's values differ from a group that changed since the export
/// (a newer server revision, or a pending change of this home made after the export, or of a
/// home that did not export it).
struct StaleRow {
  std::size_t line = 0;
  std::string id, title;
  std::vector<FieldChange> fields;  // before: the value now; after: the sheet's
  std::string why;
};

struct ImportReport {
  std::size_t rows = 0;
  std::size_t created = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
  std::size_t changes = 0;                   // outbox entries queued
  std::vector<std::string> ignored_columns;  // state, decision_reason: decided with `decide`
  std::vector<StaleRow> stale;               // not applied (without ImportOptions::overwrite)
  std::size_t overwritten = 0;               // stale rows applied because of overwrite
  bool is_dry_run = false;                   // nothing was committed
};

/// Where a long import is: called every 500 rows with the rows done and the percentage of
/// `total_bytes` read (0 when the size is unknown).
struct ImportProgress {
  void (*report)(std::size_t rows, std::size_t percent) = nullptr;
  std::size_t total_bytes = 0;
};

struct ImportOptions {
  std::optional<int> year;  // of rows without a year column
  bool dry_run = false;     // check and report everything, commit nothing
  bool overwrite = false;   // apply stale rows too (the sheet's values win)
  ImportProgress progress;
  std::function<void(const RowChange&)> on_change;  // each row changed, as it is applied
};

/// Imports CSV (`;` or `,`, Greek or plain money, BOM or not, CRLF or LF) read row by row from
/// `in`, so memory does not grow with the file. Rows without id are matched to existing
/// proposals (see EditBatch::match), so importing twice changes nothing. A row with the
/// `revision` column `ergon export` writes is checked against changes made since the export:
/// a stale row is reported and left alone unless `overwrite`. One transaction: the first bad
/// row stops it, nothing applied.
core::Result<ImportReport> import_csv(LocalStore& store, std::istream& in,
                                      const ImportOptions& options);
/// The same with only a year and progress.
core::Result<ImportReport> import_csv(LocalStore& store, std::istream& in, std::optional<int> year,
                                      ImportProgress progress = {});
/// The same over a text in memory.
core::Result<ImportReport> import_csv(LocalStore& store, std::string_view text,
                                      std::optional<int> year);

/// The export's columns and cells: every field (Greek money) and, when `marks` has the row,
/// the `revision` it was exported at (EPOCH.SEQ@DEVICE:SEQ), which import_csv reads back.
struct ExportTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
ExportTable export_table(const std::vector<model::Proposal>& proposals,
                         const std::map<std::string, ExportMark>& marks = {});

/// The table `;`-separated behind a UTF-8 byte-order mark (what a Greek Excel needs to read it
/// as UTF-8), in a form import_csv reads back unchanged.
std::string export_csv(const ExportTable& table);
std::string export_csv(const std::vector<model::Proposal>& proposals);

/// An export mark as the `revision` cell holds it, and back (kInvalidArgument naming the form).
std::string mark_text(const ExportMark& mark);
core::Result<ExportMark> parse_mark(std::string_view text);

}  // namespace ergon::client
