#pragma once
// The client home's files: the database schema (its migrations) and how an existing home's
// database is opened without ever being re-initialised.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "shared/storage/database.h"

namespace ergon::client {

inline constexpr std::string_view kDatabaseFile = "ergon.db";
inline constexpr std::string_view kReferenceFolder = "reference";

/// The schema steps of ergon.db, oldest first.
const std::vector<storage::Migration>& local_migrations();

/// The damage report: exit 5, the file left as it was, and what the user can do.
core::Error damaged_home(const std::filesystem::path& file, const std::string& what);

/// Opens the home's existing database, never re-initialising it; read-only when the home
/// cannot be written (a copy on a CD, another user's folder), so reading commands still work.
[[nodiscard]] core::Result<storage::Database> open_existing_home(const std::filesystem::path& file);

}  // namespace ergon::client
