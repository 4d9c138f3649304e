// The core::ErrorCode <-> wire ErrorCode mapping (shared/wire/convert.h), which must be one to
// one both ways, and the exit code each core code ends a command with (shared/core/error.h).

#include <cctype>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "shared/core/error.h"
#include "shared/wire/convert.h"

#include "shared/proto/ergon.pb.h"

using ergon::core::ErrorCode;
namespace wire = ergon::wire;

namespace {

constexpr int kFirst = static_cast<int>(ErrorCode::kUsage);
constexpr int kLast = static_cast<int>(ErrorCode::kInternal);

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

TEST_CASE("every core error code maps to a distinct wire code of the same name and back",
          "[errors]") {
  std::set<int> seen;
  for (int value = kFirst; value <= kLast; ++value) {
    auto code = static_cast<ErrorCode>(value);
    CAPTURE(ergon::core::to_string(code));
    wire::ErrorCode on_wire = wire::to_proto(code);
    CHECK(wire::ErrorCode_IsValid(on_wire));
    CHECK(on_wire != wire::ERROR_CODE_UNSPECIFIED);
    // Same meaning, not merely some distinct number: "stage_locked" is STAGE_LOCKED.
    CHECK(wire::ErrorCode_Name(on_wire) == upper(ergon::core::to_string(code)));
    CHECK(static_cast<int>(on_wire) == value + 1);  // the rule ergon.proto states
    CHECK(wire::from_proto(on_wire) == code);
    seen.insert(static_cast<int>(on_wire));
  }
  CHECK(seen.size() == static_cast<std::size_t>(kLast - kFirst + 1));
}

TEST_CASE("the wire enum has exactly the core codes plus UNSPECIFIED", "[errors]") {
  CHECK(wire::ErrorCode_MIN == wire::ERROR_CODE_UNSPECIFIED);
  CHECK(static_cast<int>(wire::ErrorCode_MAX) == kLast + 1);
  int valid = 0;
  for (int value = wire::ErrorCode_MIN; value <= wire::ErrorCode_MAX; ++value)
    if (wire::ErrorCode_IsValid(value)) ++valid;
  CHECK(valid == kLast - kFirst + 2);
}

TEST_CASE("every wire code but UNSPECIFIED maps to a core code and back to itself", "[errors]") {
  std::set<ErrorCode> seen;
  for (int value = wire::ErrorCode_MIN; value <= wire::ErrorCode_MAX; ++value) {
    if (!wire::ErrorCode_IsValid(value) || value == wire::ERROR_CODE_UNSPECIFIED) continue;
    auto on_wire = static_cast<wire::ErrorCode>(value);
    CAPTURE(wire::ErrorCode_Name(on_wire));
    auto code = wire::from_proto(on_wire);
    CHECK(upper(ergon::core::to_string(code)) == wire::ErrorCode_Name(on_wire));
    CHECK(wire::to_proto(code) == on_wire);
    seen.insert(code);
  }
  CHECK(seen.size() == static_cast<std::size_t>(kLast - kFirst + 1));
}

TEST_CASE("UNSPECIFIED and unknown wire codes read as a protocol error", "[errors]") {
  // convert.cpp: a value below 1 or above INTERNAL is a peer breaking the protocol.
  auto value = GENERATE(0, -1, 17, 1000, INT32_MIN + 1, INT32_MAX);
  CAPTURE(value);
  CHECK(wire::from_proto(static_cast<wire::ErrorCode>(value)) == ErrorCode::kProtocol);
}

// from_proto once computed `static_cast<int>(code) - 1` first, which overflows for INT32_MIN, a
// value a peer can send (proto3 enums keep unknown values): UBSan stopped the process.
TEST_CASE("the lowest wire code reads as a protocol error", "[errors]") {
  CHECK(wire::from_proto(static_cast<wire::ErrorCode>(INT32_MIN)) == ErrorCode::kProtocol);
}

TEST_CASE("error_message carries the mapped code, the request id and a short message", "[errors]") {
  auto message = wire::error_message(12, {ErrorCode::kStageLocked, "the programme is frozen"});
  REQUIRE(message.has_error());
  CHECK(message.request_id() == 12);
  CHECK(message.error().code() == wire::STAGE_LOCKED);
  CHECK(message.error().message() == "the programme is frozen");

  auto long_one = wire::error_message(1, {ErrorCode::kTooLarge, std::string(5000, 'x')});
  CHECK(long_one.error().code() == wire::TOO_LARGE);
  CHECK(long_one.error().message().size() < 1100);
}

// README, "Exit codes": 0 success, 1 other failure, 2 usage error, 3 validation error, 4 server
// unreachable or refused (network, token), 5 integrity error. The README names no code for a
// permission or stage refusal; the code treats both as "other failure".
TEST_CASE("validation, permission and stage errors end with their exit codes", "[errors]") {
  using ergon::core::exit_code_for;
  CHECK(exit_code_for(ErrorCode::kUsage) == 2);
  CHECK(exit_code_for(ErrorCode::kInvalidArgument) == 3);
  CHECK(exit_code_for(ErrorCode::kPermissionDenied) == 3);
  CHECK(exit_code_for(ErrorCode::kStageLocked) == 3);
  CHECK(exit_code_for(ErrorCode::kUnauthenticated) == 4);
  CHECK(exit_code_for(ErrorCode::kUnavailable) == 4);
  CHECK(exit_code_for(ErrorCode::kCorrupt) == 5);
  for (int value = kFirst; value <= kLast; ++value) {
    auto code = static_cast<ErrorCode>(value);
    CAPTURE(ergon::core::to_string(code));
    int exit_code = exit_code_for(code);
    CHECK(exit_code >= 1);
    CHECK(exit_code <= 5);
  }
}
