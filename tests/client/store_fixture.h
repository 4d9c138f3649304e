#pragma once
// Client homes for the store and import tests: a DTE home of 2024 on the shipped reference
// data, and the sample programme's text. Failures fail the running Catch test.

#include <filesystem>
#include <string>

#include "client/store/local_store.h"

namespace ergon::testing {

/// A new home at `home` for directorate DTE, user Νίκος, year 2024.
client::LocalStore init_dte_home(const std::filesystem::path& home);

/// data/sample-programme-2024.csv, whole.
std::string sample_programme_text();

}  // namespace ergon::testing
