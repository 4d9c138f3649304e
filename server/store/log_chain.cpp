#include "server/store/log_chain.h"

#include <array>
#include <bit>
#include <cstring>

namespace ergon::server::chain {
namespace {

constexpr std::array<std::string_view, 29> kColumns = {
    "seq",          "epoch",         "change_id",    "device_id",     "device_seq",
    "entity_kind",  "entity",        "grp",          "vals",          "base_kind",
    "base_epoch",   "base_seq",      "base_own_seq", "hlc_wall",      "hlc_logical",
    "user",         "outcome",       "reason",       "new_revision",  "conflict_epoch",
    "conflict_seq", "horizon_epoch", "horizon_seq",  "received_ms",   "canonical",
    "enrolment",    "role",          "directorate",  "chain_version",
};

// The domain separator: a version-2 step can never equal a version-1 step over other bytes.
constexpr std::string_view kDomain{"ergon-log-chain-v2\0", 19};  // with its NUL

void put_u64(std::string& out, std::uint64_t v) {  // big-endian
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  char bytes[8];
  std::memcpy(bytes, &v, sizeof bytes);
  out.append(bytes, sizeof bytes);
}

}  // namespace

std::span<const std::string_view> columns() { return kColumns; }

const std::string& column_list() {
  static const std::string list = [] {
    std::string out;
    for (auto name : kColumns) out += (out.empty() ? "" : ", ") + std::string(name);
    return out;
  }();
  return list;
}

core::Result<std::size_t> index_of(std::string_view name) {
  for (std::size_t i = 0; i < kColumns.size(); ++i)
    if (kColumns[i] == name) return i;
  return core::fail(core::ErrorCode::kInternal, "'" + std::string(name) + "' is not a log column");
}

core::Result<std::vector<Cell>> in_order(const std::map<std::string_view, Cell>& by_name) {
  std::vector<Cell> cells;
  cells.reserve(kColumns.size());
  for (auto name : kColumns) {
    auto it = by_name.find(name);
    if (it == by_name.end())
      return core::fail(core::ErrorCode::kInternal,
                        "a log row is written without its '" + std::string(name) + "' column");
    cells.push_back(it->second);
  }
  return cells;
}

std::vector<Cell> read_cells(const storage::Statement& row) {
  std::vector<Cell> cells(kColumns.size());
  read_cells(row, cells);
  return cells;
}

void read_cells(const storage::Statement& row, std::vector<Cell>& cells) {
  cells.resize(kColumns.size());
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    auto index = static_cast<int>(i);
    auto& cell = cells[i];
    cell.type = row.column_type(index);
    cell.integer = 0;
    cell.bytes.clear();
    if (cell.type == storage::ColumnType::kInteger) cell.integer = row.column_int64(index);
    // A float is hashed by its text form: no column of ours holds one, a forger's would differ.
    if (cell.type == storage::ColumnType::kText || cell.type == storage::ColumnType::kFloat)
      cell.bytes = row.column_text(index);
    if (cell.type == storage::ColumnType::kBlob) cell.bytes = row.column_blob(index);
  }
}

void bind_cells(storage::Statement& statement, std::span<const Cell> cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    auto index = static_cast<int>(i + 1);
    const auto& cell = cells[i];
    switch (cell.type) {
      case storage::ColumnType::kInteger:
        statement.bind(index, cell.integer);
        break;
      case storage::ColumnType::kText:
      case storage::ColumnType::kFloat:
        statement.bind(index, std::string_view(cell.bytes));
        break;
      case storage::ColumnType::kBlob:
        statement.bind(index, storage::Blob{cell.bytes});
        break;
      case storage::ColumnType::kNull:
        statement.bind(index, storage::Null{});
        break;
    }
  }
}

crypto::Digest step(const crypto::Digest& previous, std::span<const Cell> cells) {
  thread_local std::string bytes;  // reused: a verification steps a million rows
  bytes.clear();
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto& cell = cells[i];
    auto name = i < kColumns.size() ? kColumns[i] : std::string_view("?");
    put_u64(bytes, name.size());
    bytes += name;
    bytes.push_back(static_cast<char>(cell.type));
    if (cell.type == storage::ColumnType::kInteger) {
      put_u64(bytes, static_cast<std::uint64_t>(cell.integer));
    } else if (cell.type != storage::ColumnType::kNull) {
      put_u64(bytes, cell.bytes.size());
      bytes += cell.bytes;
    }
  }
  return crypto::sha256({kDomain, crypto::as_bytes(previous), bytes});
}

}  // namespace ergon::server::chain
