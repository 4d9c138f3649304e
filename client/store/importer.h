#pragma once
// Spreadsheet import and export of proposals (data/DOMAIN.md's import rules). A file is applied
// whole or not at all: the first bad row is reported with its line, column and reason.

#include <cstddef>
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
  std::size_t changes = 0;  // outbox entries queued
};

/// Imports CSV text (`;` or `,`, Greek or plain money, BOM or not, CRLF or LF). Rows without
/// id are matched to existing proposals (see LocalStore::match), so importing twice changes
/// nothing. `year` applies to rows without a year column. `progress` is called every 500 rows.
core::Result<ImportReport> import_csv(LocalStore& store, std::string_view text,
                                      std::optional<int> year,
                                      void (*progress)(std::size_t done,
                                                       std::size_t total) = nullptr);

/// Every field of every proposal, `;`-separated, Greek money, with id, year and state, in a form
/// import_csv reads back unchanged.
std::string export_csv(const std::vector<model::Proposal>& proposals);

}  // namespace ergon::client
