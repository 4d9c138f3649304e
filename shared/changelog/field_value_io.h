#pragma once
// Compact on-disk encoding of a change's field values (outbox and log columns): the bytes of
// cereal's portable binary archive, class version 1, read and written directly (the test
// checks them against cereal's archive; golden files pin them). Not for hashing (see
// canonical.h) and not for the wire (Protobuf). Pure; thread-safe.

#include <string>
#include <string_view>

#include "shared/core/result.h"
#include "shared/model/fields.h"

namespace ergon::changelog {

std::string encode_values(const model::FieldValues& values);
core::Result<model::FieldValues> decode_values(std::string_view bytes);

}  // namespace ergon::changelog
