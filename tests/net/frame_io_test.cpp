// read_frame / write_frame over a real TCP connection on 127.0.0.1: both ends in one
// io_context, the peer driven byte by byte by a test coroutine.
//
// Coroutine rules (g++ 12 miscompiles otherwise, see scripts/lint_coroutines.py): the coroutines
// here are free functions whose reference parameters name objects of the test case, which
// outlive io.run_for(); no lambda with captures is a coroutine.

#include "shared/net/frame_io.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "shared/core/error.h"
#include "shared/net/memory_budget.h"
#include "shared/wire/frame.h"

#include "shared/proto/ergon.pb.h"

namespace asio = boost::asio;
namespace net = ergon::net;
namespace wire = ergon::wire;
using asio::ip::tcp;
using Catch::Matchers::Contains;
using ergon::core::ErrorCode;
using google::protobuf::util::MessageDifferencer;
using std::chrono::milliseconds;

namespace {

// What a reading coroutine saw, and how long it took.
struct ReadResult {
  std::optional<ergon::core::Result<wire::Message>> frame;
  milliseconds elapsed{0};
};

// One io_context with a connected pair of sockets: `peer` writes what `reader` reads.
struct Loopback {
  asio::io_context io;
  tcp::socket reader{io};
  tcp::socket peer{io};
  std::exception_ptr failure;
  int finished = 0;

  Loopback() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    peer.connect(acceptor.local_endpoint());
    acceptor.accept(reader);
  }

  void spawn(asio::awaitable<void> work) {
    asio::co_spawn(io, std::move(work), [this](std::exception_ptr e) {
      if (e && !failure) failure = e;
      ++finished;
    });
  }

  // Runs until every spawned coroutine has returned; a hang fails the test instead of the run.
  void run(int spawned) {
    io.run_for(std::chrono::seconds(20));
    if (failure) std::rethrow_exception(failure);
    REQUIRE(finished == spawned);
  }
};

asio::awaitable<void> read_one(tcp::socket& socket, net::FrameLimits limits, ReadResult& out) {
  auto started = net::Clock::now();
  out.frame = co_await net::read_frame(socket, limits);
  out.elapsed = std::chrono::duration_cast<milliseconds>(net::Clock::now() - started);
}

asio::awaitable<void> read_held_one(tcp::socket& socket, net::FrameLimits limits,
                                    std::optional<ergon::core::Result<net::HeldMessage>>& out) {
  out = co_await net::read_held(socket, limits);
}

// Reads one frame, then closes the socket, so a peer blocked writing the rest gets an error.
asio::awaitable<void> read_one_and_hang_up(tcp::socket& socket, net::FrameLimits limits,
                                           ReadResult& out) {
  out.frame = co_await net::read_frame(socket, limits);
  socket.close();
}

asio::awaitable<void> read_two(tcp::socket& socket, net::FrameLimits limits, ReadResult& first,
                               ReadResult& second) {
  first.frame = co_await net::read_frame(socket, limits);
  second.frame = co_await net::read_frame(socket, limits);
}

// Writes `bytes` in pieces of `piece` bytes with `pause` after each; errors are the reader's
// business (it may hang up on purpose).
asio::awaitable<void> write_in_pieces(tcp::socket& socket, const std::string& bytes,
                                      std::size_t piece, milliseconds pause) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (std::size_t at = 0; at < bytes.size(); at += piece) {
    std::size_t n = std::min(piece, bytes.size() - at);
    auto [ec, written] = co_await asio::async_write(socket, asio::buffer(bytes.data() + at, n),
                                                    asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    timer.expires_after(pause);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> write_one(tcp::socket& socket, const wire::Message& message,
                                ergon::core::Status& out) {
  out = co_await net::write_frame(socket, message, milliseconds(5000));
}

// Records how many bytes `budget` has lent out once `delay` has passed.
asio::awaitable<void> sample_used(net::MemoryBudget& budget, milliseconds delay, std::size_t& out) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  out = budget.used();
}

std::string header(std::uint32_t length) {
  return {static_cast<char>(length >> 24), static_cast<char>((length >> 16) & 0xff),
          static_cast<char>((length >> 8) & 0xff), static_cast<char>(length & 0xff)};
}

// Bytes zstd cannot shrink, so a frame holding them stays as long as they are.
std::string incompressible(std::size_t size) {
  std::string bytes(size, '\0');
  std::uint64_t x = 0x9E3779B97F4A7C15u;
  for (auto& c : bytes) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x & 0xff);
  }
  return bytes;
}

