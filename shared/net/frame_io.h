#pragma once
// read_frame / write_frame: one wire message over any Asio async stream (TLS or plain TCP),
// under a deadline. Templates, so TLS and --insecure share every line above the socket.
// Expected failures (EOF, timeout, a bad frame) come back as Error values, never exceptions.
// The stream must outlive the awaited operation; one reader and one writer at a time.
//
// Memory follows the bytes that really arrive: a body is read in chunks of kReadChunk, each
// reserved from the caller's MemoryBudget before it is allocated, so a length prefix that
// announces 16 MiB and sends nothing costs one chunk; a compressed body's declared size is
// reserved too before it is unpacked. read_frame ends the reservation with the read;
// read_held hands it to the caller with the message, to hold until the reply is sent.

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <string>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>

#include "shared/core/result.h"
#include "shared/net/memory_budget.h"
#include "shared/wire/frame.h"

namespace ergon::net {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

inline constexpr std::size_t kReadChunk = 64u << 10;
/// The message of the error a read or write ends with when the peer closed the connection.
inline constexpr std::string_view kClosedByPeer = "the connection was closed by the peer";

/// What one read may take: the frame and unpacked-message caps, the budget its bytes are
/// reserved from (none: unbounded, for the client), and the deadline of each read.
struct FrameLimits {
  std::size_t max_frame_bytes = wire::kMaxFrameBytes;
  std::size_t max_message_bytes = wire::kMaxDecompressedBytes;
  MemoryBudget* budget = nullptr;
  std::chrono::milliseconds deadline{30'000};
  std::array<MemoryBudget::Share*, 2> shares{};  // caps within the budget (session, device)
};

/// A message with the memory reserved for it: its frame and its unpacked size.
struct HeldMessage {
  wire::Message message;
  MemoryBudget::Reservation held;
};

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
  // A peer that went away, politely or not, is not an error to report back to it.
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
      ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
    co_return core::fail(core::ErrorCode::kUnavailable, std::string(kClosedByPeer));
  if (ec)
    co_return core::fail(core::ErrorCode::kUnavailable, std::string(what) + ": " + ec.message());
  co_return n;
}

/// Bytes of frames (length prefix included) this process wrote and read: the payload on the
/// wire below TLS, for the benchmark harness. Relaxed counters; any thread.
struct FrameCounters {
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> read{0};
};
inline FrameCounters& frame_counters() {
  static FrameCounters counters;
  return counters;
}

template <class Stream>
asio::awaitable<core::Result<HeldMessage>> read_held(Stream& stream, FrameLimits limits) {
  std::array<unsigned char, 4> header{};
  auto got = co_await with_deadline(
      asio::async_read(stream, asio::buffer(header), asio::as_tuple(asio::use_awaitable)),
      limits.deadline, "reading a frame");
  if (!got) co_return core::fail(got.error());
  // The length is checked before a byte of the body is allocated.
  auto length = wire::check_frame_length(header.data(), limits.max_frame_bytes);
  if (!length) co_return core::fail(length.error());
  MemoryBudget unbounded(~std::size_t{0});
  auto held = limits.budget ? limits.budget->reserve(limits.shares) : unbounded.reserve();
  std::string body;
  while (body.size() < *length) {
    std::size_t chunk = std::min<std::size_t>(kReadChunk, *length - body.size());
    if (!held.grow(chunk))
      co_return core::fail(core::ErrorCode::kUnavailable,
                           "the server is short of memory for frames in flight; retry shortly");
    std::size_t at = body.size();
    body.resize(at + chunk);
    got = co_await with_deadline(asio::async_read(stream, asio::buffer(body.data() + at, chunk),
                                                  asio::as_tuple(asio::use_awaitable)),
                                 limits.deadline, "reading a frame");
    if (!got) co_return core::fail(got.error());
  }
  frame_counters().read.fetch_add(header.size() + body.size(), std::memory_order_relaxed);
  // The unpacked bytes count from before they are allocated until the caller lets go.
  auto parsed = wire::parse_message(body, limits.max_message_bytes, [&](std::size_t unpacked) {
    return !limits.budget || held.grow(unpacked);
  });
  if (!parsed) co_return core::fail(parsed.error());
  if (!limits.budget) held = MemoryBudget::Reservation{};  // nothing to hold: `unbounded` ends here
  co_return HeldMessage{std::move(*parsed), std::move(held)};
}

template <class Stream>
asio::awaitable<core::Result<wire::Message>> read_frame(Stream& stream, FrameLimits limits) {
  auto read = co_await read_held(stream, limits);
  if (!read) co_return core::fail(read.error());
  co_return std::move(read->message);
}

template <class Stream>
asio::awaitable<core::Result<wire::Message>> read_frame(Stream& stream,
                                                        std::chrono::milliseconds deadline) {
  FrameLimits limits;
  limits.deadline = deadline;
  co_return co_await read_frame(stream, limits);
}

/// Writes a frame wire::encode_frame made; the caller may free the message first.
template <class Stream>
asio::awaitable<core::Status> write_encoded(Stream& stream, std::string frame,
                                            std::chrono::milliseconds deadline) {
  auto sent = co_await with_deadline(
      asio::async_write(stream, asio::buffer(frame), asio::as_tuple(asio::use_awaitable)), deadline,
      "writing a frame");
  if (!sent) co_return core::fail(sent.error());
  frame_counters().written.fetch_add(frame.size(), std::memory_order_relaxed);
  co_return core::Status{};
}

template <class Stream>
asio::awaitable<core::Status> write_frame(Stream& stream, const wire::Message& message,
                                          std::chrono::milliseconds deadline) {
  co_return co_await write_encoded(stream, wire::encode_frame(message), deadline);
}

}  // namespace ergon::net
