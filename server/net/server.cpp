#include "server/net/server.h"

#include <iostream>

#include "shared/net/frame_io.h"
#include "shared/wire/convert.h"

namespace ergon::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;
using core::ErrorCode;

std::uint64_t SessionRegistry::add(std::function<void()> close) {
  closers_.emplace(next_, std::move(close));
  return next_++;
}
void SessionRegistry::remove(std::uint64_t id) { closers_.erase(id); }
void SessionRegistry::close_all() {
  auto closers = std::move(closers_);
  closers_.clear();
  for (auto& [id, close] : closers) close();
}

Server::Server(asio::io_context& io, MasterStore& reader, StoreWriter& writer,
               std::optional<asio::ssl::context>& tls, ServerOptions options)
    : io_(io),
      reader_(reader),
      writer_(writer),
      tls_(tls),
      options_(options),
      router_(reader),
      acceptor_(io),
      signals_(io, SIGINT, SIGTERM) {}

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
  asio::co_spawn(io_, accept_loop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      std::cerr << "ergond: the accept loop stopped: " << ex.what() << "\n";
    }
  });
}

void Server::request_stop() {
  if (stopping_) return;
  stopping_ = true;
  std::cerr << "ergond: stopping: closing the listener and " << registry_.size() << " sessions\n";
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  signals_.cancel(ignored);
  registry_.close_all();
}

asio::awaitable<void> Server::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    boost::system::error_code peer_ec;
    auto remote = socket.remote_endpoint(peer_ec);
    std::string peer =
        peer_ec ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    socket.set_option(tcp::no_delay(true), peer_ec);
    auto log_end = [peer](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::cerr << "ergond: session " << peer << " ended by an error: " << ex.what() << "\n";
      }
    };
    if (tls_) {
      auto stream = std::make_shared<TlsStream>(std::move(socket), *tls_);
      asio::co_spawn(io_, serve(stream, peer), log_end);
    } else {
      auto stream = std::make_shared<tcp::socket>(std::move(socket));
      asio::co_spawn(io_, serve(stream, peer), log_end);
    }
  }
}

namespace {

template <class Stream>
tcp::socket& socket_of(Stream& stream) {
  if constexpr (std::is_same_v<Stream, tcp::socket>)
    return stream;
  else
    return stream.next_layer();
}

}  // namespace

// A member coroutine, not a capturing lambda, and every argument a named lvalue that outlives
// the co_await: g++ 12 destroyed a braced temporary bound to a coroutine's reference
// parameter twice (a double free that any first frame other than hello could trigger).
template <class Stream>
asio::awaitable<void> Server::refuse(Stream& stream, const std::string& peer,
                                     std::uint64_t request_id, const core::Error& error) {
  std::cerr << "ergond: " << peer << ": refused: " << error.message << "\n";
  auto frame = wire::error_message(request_id, error);
  (void)co_await net::write_frame(stream, frame, options_.handshake_timeout);
}

template <class Stream>
asio::awaitable<void> Server::serve(std::shared_ptr<Stream> stream, std::string peer) {
  auto session = registry_.add([stream] {
    boost::system::error_code ignored;
    socket_of(*stream).shutdown(tcp::socket::shutdown_both, ignored);
    socket_of(*stream).close(ignored);
  });
  struct Unregister {
    SessionRegistry& registry;
    std::uint64_t id;
    ~Unregister() { registry.remove(id); }
  } unregister{registry_, session};

  if (registry_.size() > options_.max_sessions) {
    const core::Error full{ErrorCode::kUnavailable,
                           "the server is at its connection limit; retry later"};
    co_await refuse(*stream, peer, 0, full);
    co_return;
  }
  if constexpr (!std::is_same_v<Stream, tcp::socket>) {
    auto shook =
        co_await net::with_deadline(stream->async_handshake(asio::ssl::stream_base::server,
                                                            asio::as_tuple(asio::use_awaitable)),
                                    options_.handshake_timeout, "the TLS handshake");
    if (!shook) {
      std::cerr << "ergond: " << peer << ": " << shook.error().message << "\n";
      co_return;
    }
  }

  auto hello = co_await net::read_frame(*stream, options_.handshake_timeout);
  if (!hello) {
    if (hello.error().code == ErrorCode::kTooLarge || hello.error().code == ErrorCode::kProtocol)
      co_await refuse(*stream, peer, 0, hello.error());
    co_return;
  }
  if (!hello->has_hello()) {
    const core::Error not_hello{ErrorCode::kProtocol, "a session starts with hello"};
    co_await refuse(*stream, peer, hello->request_id(), not_hello);
    co_return;
  }
  auto admitted = router_.admit(hello->hello());
  if (!admitted) {
    co_await refuse(*stream, peer, hello->request_id(), admitted.error());
    co_return;
  }
  if (admitted->needs_binding) {
    auto enrolled = admitted->record.device_id;
    auto client = admitted->context.device_id;
    std::function<core::Status(MasterStore&, MergeService&)> bind_job =
        [enrolled, client](MasterStore& store, MergeService&) {
          return store.bind(enrolled, client);
        };
    auto bound = co_await writer_.run(bind_job);
    if (!bound) {
      co_await refuse(*stream, peer, hello->request_id(), bound.error());
      co_return;
    }
  }
  auto welcome = router_.welcome(hello->request_id(), *admitted);
  if (!welcome) {
    co_await refuse(*stream, peer, hello->request_id(), welcome.error());
    co_return;
  }
  if (!co_await net::write_frame(*stream, *welcome, options_.idle_timeout)) co_return;
  std::cerr << "ergond: " << peer << ": " << merge::to_string(admitted->record.role) << " "
            << admitted->record.directorate << " '" << admitted->record.name << "' connected\n";

  for (;;) {
    auto request = co_await net::read_frame(*stream, options_.idle_timeout);
    if (!request) {
      if (request.error().code == ErrorCode::kTooLarge ||
          request.error().code == ErrorCode::kProtocol)
        co_await refuse(*stream, peer, 0, request.error());
      co_return;  // closed, timed out or cut: nothing half-done remains
    }
    auto id = request->request_id();
    core::Result<wire::Message> reply = core::fail(ErrorCode::kProtocol, "unexpected message");
    if (request->has_ping()) {
      wire::Message pong;
      pong.set_request_id(id);
      pong.mutable_pong();
      reply = pong;
    } else if (request->has_push()) {
      auto changes = router_.decode_push(request->push());
      if (!changes) {
        reply = core::fail(changes.error());
      } else {
        auto context = admitted->context;
        std::function<core::Result<std::vector<changelog::Outcome>>(MasterStore&, MergeService&)>
            push_job = [context, batch = std::move(*changes)](MasterStore&, MergeService& merge) {
              return merge.apply_batch(context, batch);
            };
        auto outcomes = co_await writer_.run(push_job);
        if (outcomes)
          reply = router_.push_reply(id, *outcomes);
        else
          reply = core::fail(outcomes.error());
      }
    } else if (request->has_pull()) {
      reply = router_.pull(id, *admitted, request->pull());
    } else {
      reply = core::fail(ErrorCode::kProtocol, "expected ping, push or pull after the welcome");
    }
    if (!reply) {
      co_await refuse(*stream, peer, id, reply.error());
      co_return;
    }
    if (!co_await net::write_frame(*stream, *reply, options_.idle_timeout)) co_return;
  }
}

}  // namespace ergon::server
