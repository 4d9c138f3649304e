#pragma once
// Session: one connection's life (http/server's connection): TLS handshake (unless
// --insecure) → hello, checked under the small limits of an unadmitted peer → welcome → ping,
// push and pull requests, each answered through the RequestRouter, pushes applied by the
// StoreWriter. Every refusal sends an error frame, then closes. One log line when it ends:
// which device, what it pushed and pulled. Lives on the io_context's thread; `run` keeps the
// session alive until its coroutine ends; the SessionShared must outlive every session.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include "server/api/request_router.h"
#include "server/net/session_registry.h"
#include "server/net/store_writer.h"
#include "server/net/token_throttle.h"
#include "shared/net/memory_budget.h"
#include "shared/wire/frame.h"

namespace ergon::server {

struct ServerOptions {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds idle_timeout{120'000};  // a client pings well within this
  std::size_t max_connections = 2048;
  /// A hello is a few hundred bytes: before admission no frame may be larger than this.
  std::size_t max_hello_bytes = 4u << 10;
  /// What all admitted sessions together may hold in requests being read, unpacked and
  /// answered; one session at most its share, the sessions of one enrolment together theirs
  /// (a whole frame and its unpacked message fit in a session's share).
  std::size_t admitted_budget_bytes = 192u << 20;
  std::size_t session_share_bytes = (2 * wire::kMaxFrameBytes) + (1u << 20);
  std::size_t device_share_bytes = 64u << 20;
  /// Connections from one address still in their TLS handshake or hello: past this the
  /// accept loop closes new ones from that address at once.
  std::size_t max_unadmitted_per_address = 256;
  /// Where a pull page stops adding snapshot parts and entries.
  std::size_t max_page_bytes = kMaxPageBytes;
};

/// What every session shares; owned by the Server.
struct SessionShared {
  RequestRouter& router;
  StoreWriter& writer;
  SessionRegistry& registry;
  TokenThrottle& throttle;
  net::MemoryBudget& unadmitted;
  net::MemoryBudget& admitted;
  const ServerOptions& options;
};

template <class Stream>
class Session {
 public:
  /// `over_limit`: the server is full; the session only says so and closes.
  Session(std::shared_ptr<Stream> stream, std::string peer, SessionShared& shared, bool over_limit);

  /// Serves the connection to its end. A static coroutine taking `self` by value, so the
  /// session lives as long as its frame.
  static boost::asio::awaitable<void> run(std::shared_ptr<Session> self);

 private:
  boost::asio::awaitable<bool> handshake();
  boost::asio::awaitable<std::optional<Admitted>> admit();
  boost::asio::awaitable<bool> bind(const Admitted& admitted);
  boost::asio::awaitable<void> serve(const Admitted& admitted);
  boost::asio::awaitable<core::Result<wire::Message>> apply_push(const Admitted& admitted,
                                                                 PushJob& job);
  boost::asio::awaitable<core::Result<wire::Message>> apply_write(WriteJob& job);
  boost::asio::awaitable<void> refuse(std::uint64_t request_id, const core::Error& error);
  void log_end(const Admitted& admitted) const;
  void close();

  std::shared_ptr<Stream> stream_;
  std::string peer_;
  std::string address_;  // peer_ without its port
  SessionShared& shared_;
  net::MemoryBudget::Share memory_share_;
  bool over_limit_;
  std::string session_binding_;
  std::chrono::steady_clock::time_point started_;
  // What the session did, for its log line.
  std::uint64_t pushed_ = 0, accepted_ = 0, conflicts_ = 0, rejected_ = 0, duplicates_ = 0;
  std::uint64_t pulled_ = 0, pages_ = 0, requests_ = 0;
  std::string ended_by_ = "the client closed the connection";
};

using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;
extern template class Session<TlsStream>;
extern template class Session<boost::asio::ip::tcp::socket>;

}  // namespace ergon::server
