#pragma once
// Values tests share: a valid new work for a directorate, as `ergon add` would take it.

#include <string>

#include "shared/model/fields.h"

namespace ergon::testing {

/// A new work of 2024 (the client's year fills it in): 1.000.000,00 total, 400.000,00 this
/// year from source 1099, in HER-CITY.
model::FieldValues a_work(const std::string& title, const std::string& directorate = "DTE");

}  // namespace ergon::testing
