#pragma once
// FaultProxy: a seeded, fault-injecting TCP proxy for integration tests. It listens on
// 127.0.0.1:0 and forwards every accepted connection to 127.0.0.1:TARGET byte for byte: it never
// parses anything, so TLS passes through untouched and the peers' own checks (TLS records, frame
// lengths, deadlines) are what the faults test. On the way it:
//   - drops a connection at accept (closes it before connecting upstream);
//   - cuts a connection after a random number of bytes in one direction (anywhere, so mostly
//     mid-record and mid-frame): closes both sides, half of the time with a reset;
//   - stalls one direction of a connection once, after a random number of bytes, for a short
//     pause or a long one (a test picks the long one above its own deadline on a client);
//   - splits a chunk into single bytes or small random pieces written one by one (TCP_NODELAY);
//   - delays a chunk by a few milliseconds.
// Connection-level faults are drawn at accept from one std::mt19937_64 seeded by the constructor
// (the seed is printed), so the same seed gives the same plan to the N-th connection; chunk-level
// faults use a per-connection generator seeded from it, but depend on how the kernel cuts the
// byte stream into reads, so they are not exactly replayable.
//
// The proxy runs its own io_context on its own thread (started by the constructor); the
// destructor (or stop()) closes every socket and joins it. counters() is thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <boost/asio.hpp>

namespace ergon::testing::integration {

/// What the proxy does, and how often. Probabilities are in [0, 1].
struct FaultPlan {
  /// Per connection: closed at once, before connecting upstream.
  double drop_at_accept = 0.05;
  /// Per connection: cut after 1..cut_max_bytes bytes in a direction chosen at random.
  double cut = 0.2;
  std::size_t cut_max_bytes = 6000;
  /// Per connection: one direction pauses once, after 0..stall_max_offset bytes.
  double stall = 0.15;
  std::size_t stall_max_offset = 3000;
  /// Of the stalls, the share that are long.
  double long_stall_share = 0.35;
  std::chrono::milliseconds short_stall_min{50}, short_stall_max{600};
  std::chrono::milliseconds long_stall_min{4500}, long_stall_max{5500};
  /// Per chunk read: written in pieces; half of the time single bytes (the first
  /// split_single_max bytes one by one, then the rest at once), else pieces of
  /// 1..split_piece_max bytes.
  double split = 0.25;
  std::size_t split_single_max = 256;
  std::size_t split_piece_max = 64;
  /// Per chunk read: waits 1..delay_max before writing it.
  double delay = 0.15;
  std::chrono::milliseconds delay_max{5};
  /// When non-zero, each of drop, cut, short stall and long stall is also given to one
  /// connection among the first `guarantee_window` (distinct ones, chosen by the seed), so every
  /// run injects every kind. The cut comes after 1..guaranteed_cut_max_bytes bytes from the
  /// server; the stalls after 0..guaranteed_stall_max_offset bytes from the client, inside its
  /// TLS ClientHello, so the client is surely waiting for the handshake while it lasts.
  std::size_t guarantee_window = 0;
  std::size_t guaranteed_cut_max_bytes = 1000;
  std::size_t guaranteed_stall_max_offset = 150;

  /// No faults at all: a plain forwarder.
  static FaultPlan none();
};

/// What the proxy did so far.
struct FaultCounters {
  std::uint64_t connections = 0;      // accepted
  std::uint64_t dropped = 0;          // closed at accept
  std::uint64_t upstream_failed = 0;  // the target refused the connection
  std::uint64_t cuts = 0;             // cut after the planned number of bytes
  std::uint64_t resets = 0;           // of the cuts, those closed with a reset
  std::uint64_t short_stalls = 0;
  std::uint64_t long_stalls = 0;
  std::uint64_t splits = 0;              // chunks written in pieces
  std::uint64_t single_byte_splits = 0;  // of those, written byte by byte
  std::uint64_t delays = 0;
  std::uint64_t bytes_up = 0;    // client → server, forwarded
  std::uint64_t bytes_down = 0;  // server → client, forwarded
  std::uint64_t errors = 0;      // exceptions that escaped a proxy coroutine (a proxy bug)

  std::uint64_t stalls() const { return short_stalls + long_stalls; }
  std::string describe() const;
};

class FaultProxy {
 public:
  /// Listens on 127.0.0.1:0 and starts forwarding to 127.0.0.1:`target_port`.
  FaultProxy(std::uint16_t target_port, std::uint64_t seed, FaultPlan plan = {});
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;
  ~FaultProxy();

  std::uint16_t port() const { return port_; }
  /// "127.0.0.1:PORT", for `ergon init --server`.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::uint64_t seed() const { return seed_; }
  FaultCounters counters() const;
  /// Closes the listener and every connection, and joins the thread. Idempotent.
  void stop();

 private:
  struct Connection;
  struct Atomics;

  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> run_connection(std::shared_ptr<Connection> connection);
  boost::asio::awaitable<void> pump(std::shared_ptr<Connection> connection, int direction);
  boost::asio::awaitable<bool> forward(std::shared_ptr<Connection> connection, int direction,
                                       const unsigned char* data, std::size_t size);
  boost::asio::awaitable<bool> pause(std::shared_ptr<Connection> connection, int direction,
                                     std::chrono::milliseconds duration);
  void plan_connection(Connection& connection, std::uint64_t index);
  void close(Connection& connection, bool reset);
  void close_all();
  void spawn(boost::asio::awaitable<void> work);

  // Declared first, destroyed last: everything below uses it.
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  std::uint64_t seed_;
  FaultPlan plan_;
  std::mt19937_64 random_;                                   // io thread only
  std::uint64_t accepted_ = 0;                               // io thread only
  std::map<std::uint64_t, std::uint64_t> guaranteed_;        // connection index → fault kind
  std::map<std::uint64_t, std::weak_ptr<Connection>> live_;  // io thread only
  bool stopping_ = false;                                    // io thread only
  std::unique_ptr<Atomics> counters_;
  std::promise<void> finished_;
  std::thread thread_;
  std::mutex stop_mutex_;
};

}  // namespace ergon::testing::integration
