#pragma once
// The project's shipped reference data (data/), loaded once per test binary. Throws
// std::runtime_error when it cannot be read, so the test that needs it fails with the reason.

#include "shared/model/reference.h"

namespace ergon::testing {

const model::ReferenceData& reference_data();

}  // namespace ergon::testing
