#include "tests/integration/fault_proxy.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <iostream>
#include <numeric>
#include <sstream>
#include <vector>

namespace ergon::testing::integration {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

enum GuaranteedKind : std::uint64_t { kDrop = 0, kCut = 1, kShortStall = 2, kLongStall = 3 };
constexpr std::uint64_t kGuaranteedKinds = 4;

bool chance(std::mt19937_64& random, double probability) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(random) < probability;
}

// A number in [low, high] (high < low counts as low).
std::uint64_t between(std::mt19937_64& random, std::uint64_t low, std::uint64_t high) {
  if (high <= low) return low;
  return low + random() % (high - low + 1);
}

std::chrono::milliseconds between(std::mt19937_64& random, std::chrono::milliseconds low,
                                  std::chrono::milliseconds high) {
  auto lo = static_cast<std::uint64_t>(std::max<std::int64_t>(0, low.count()));
  auto hi = static_cast<std::uint64_t>(std::max<std::int64_t>(0, high.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(between(random, lo, hi)));
}

}  // namespace

FaultPlan FaultPlan::none() {
  FaultPlan plan;
  plan.drop_at_accept = 0;
  plan.cut = 0;
  plan.stall = 0;
  plan.split = 0;
  plan.delay = 0;
  plan.guarantee_window = 0;
  return plan;
}

std::string FaultCounters::describe() const {
  std::ostringstream out;
  out << "connections " << connections << ", dropped " << dropped << ", upstream failed "
      << upstream_failed << ", cuts " << cuts << " (resets " << resets << "), stalls "
      << short_stalls << " short + " << long_stalls << " long, splits " << splits
      << " (single bytes " << single_byte_splits << "), delays " << delays << ", bytes up "
      << bytes_up << ", bytes down " << bytes_down << ", proxy errors " << errors;
  return out.str();
}

struct FaultProxy::Atomics {
  std::atomic<std::uint64_t> connections{0}, dropped{0}, upstream_failed{0}, cuts{0}, resets{0},
      short_stalls{0}, long_stalls{0}, splits{0}, single_byte_splits{0}, delays{0}, bytes_up{0},
      bytes_down{0}, errors{0};
};

// One proxied connection. Direction 0 is client → server, 1 is server → client. Touched only on
// the proxy's thread.
struct FaultProxy::Connection {
  Connection(asio::io_context& io, tcp::socket accepted, std::uint64_t number)
      : index(number),
        client(std::move(accepted)),
        server(io),
        timers{asio::steady_timer(io), asio::steady_timer(io)} {}

  tcp::socket& from(int direction) { return direction == 0 ? client : server; }
  tcp::socket& to(int direction) { return direction == 0 ? server : client; }

  std::uint64_t index;
  tcp::socket client, server;
  std::array<asio::steady_timer, 2> timers;  // one per direction: delays and stalls
  std::mt19937_64 random;                    // chunk-level faults
  std::array<std::size_t, 2> forwarded{};    // bytes written, per direction
  bool drop = false;
  int cut_direction = -1;  // -1: no cut
  std::size_t cut_after = 0;
  bool cut_reset = false;
  int stall_direction = -1;  // -1: no stall (or it happened)
  std::size_t stall_after = 0;
  std::chrono::milliseconds stall_for{0};
  bool stall_long = false;
  int ended = 0;  // directions that saw EOF
  bool closed = false;
};

