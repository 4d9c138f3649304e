#pragma once
// The JSON form of a proposal for scripts: keys are the domain field names, money is an integer
// number of cents under the same key, funding is [{"source", "amount"}], lists are arrays.

#include <string>

#include <nlohmann/json.hpp>

#include "shared/model/proposal.h"

namespace ergon::client {

nlohmann::json to_json(const model::Proposal& p);

/// One field's canonical text for people: a proposal's money the Greek way (and an envelope's
/// `amount`), "—" when empty, the rest as stored.
std::string field_value_text(const std::string& field, const std::string& value);
/// The same for scripts: money in cents, funding as a list, the rest as stored; null when empty.
nlohmann::json field_value_json(const std::string& field, const std::string& value);

}  // namespace ergon::client
