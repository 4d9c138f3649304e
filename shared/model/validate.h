#pragma once
// The per-row rules of data/DOMAIN.md. A row that breaks one is rejected; cross-row checks
// (envelopes, duplicate ΚΑ codes) are flags, elsewhere. Pure; thread-safe.

#include <vector>

#include "shared/core/error.h"
#include "shared/model/fields.h"
#include "shared/model/proposal.h"
#include "shared/model/reference.h"

namespace ergon::model {

/// Every rule the row breaks, each naming the field, the value and what is allowed; empty when
/// the row is valid.
std::vector<core::Error> check_proposal(const Proposal& p, const ReferenceData& ref);

/// The required fields missing from the values of a new proposal.
std::vector<core::Error> check_required(const FieldValues& given);

/// The first problem as one error (the others appended), or success.
core::Status validate_proposal(const Proposal& p, const ReferenceData& ref);

}  // namespace ergon::model