FaultProxy::FaultProxy(std::uint16_t target_port, std::uint64_t seed, FaultPlan plan)
    : io_(1),
      acceptor_(io_),
      target_port_(target_port),
      seed_(seed),
      plan_(plan),
      random_(seed),
      counters_(std::make_unique<Atomics>()) {
  tcp::endpoint endpoint(asio::ip::address_v4::loopback(), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();

  if (plan_.guarantee_window > 0) {
    std::vector<std::uint64_t> slots(std::max<std::size_t>(plan_.guarantee_window, 4));
    std::iota(slots.begin(), slots.end(), std::uint64_t{1});
    std::shuffle(slots.begin(), slots.end(), random_);
    for (std::uint64_t kind = 0; kind < kGuaranteedKinds; ++kind) guaranteed_[slots[kind]] = kind;
  }
  std::cerr << "FaultProxy: 127.0.0.1:" << port_ << " -> 127.0.0.1:" << target_port_ << ", seed "
            << seed_ << std::endl;

  spawn(accept_loop());
  thread_ = std::thread([this] {
    try {
      io_.run();
    } catch (const std::exception& e) {
      ++counters_->errors;
      std::cerr << "FaultProxy: the io_context stopped: " << e.what() << std::endl;
    }
    finished_.set_value();
  });
}

FaultProxy::~FaultProxy() { stop(); }

FaultCounters FaultProxy::counters() const {
  const auto& a = *counters_;
  FaultCounters c;
  c.connections = a.connections.load();
  c.dropped = a.dropped.load();
  c.upstream_failed = a.upstream_failed.load();
  c.cuts = a.cuts.load();
  c.resets = a.resets.load();
  c.short_stalls = a.short_stalls.load();
  c.long_stalls = a.long_stalls.load();
  c.splits = a.splits.load();
  c.single_byte_splits = a.single_byte_splits.load();
  c.delays = a.delays.load();
  c.bytes_up = a.bytes_up.load();
  c.bytes_down = a.bytes_down.load();
  c.errors = a.errors.load();
  return c;
}

void FaultProxy::stop() {
  std::lock_guard lock(stop_mutex_);
  if (!thread_.joinable()) return;
  auto finished = finished_.get_future();
  asio::post(io_, [this] { close_all(); });
  // Closing every socket and timer ends every coroutine, so run() returns by itself; if
  // anything were still pending after that, stopping the context ends the thread anyway (the
  // context's destructor then frees what was left).
  if (finished.wait_for(5s) != std::future_status::ready) io_.stop();
  thread_.join();
}

void FaultProxy::spawn(asio::awaitable<void> work) {
  asio::co_spawn(io_, std::move(work), [this](std::exception_ptr e) {
    if (!e) return;
    ++counters_->errors;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::cerr << "FaultProxy: a connection ended by an exception: " << ex.what() << std::endl;
    } catch (...) {
      std::cerr << "FaultProxy: a connection ended by an unknown exception" << std::endl;
    }
  });
}

void FaultProxy::close(Connection& connection, bool reset) {
  if (connection.closed) return;
  connection.closed = true;
  boost::system::error_code ignored;
  for (auto& timer : connection.timers) timer.cancel();
  for (auto* socket : {&connection.client, &connection.server}) {
    if (!socket->is_open()) continue;
    if (reset)
      socket->set_option(asio::socket_base::linger(true, 0), ignored);
    else
      socket->shutdown(tcp::socket::shutdown_both, ignored);
    socket->close(ignored);
  }
  live_.erase(connection.index);
}

void FaultProxy::close_all() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  auto live = live_;
  for (auto& [index, weak] : live)
    if (auto connection = weak.lock()) close(*connection, false);
  live_.clear();
}

// Every draw is made whatever the outcome, so the N-th connection's plan depends only on the
// seed and N.
void FaultProxy::plan_connection(Connection& c, std::uint64_t index) {
  const bool drop = chance(random_, plan_.drop_at_accept);
  const bool cut = chance(random_, plan_.cut);
  const bool stall = chance(random_, plan_.stall);
  const bool stall_long = chance(random_, plan_.long_stall_share);
  const int cut_direction = static_cast<int>(random_() % 2);
  const auto cut_after = static_cast<std::size_t>(between(random_, 1, plan_.cut_max_bytes));
  const bool cut_reset = random_() % 2 == 0;
  const int stall_direction = static_cast<int>(random_() % 2);
  const auto stall_after = static_cast<std::size_t>(between(random_, 0, plan_.stall_max_offset));
  const auto short_for = between(random_, plan_.short_stall_min, plan_.short_stall_max);
  const auto long_for = between(random_, plan_.long_stall_min, plan_.long_stall_max);
  const auto guaranteed_cut =
      static_cast<std::size_t>(between(random_, 1, plan_.guaranteed_cut_max_bytes));
  const auto guaranteed_stall =
      static_cast<std::size_t>(between(random_, 0, plan_.guaranteed_stall_max_offset));
  c.random.seed(random_());

  c.cut_reset = cut_reset;
  if (auto kind = guaranteed_.find(index); kind != guaranteed_.end()) {
    // Only the guaranteed fault, early in the TLS handshake: the first connections may carry
    // no more than that (`ergon init` only checks the key).
    switch (kind->second) {
      case kDrop:
        c.drop = true;
        break;
      case kCut:
        c.cut_direction = 1;
        c.cut_after = guaranteed_cut;
        break;
      default:
        c.stall_direction = 0;
        c.stall_after = guaranteed_stall;
        c.stall_long = kind->second == kLongStall;
        c.stall_for = c.stall_long ? long_for : short_for;
        break;
    }
    return;
  }
  c.drop = drop;
  if (cut) {
    c.cut_direction = cut_direction;
    c.cut_after = cut_after;
  }
  if (stall) {
    c.stall_direction = stall_direction;
    c.stall_after = stall_after;
    c.stall_long = stall_long;
    c.stall_for = stall_long ? long_for : short_for;
  }
}

asio::awaitable<void> FaultProxy::accept_loop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (stopping_ || !acceptor_.is_open()) co_return;
    if (ec) continue;
    const auto index = ++accepted_;
    ++counters_->connections;
    auto connection = std::make_shared<Connection>(io_, std::move(socket), index);
    plan_connection(*connection, index);
    if (connection->drop) {
      ++counters_->dropped;
      close(*connection, false);
      continue;
    }
    live_[index] = connection;
    spawn(run_connection(connection));
  }
}

