#include "server/net/server.h"

#include <iostream>
#include <set>

namespace ergon::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using core::ErrorCode;

namespace {

void log_exception(const std::string& what, const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::cerr << "ergond: " << what << ": " << ex.what() << "\n";
  }
}

}  // namespace

Server::Server(asio::io_context& io, MasterStore& reader, StoreWriter& writer,
               std::optional<asio::ssl::context>& tls, ServerOptions options)
    : io_(io),
      reader_(reader),
      tls_(tls),
      options_(options),
      router_(reader, options_.max_page_bytes),
      // Every connection the server takes may hold one hello: slow peers alone can never use up
      // what an honest client's hello needs (the connection limit refuses them first).
      unadmitted_((options_.max_connections + kRefusalMargin) * options_.max_hello_bytes),
      admitted_(options_.admitted_budget_bytes),
      shared_{router_, writer, registry_, throttle_, unadmitted_, admitted_, options_},
      acceptor_(io),
      signals_(io, SIGINT, SIGTERM),
      revocation_timer_(io) {}

core::Result<tcp::endpoint> Server::listen(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return core::fail(ErrorCode::kUsage, "'" + host + "' is not an IP address to listen on");
  tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return core::fail(ErrorCode::kUnavailable, "cannot listen on " + host + ":" +
                                                   std::to_string(port) + ": " + ec.message());
  return acceptor_.local_endpoint();
}

void Server::start() {
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) request_stop();
  });
  asio::co_spawn(io_, accept_loop(),
                 [](const std::exception_ptr& e) { log_exception("the accept loop stopped", e); });
  asio::co_spawn(io_, watch_revocations(), [](const std::exception_ptr& e) {
    log_exception("the revocation watch stopped", e);
  });
}

void Server::request_stop() {
  if (stopping_) return;
  stopping_ = true;
  std::cerr << "ergond: stopping: closing the listener and " << registry_.size() << " sessions\n";
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  signals_.cancel(ignored);
  revocation_timer_.cancel();
  registry_.close_all();
}

asio::awaitable<void> Server::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      // Out of file descriptors (EMFILE) or a connection reset before accept: wait a little
      // rather than spin, and go on serving those already connected.
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      (void)co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (registry_.size() >= options_.max_connections + kRefusalMargin) {
      boost::system::error_code ignored;
      socket.close(ignored);  // far past the limit: even a refusal would cost too much
      continue;
    }
    boost::system::error_code peer_ec;
    auto remote = socket.remote_endpoint(peer_ec);
    std::string address = peer_ec ? "?" : remote.address().to_string();
    // One address holding connections open before login cannot take every slot: past its
    // share, its new connections are closed at once (no TLS, no refusal to write).
    if (registry_.unadmitted_from(address) >= options_.max_unadmitted_per_address) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    std::string peer = address + ":" + (peer_ec ? "?" : std::to_string(remote.port()));
    socket.set_option(tcp::no_delay(true), peer_ec);
    spawn_session(std::move(socket), peer, registry_.size() >= options_.max_connections);
  }
}

void Server::spawn_session(tcp::socket socket, const std::string& peer, bool over_limit) {
  auto log_end = [peer](const std::exception_ptr& e) {
    log_exception("session " + peer + " failed", e);
  };
  if (tls_) {
    auto stream = std::make_shared<TlsStream>(std::move(socket), *tls_);
    auto session =
        std::make_shared<Session<TlsStream>>(std::move(stream), peer, shared_, over_limit);
    asio::co_spawn(io_, Session<TlsStream>::run(std::move(session)), log_end);
  } else {
    auto stream = std::make_shared<tcp::socket>(std::move(socket));
    auto session =
        std::make_shared<Session<tcp::socket>>(std::move(stream), peer, shared_, over_limit);
    asio::co_spawn(io_, Session<tcp::socket>::run(std::move(session)), log_end);
  }
}

asio::awaitable<void> Server::watch_revocations() {
  std::int64_t seen = -1;
  while (!stopping_) {
    revocation_timer_.expires_after(kRevocationPoll);
    auto [ec] = co_await revocation_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || stopping_) co_return;
    // data_version moves when another connection (the writer, `ergond revoke`) commits.
    auto version = reader_.data_version();
    if (!version || *version == seen) continue;
    seen = *version;
    auto revoked = reader_.revoked_devices();
    if (!revoked) continue;
    std::set<std::string> ids(revoked->begin(), revoked->end());
    if (auto closed = registry_.close_devices(ids); closed > 0)
      std::cerr << "ergond: closed " << closed << " sessions of revoked devices\n";
  }
}

}  // namespace ergon::server