wire::Message error_message(std::uint64_t request_id, std::string text) {
  wire::Message m;
  m.set_request_id(request_id);
  m.mutable_error()->set_code(wire::TIMEOUT);
  m.mutable_error()->set_message(std::move(text));
  return m;
}

// A message of about `size` bytes that zstd cannot shrink (in a `bytes` field: proto3 refuses
// strings that are not UTF-8).
wire::Message bulky_message(std::uint64_t request_id, std::size_t size) {
  wire::Message m;
  m.set_request_id(request_id);
  m.mutable_hello()->set_proof(incompressible(size));
  return m;
}

net::FrameLimits limits_with(milliseconds deadline) {
  net::FrameLimits limits;
  limits.deadline = deadline;
  return limits;
}

const wire::Message& message_of(const ReadResult& r) {
  REQUIRE(r.frame.has_value());
  INFO((*r.frame ? std::string() : r.frame->error().message));
  REQUIRE(r.frame->has_value());
  return r.frame->value();
}

const ergon::core::Error& error_of(const ReadResult& r) {
  REQUIRE(r.frame.has_value());
  REQUIRE_FALSE(r.frame->has_value());
  return r.frame->error();
}

}  // namespace

TEST_CASE("read_frame assembles a frame written one byte at a time", "[net]") {
  Loopback loop;
  auto message = error_message(7, "split into forty-odd writes");
  auto frame = wire::encode_frame(message);
  auto limits = limits_with(milliseconds(5000));
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.spawn(write_in_pieces(loop.peer, frame, 1, milliseconds(2)));
  loop.run(2);
  CHECK(MessageDifferencer::Equals(message_of(got), message));
  CHECK(got.elapsed >=
        milliseconds(2 * static_cast<long>(frame.size() - 1)));  // it really waited for the pieces
}

TEST_CASE("read_frame assembles a body of several read chunks written in odd pieces", "[net]") {
  Loopback loop;
  auto message = bulky_message(8, 2 * net::kReadChunk + 1234);
  auto frame = wire::encode_frame(message);
  REQUIRE(frame.size() > 2 * net::kReadChunk);
  auto limits = limits_with(milliseconds(5000));
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.spawn(write_in_pieces(loop.peer, frame, 9999, milliseconds(1)));
  loop.run(2);
  CHECK(MessageDifferencer::Equals(message_of(got), message));
}

TEST_CASE("read_frame takes one frame and leaves the next one's bytes alone", "[net]") {
  Loopback loop;
  auto first = error_message(1, "first");
  auto second = error_message(2, "second");
  auto bytes = wire::encode_frame(first) + wire::encode_frame(second);
  auto limits = limits_with(milliseconds(5000));
  ReadResult got_first, got_second;
  loop.spawn(read_two(loop.reader, limits, got_first, got_second));
  loop.spawn(write_in_pieces(loop.peer, bytes, bytes.size(), milliseconds(0)));
  loop.run(2);
  CHECK(message_of(got_first).request_id() == 1);
  CHECK(message_of(got_second).request_id() == 2);
}

