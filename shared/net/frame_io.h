#pragma once
// read_frame / write_frame: one wire message over any Asio async stream (TLS or plain TCP),
// under a deadline. Templates, so TLS and --insecure share every line above the socket.
// Expected failures (EOF, timeout, a bad frame) come back as Error values, never exceptions.
// The stream must outlive the awaited operation; one reader and one writer at a time.

#include <array>
#include <chrono>
#include <string>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "shared/core/result.h"
#include "shared/wire/frame.h"

namespace ergon::net {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

/// Runs `op` (an awaitable yielding a tuple starting with error_code) against a timer; the
/// loser is cancelled. kTimeout when the timer wins.
template <class Op>
asio::awaitable<core::Result<std::size_t>> with_deadline(Op op, std::chrono::milliseconds deadline,
                                                         std::string_view what) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto result = co_await (std::move(op) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (result.index() == 1)
    co_return core::fail(
        core::ErrorCode::kTimeout,
        std::string(what) + " timed out after " + std::to_string(deadline.count() / 1000) + " s");
  const auto& done = std::get<0>(result);
  boost::system::error_code ec = std::get<0>(done);
  std::size_t n = 0;
  if constexpr (std::tuple_size_v < std::decay_t < decltype(done) >>> 1) n = std::get<1>(done);
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
    co_return core::fail(core::ErrorCode::kUnavailable, "the connection was closed by the peer");
  if (ec)
    co_return core::fail(core::ErrorCode::kUnavailable, std::string(what) + ": " + ec.message());
  co_return n;
}

template <class Stream>
asio::awaitable<core::Result<wire::Message>> read_frame(Stream& stream,
                                                        std::chrono::milliseconds deadline) {
  std::array<unsigned char, 4> header{};
  auto got = co_await with_deadline(
      asio::async_read(stream, asio::buffer(header), asio::as_tuple(asio::use_awaitable)), deadline,
      "reading a frame");
  if (!got) co_return core::fail(got.error());
  // The length is checked before a byte of the body is allocated.
  auto length = wire::check_frame_length(header.data());
  if (!length) co_return core::fail(length.error());
  std::string body(*length, '\0');
  got = co_await with_deadline(
      asio::async_read(stream, asio::buffer(body), asio::as_tuple(asio::use_awaitable)), deadline,
      "reading a frame");
  if (!got) co_return core::fail(got.error());
  co_return wire::parse_message(body);
}

template <class Stream>
asio::awaitable<core::Status> write_frame(Stream& stream, const wire::Message& message,
                                          std::chrono::milliseconds deadline) {
  std::string frame = wire::encode_frame(message);
  auto sent = co_await with_deadline(
      asio::async_write(stream, asio::buffer(frame), asio::as_tuple(asio::use_awaitable)), deadline,
      "writing a frame");
  if (!sent) co_return core::fail(sent.error());
  co_return core::Status{};
}

}  // namespace ergon::net
