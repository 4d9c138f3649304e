#include "tests/client/store_fixture.h"

#include <catch2/catch.hpp>

#include "tests/support/paths.h"

namespace ergon::testing {

client::LocalStore init_dte_home(const std::filesystem::path& home) {
  client::InitOptions options;
  options.directorate = "DTE";
  options.user = "Νίκος";
  options.year = 2024;
  options.reference_dir = reference_dir();
  auto store = client::LocalStore::init(home, options);
  if (!store) FAIL("init: " << store.error().message);
  return std::move(*store);
}

std::string sample_programme_text() {
  auto text = read_file(reference_dir() / "sample-programme-2024.csv");
  if (text.empty()) FAIL("cannot read the sample programme");
  return text;
}

}  // namespace ergon::testing