TEST_CASE("write_frame sends what read_frame reads, compressed or not", "[net]") {
  Loopback loop;
  auto message = error_message(3, GENERATE(std::string("small"), std::string(200'000, 'z')));
  ergon::core::Status sent;
  auto limits = limits_with(milliseconds(5000));
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.spawn(write_one(loop.peer, message, sent));
  loop.run(2);
  CHECK(sent.has_value());
  CHECK(MessageDifferencer::Equals(message_of(got), message));
}

TEST_CASE("a length above max_frame_bytes is kTooLarge and the body stays unread", "[net]") {
  Loopback loop;
  std::string body(5000, 'b');
  body[0] = 'F';  // the first byte of the body, which must still be there afterwards
  asio::write(loop.peer, asio::buffer(header(5000) + body));
  net::MemoryBudget budget(1 << 20);
  auto limits = limits_with(milliseconds(5000));
  limits.max_frame_bytes = 4999;
  limits.budget = &budget;
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.run(1);
  const auto& error = error_of(got);
  CHECK(error.code == ErrorCode::kTooLarge);
  CHECK(budget.used() == 0);
  // Every byte of the body is still in the socket (loopback delivered them at the write).
  REQUIRE(loop.reader.available() == body.size());
  std::string rest(body.size(), '\0');
  asio::read(loop.reader, asio::buffer(rest));
  CHECK(rest == body);
}

TEST_CASE("a peer that stalls gets kTimeout after the deadline", "[net]") {
  Loopback loop;
  SECTION("after the header") { asio::write(loop.peer, asio::buffer(header(100))); }
  SECTION("in the middle of the body") {
    asio::write(loop.peer, asio::buffer(header(100) + std::string(40, 'x')));
  }
  SECTION("before a byte") {}
  auto limits = limits_with(milliseconds(200));
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.run(1);
  const auto& error = error_of(got);
  CHECK(error.code == ErrorCode::kTimeout);
  CHECK_THAT(error.message, Contains("timed out"));
  CHECK(got.elapsed >= milliseconds(190));
  CHECK(got.elapsed < milliseconds(3000));
}

TEST_CASE("a peer that closes ends the read with net::kClosedByPeer", "[net]") {
  Loopback loop;
  SECTION("before a byte") {}
  SECTION("inside the header") { asio::write(loop.peer, asio::buffer(std::string("\0\0", 2))); }
  SECTION("inside the body") {
    asio::write(loop.peer, asio::buffer(header(100) + std::string(40, 'x')));
  }
  loop.peer.close();
  auto limits = limits_with(milliseconds(5000));
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.run(1);
  const auto& error = error_of(got);
  CHECK(error.code == ErrorCode::kUnavailable);
  CHECK(error.message == net::kClosedByPeer);
  CHECK(got.elapsed < milliseconds(3000));  // at once, not at the deadline
}

TEST_CASE("a budget too small for the body fails with kUnavailable and gives every byte back",
          "[net]") {
  Loopback loop;
  auto limits = limits_with(milliseconds(5000));
  SECTION("too small for the first chunk") {
    net::MemoryBudget budget(99);
    limits.budget = &budget;
    auto frame = header(100) + std::string(100, 'x');
    ReadResult got;
    loop.spawn(read_one_and_hang_up(loop.reader, limits, got));
    loop.spawn(write_in_pieces(loop.peer, frame, frame.size(), milliseconds(0)));
    loop.run(2);
    CHECK(error_of(got).code == ErrorCode::kUnavailable);
    CHECK(budget.used() == 0);
  }
  SECTION("enough for one chunk, not for the second; another holder keeps its bytes") {
    net::MemoryBudget budget(net::kReadChunk + 100);
    limits.budget = &budget;
    auto other = budget.reserve();
    REQUIRE(other.grow(50));
    auto frame = wire::encode_frame(bulky_message(4, 2 * net::kReadChunk));
    ReadResult got;
    loop.spawn(read_one_and_hang_up(loop.reader, limits, got));
    loop.spawn(write_in_pieces(loop.peer, frame, 4096, milliseconds(0)));
    loop.run(2);
    const auto& error = error_of(got);
    CHECK(error.code == ErrorCode::kUnavailable);
    CHECK_THAT(error.message, Contains("memory"));
    CHECK(budget.used() == 50);
  }
}

TEST_CASE("a length prefix announcing a lot holds one chunk until more bytes arrive", "[net]") {
  Loopback loop;
  // 1 MiB announced, 10 bytes sent: a reader that reserved the whole length would fail at once.
  asio::write(loop.peer, asio::buffer(header(1u << 20) + std::string(10, 'x')));
  net::MemoryBudget budget(2 * net::kReadChunk);
  auto limits = limits_with(milliseconds(300));
  limits.budget = &budget;
  ReadResult got;
  std::size_t used_while_stalled = 0;
  milliseconds sample_at(100);
  loop.spawn(read_one(loop.reader, limits, got));
  loop.spawn(sample_used(budget, sample_at, used_while_stalled));
  loop.run(2);
  CHECK(used_while_stalled == net::kReadChunk);
  CHECK(error_of(got).code == ErrorCode::kTimeout);
  CHECK(budget.used() == 0);
}

TEST_CASE("a frame read under a budget holds none of it afterwards", "[net]") {
  Loopback loop;
  net::MemoryBudget budget(4 * net::kReadChunk);
  auto limits = limits_with(milliseconds(5000));
  limits.budget = &budget;
  auto message = bulky_message(5, net::kReadChunk + 10);
  auto frame = wire::encode_frame(message);
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.spawn(write_in_pieces(loop.peer, frame, frame.size(), milliseconds(0)));
  loop.run(2);
  CHECK(MessageDifferencer::Equals(message_of(got), message));
  CHECK(budget.used() == 0);
}

TEST_CASE("a compressed body past the budget, a share or the cap is refused before unpacking",
          "[net]") {
  Loopback loop;
  auto message = error_message(6, std::string(4 * net::kReadChunk, 'z'));  // packs to ~1 KiB
  auto frame = wire::encode_frame(message);
  REQUIRE(frame.size() < net::kReadChunk);
  net::MemoryBudget budget(2 * net::kReadChunk);
  net::MemoryBudget::Share share{2 * net::kReadChunk};
  net::MemoryBudget roomy(64 * net::kReadChunk);
  auto limits = limits_with(milliseconds(5000));
  auto expected = ErrorCode::kUnavailable;  // no room now: the peer may retry
  SECTION("the budget's free bytes") { limits.budget = &budget; }
  SECTION("a share of a roomy budget") {
    limits.budget = &roomy;
    limits.shares = {&share, nullptr};
  }
  SECTION("max_message_bytes") {
    limits.max_message_bytes = 2 * net::kReadChunk;
    expected = ErrorCode::kTooLarge;  // never: the message is too large
  }
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.spawn(write_in_pieces(loop.peer, frame, frame.size(), milliseconds(0)));
  loop.run(2);
  CHECK(error_of(got).code == expected);
  CHECK(budget.used() == 0);
  CHECK(roomy.used() == 0);
  CHECK(share.used == 0);
}

TEST_CASE("read_held keeps a message's frame and unpacked bytes until the caller lets go",
          "[net]") {
  Loopback loop;
  auto message = error_message(7, std::string(4 * net::kReadChunk, 'z'));
  auto frame = wire::encode_frame(message);
  net::MemoryBudget budget(64 * net::kReadChunk);
  net::MemoryBudget::Share session{16 * net::kReadChunk}, device{32 * net::kReadChunk};
  auto limits = limits_with(milliseconds(5000));
  limits.budget = &budget;
  limits.shares = {&session, &device};
  std::optional<ergon::core::Result<net::HeldMessage>> got;
  loop.spawn(read_held_one(loop.reader, limits, got));
  loop.spawn(write_in_pieces(loop.peer, frame, frame.size(), milliseconds(0)));
  loop.run(2);
  REQUIRE(got);
  REQUIRE(*got);
  CHECK(MessageDifferencer::Equals((*got)->message, message));
  // The frame's bytes and the declared unpacked size, in the budget and both shares.
  auto held = frame.size() - 4 + message.ByteSizeLong();
  CHECK(budget.used() == held);
  CHECK(session.used == held);
  CHECK(device.used == held);
  got.reset();
  CHECK(budget.used() == 0);
  CHECK(session.used == 0);
  CHECK(device.used == 0);
}

TEST_CASE("a length of zero is a protocol error", "[net]") {
  Loopback loop;
  asio::write(loop.peer, asio::buffer(header(0)));
  auto limits = limits_with(milliseconds(5000));
  ReadResult got;
  loop.spawn(read_one(loop.reader, limits, got));
  loop.run(1);
  CHECK(error_of(got).code == ErrorCode::kProtocol);
}

TEST_CASE("MemoryBudget reservations add up and give their bytes back", "[net]") {
  net::MemoryBudget budget(100);
  CHECK(budget.capacity() == 100);
  CHECK(budget.used() == 0);
  CHECK(budget.available() == 100);
  {
    auto a = budget.reserve();
    CHECK(a.bytes() == 0);
    CHECK(a.grow(30));
    CHECK(a.grow(20));
    CHECK(a.bytes() == 50);
    CHECK(budget.used() == 50);
    CHECK(budget.available() == 50);

    auto b = budget.reserve();
    CHECK_FALSE(b.grow(51));  // more than is free: nothing taken
    CHECK(b.bytes() == 0);
    CHECK(budget.used() == 50);
    CHECK(b.grow(50));  // exactly what is free
    CHECK(budget.available() == 0);
    CHECK_FALSE(a.grow(1));
    CHECK(a.bytes() == 50);

    {
      auto moved = std::move(b);
      CHECK(moved.bytes() == 50);
      CHECK(b.bytes() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is empty
      CHECK_FALSE(b.grow(1));
      CHECK(budget.used() == 100);
    }
    CHECK(budget.used() == 50);  // `moved` gave its 50 back; `b` gives nothing twice
  }
  CHECK(budget.used() == 0);
  CHECK(budget.available() == 100);

  net::MemoryBudget::Reservation detached;
  CHECK_FALSE(detached.grow(1));
  CHECK(detached.bytes() == 0);
}