asio::awaitable<void> FaultProxy::run_connection(std::shared_ptr<Connection> connection) {
  tcp::endpoint target(asio::ip::address_v4::loopback(), target_port_);
  auto [ec] =
      co_await connection->server.async_connect(target, asio::as_tuple(asio::use_awaitable));
  if (connection->closed) co_return;
  if (ec) {
    ++counters_->upstream_failed;
    close(*connection, false);
    co_return;
  }
  boost::system::error_code ignored;
  connection->client.set_option(tcp::no_delay(true), ignored);
  connection->server.set_option(tcp::no_delay(true), ignored);
  spawn(pump(connection, 0));
  spawn(pump(connection, 1));
}

asio::awaitable<void> FaultProxy::pump(std::shared_ptr<Connection> c, int direction) {
  const auto d = static_cast<std::size_t>(direction);
  std::vector<unsigned char> buffer(16 * 1024);
  for (;;) {
    auto [ec, n] = co_await c->from(direction).async_read_some(asio::buffer(buffer),
                                                               asio::as_tuple(asio::use_awaitable));
    if (c->closed) co_return;
    if (ec) {
      if (ec == asio::error::eof) {  // pass the half-close on; close when both sides did
        boost::system::error_code ignored;
        c->to(direction).shutdown(tcp::socket::shutdown_send, ignored);
        if (++c->ended == 2) close(*c, false);
      } else {
        close(*c, false);
      }
      co_return;
    }
    // The chunk goes out in segments that end where a planned cut or stall falls.
    std::size_t pos = 0;
    while (pos < n) {
      const std::size_t at = c->forwarded[d];
      std::size_t end = n;
      if (c->cut_direction == direction) end = std::min(end, pos + (c->cut_after - at));
      if (c->stall_direction == direction && c->stall_after >= at)
        end = std::min(end, pos + (c->stall_after - at));
      if (end > pos) {
        const unsigned char* segment = buffer.data() + pos;
        if (!co_await forward(c, direction, segment, end - pos)) co_return;
        pos = end;
      }
      if (c->cut_direction == direction && c->forwarded[d] == c->cut_after) {
        ++counters_->cuts;
        if (c->cut_reset) ++counters_->resets;
        close(*c, c->cut_reset);
        co_return;
      }
      if (c->stall_direction == direction && c->forwarded[d] == c->stall_after) {
        c->stall_direction = -1;
        ++(c->stall_long ? counters_->long_stalls : counters_->short_stalls);
        if (!co_await pause(c, direction, c->stall_for)) co_return;
      }
    }
  }
}

asio::awaitable<bool> FaultProxy::forward(std::shared_ptr<Connection> c, int direction,
                                          const unsigned char* data, std::size_t size) {
  auto& random = c->random;
  if (chance(random, plan_.delay)) {
    ++counters_->delays;
    auto wait = between(random, 1ms, std::max(plan_.delay_max, 1ms));
    if (!co_await pause(c, direction, wait)) co_return false;
  }
  std::size_t singles = 0;  // the first bytes written one by one
  bool pieces = false;      // then the rest in random small pieces, or at once
  if (size > 1 && chance(random, plan_.split)) {
    ++counters_->splits;
    if (random() % 2 == 0) {
      ++counters_->single_byte_splits;
      singles = std::min(size, std::max<std::size_t>(plan_.split_single_max, 1));
    } else {
      pieces = true;
    }
  }
  const auto d = static_cast<std::size_t>(direction);
  auto& bytes = direction == 0 ? counters_->bytes_up : counters_->bytes_down;
  std::size_t pos = 0;
  while (pos < size) {
    std::size_t piece = size - pos;
    if (pos < singles)
      piece = 1;
    else if (pieces)
      piece = std::min(piece, static_cast<std::size_t>(between(
                                  random, 1, std::max<std::size_t>(plan_.split_piece_max, 1))));
    auto [ec, written] = co_await asio::async_write(
        c->to(direction), asio::buffer(data + pos, piece), asio::as_tuple(asio::use_awaitable));
    if (c->closed) co_return false;
    if (ec) {
      close(*c, false);
      co_return false;
    }
    pos += written;
    c->forwarded[d] += written;
    bytes += written;
  }
  co_return true;
}

asio::awaitable<bool> FaultProxy::pause(std::shared_ptr<Connection> c, int direction,
                                        std::chrono::milliseconds duration) {
  auto& timer = c->timers[static_cast<std::size_t>(direction)];
  timer.expires_after(duration);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;  // cancelled only by close(), which the check below sees
  co_return !c->closed && !stopping_;
}

}  // namespace ergon::testing::integration
