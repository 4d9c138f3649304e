#pragma once
// Where tests find their inputs: golden files, the shipped reference data, built binaries.

#include <filesystem>
#include <string>

namespace ergon::testing {

std::filesystem::path test_data_dir();  // tests/data
std::filesystem::path reference_dir();  // the project's data/
std::filesystem::path binary_dir();     // the build folder
/// Reads a whole file as bytes; empty if it cannot be read.
std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, std::string_view bytes);

}  // namespace ergon::testing
