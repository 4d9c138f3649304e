#pragma once
// Error: what went wrong, as a closed code plus a message for people. The message says what
// was wrong, where, and what is allowed. Value type; thread-compatible.

#include <string>
#include <string_view>

namespace ergon::core {

/// The one closed set of error codes. The wire's ErrorReply.code mirrors it 1:1.
enum class ErrorCode {
  kUsage,             // the command line is malformed
  kInvalidArgument,   // a value breaks a rule (validation)
  kNotFound,          // no such proposal, file, row
  kAmbiguous,         // an id prefix matches several
  kAlreadyExists,     // a unique thing exists already
  kPermissionDenied,  // role or ownership forbids it
  kStageLocked,       // the programme's stage forbids it
  kProtocol,          // a peer broke the protocol
  kTooLarge,          // a frame or value above its cap
  kTimeout,           // a deadline passed
  kUnavailable,       // the server cannot be reached, or the database is busy
  kUnauthenticated,   // a token was refused
  kStorage,           // the disk or SQLite failed
  kCorrupt,           // integrity: a hash, key or file does not match
  kVersionMismatch,   // protocol or schema versions do not overlap
  kInternal,          // a bug
};

/// Stable lower-case name of a code, for logs and JSON ("invalid_argument").
std::string_view to_string(ErrorCode code);

/// The process exit code a command ends with when it fails with `code`:
/// 1 other, 2 usage, 3 validation, 4 server unreachable or refused, 5 integrity.
int exit_code_for(ErrorCode code);

/// `message` cut to at most `max_bytes` (on a UTF-8 boundary) with what was left out said, so
/// an error that quotes a 50 MB cell prints one readable line.
std::string shorten(std::string_view message, std::size_t max_bytes = 1000);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  friend bool operator==(const Error&, const Error&) = default;
};

}  // namespace ergon::core
