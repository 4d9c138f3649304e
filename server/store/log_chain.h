#pragma once
// The change log's hash chain, version 2: a row's hash is SHA-256 over the previous row's hash
// and every stored column of the row but `hash` itself, each exactly as SQLite holds it (type,
// then value). What history shows is therefore what the chain covers: who (the enrolment the
// server authenticated, its role and directorate), the stated user, both clocks, the values and
// the outcome. Rows written before version 2 keep their version-1 hash (the change's canonical
// bytes and the outcome, shared/changelog/log_entry.h) and are verified under it.
// Pure functions over values; thread-safe.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "shared/core/result.h"
#include "shared/crypto/crypto.h"
#include "shared/storage/database.h"

namespace ergon::server::chain {

inline constexpr std::int64_t kVersion = 2;

/// One stored value of a log row.
struct Cell {
  storage::ColumnType type = storage::ColumnType::kNull;
  std::int64_t integer = 0;
  std::string bytes;  // text or blob
  static Cell of(std::int64_t value) { return {storage::ColumnType::kInteger, value, {}}; }
  static Cell of(std::uint64_t value) { return of(static_cast<std::int64_t>(value)); }
  static Cell text(std::string_view value) {
    return {storage::ColumnType::kText, 0, std::string(value)};
  }
  static Cell blob(std::string_view value) {
    return {storage::ColumnType::kBlob, 0, std::string(value)};
  }
  friend bool operator==(const Cell&, const Cell&) = default;
};

/// The columns version 2 covers, in the order hashed. A column of the log table missing here
/// (other than `hash`) fails log_chain_test, so a new column cannot slip past the chain.
std::span<const std::string_view> columns();
/// "seq, epoch, …, chain_version": the list for SELECT and INSERT, built once from columns().
const std::string& column_list();
/// The position of `name` in columns(); kInternal when it is not one.
core::Result<std::size_t> index_of(std::string_view name);

/// A row's cells by column name, put in columns() order; kInternal names a missing column.
core::Result<std::vector<Cell>> in_order(const std::map<std::string_view, Cell>& by_name);
/// The cells of columns() from a row that selects column_list() first.
std::vector<Cell> read_cells(const storage::Statement& row);
/// The same into `cells`, reusing its storage (a verification reads a million rows).
void read_cells(const storage::Statement& row, std::vector<Cell>& cells);
/// Binds cells as parameters 1…N, in columns() order.
void bind_cells(storage::Statement& statement, std::span<const Cell> cells);

/// The version-2 chain step.
crypto::Digest step(const crypto::Digest& previous, std::span<const Cell> cells);

}  // namespace ergon::server::chain
