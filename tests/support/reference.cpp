#include "tests/support/reference.h"

#include <stdexcept>

#include "tests/support/paths.h"

namespace ergon::testing {

const model::ReferenceData& reference_data() {
  static const model::ReferenceData data = [] {
    auto loaded = model::ReferenceData::load(reference_dir());
    if (!loaded)
      throw std::runtime_error("cannot load the reference data: " + loaded.error().message);
    return *loaded;
  }();
  return data;
}

}  // namespace ergon::testing
