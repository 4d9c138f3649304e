#pragma once
// The JSON form of a proposal for scripts: keys are the domain field names, money is an integer
// number of cents under the same key, funding is [{"source", "amount"}], lists are arrays.

#include <nlohmann/json.hpp>

#include "shared/model/proposal.h"

namespace ergon::client {

nlohmann::json to_json(const model::Proposal& p);

}  // namespace ergon::client
