#include "shared/core/error.h"

namespace ergon::core {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAmbiguous:
      return "ambiguous";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kStageLocked:
      return "stage_locked";
    case ErrorCode::kProtocol:
      return "protocol";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kStorage:
      return "storage";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kVersionMismatch:
      return "version_mismatch";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return 2;
    // Refused: what was asked breaks a rule (validation, permission or a stage lock).
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kAmbiguous:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kStageLocked:
      return 3;
    case ErrorCode::kUnavailable:
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kTimeout:
    case ErrorCode::kVersionMismatch:
      return 4;
    case ErrorCode::kCorrupt:
      return 5;
    default:
      return 1;
  }
}

std::string shorten(std::string_view message, std::size_t max_bytes) {
  if (message.size() <= max_bytes) return std::string(message);
  std::size_t cut = max_bytes;
  // Never split a UTF-8 sequence: back up over continuation bytes (10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return std::string(message.substr(0, cut)) + "… (" + std::to_string(message.size() - cut) +
         " more bytes not shown)";
}

}  // namespace ergon::core
