#pragma once
// Result<T>: a value or an Error. Fallible functions return it instead of throwing; the alias
// moves to std::expected in one line once the toolchain has C++23.

#include <string>
#include <utility>

#include <tl/expected.hpp>

#include "shared/core/error.h"

namespace ergon::core {

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

/// The error branch of a Result: `return fail(ErrorCode::kNotFound, "no proposal " + id);`
inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}
inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

}  // namespace ergon::core

// Propagate an error from an expression returning Result/Status, else continue. The variable
// name is unique per use, so ERGON_TRY nests (a lambda inside another ERGON_TRY).
#define ERGON_TRY(expr) ERGON_TRY_IMPL(expr, ERGON_TRY_NAME(ergon_try_result_, __COUNTER__))
#define ERGON_TRY_NAME(a, b) ERGON_TRY_CONCAT(a, b)
#define ERGON_TRY_CONCAT(a, b) a##b
#define ERGON_TRY_IMPL(expr, name)                                                   \
  do {                                                                               \
    /* NOLINTNEXTLINE(bugprone-macro-parentheses): `name` declares a variable */     \
    if (auto name = (expr); !name) return ::tl::unexpected(std::move(name).error()); \
  } while (false)
