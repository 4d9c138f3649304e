#include "server/net/session.h"

#include <iostream>

#include "shared/net/frame_io.h"
#include "shared/net/tls.h"
#include "shared/wire/convert.h"

namespace ergon::server {

namespace asio = boost::asio;
using asio::ip::tcp;
using core::ErrorCode;

namespace {

template <class Stream>
tcp::socket& socket_of(Stream& stream) {
  if constexpr (std::is_same_v<Stream, tcp::socket>)
    return stream;
  else
    return stream.next_layer();
}

template <class Stream>
constexpr bool kIsTls = !std::is_same_v<Stream, tcp::socket>;

bool is_peer_gone(const core::Error& error) {
  return error.code == ErrorCode::kUnavailable && error.message == net::kClosedByPeer;
}

}  // namespace

template <class Stream>
Session<Stream>::Session(std::shared_ptr<Stream> stream, std::string peer, SessionShared& shared,
                         bool over_limit)
    : stream_(std::move(stream)),
      peer_(std::move(peer)),
      address_(peer_.substr(0, peer_.rfind(':'))),
      shared_(shared),
      memory_share_{shared.options.session_share_bytes},
      over_limit_(over_limit),
      started_(std::chrono::steady_clock::now()) {}

template <class Stream>
void Session<Stream>::close() {
  boost::system::error_code ignored;
  socket_of(*stream_).shutdown(tcp::socket::shutdown_both, ignored);
  socket_of(*stream_).close(ignored);
}

template <class Stream>
asio::awaitable<void> Session<Stream>::run(std::shared_ptr<Session> self) {
  auto& registry = self->shared_.registry;
  // The closer holds only the stream: closing cancels the session's pending read or write.
  auto id = registry.add(
      [stream = self->stream_] {
        boost::system::error_code ignored;
        socket_of(*stream).shutdown(tcp::socket::shutdown_both, ignored);
        socket_of(*stream).close(ignored);
      },
      self->address_);
  struct Unregister {
    SessionRegistry& registry;
    SessionRegistry::Id id;
    Unregister(SessionRegistry& r, SessionRegistry::Id i) : registry(r), id(i) {}
    Unregister(const Unregister&) = delete;
    Unregister& operator=(const Unregister&) = delete;
    ~Unregister() { registry.remove(id); }
  } unregister{registry, id};

  if (!co_await self->handshake()) co_return;
  if (self->over_limit_) {
    const core::Error full{ErrorCode::kUnavailable,
                           "the server is at its connection limit; retry later"};
    co_await self->refuse(0, full);
    co_return;
  }
  auto admitted = co_await self->admit();
  if (!admitted) co_return;
  registry.set_device(id, admitted->record.device_id);
  if (co_await self->bind(*admitted)) co_await self->serve(*admitted);
  self->log_end(*admitted);
  self->close();
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::handshake() {
  if constexpr (kIsTls<Stream>) {
    // A refused connection still completes the handshake, so the client can read why.
    auto timeout =
        over_limit_ ? std::chrono::milliseconds(2'000) : shared_.options.handshake_timeout;
    auto shook =
        co_await net::with_deadline(stream_->async_handshake(asio::ssl::stream_base::server,
                                                             asio::as_tuple(asio::use_awaitable)),
                                    timeout, "the TLS handshake");
    if (!shook) {
      if (!is_peer_gone(shook.error()))
        std::cerr << "ergond: " << peer_ << ": " << shook.error().message << "\n";
      co_return false;
    }
    session_binding_ = net::session_binding(stream_->native_handle());
  }
  co_return true;
}

template <class Stream>
asio::awaitable<std::optional<Admitted>> Session<Stream>::admit() {
  const auto& options = shared_.options;
  net::FrameLimits limits{options.max_hello_bytes, options.max_hello_bytes * 4, &shared_.unadmitted,
                          options.handshake_timeout};
  auto hello = co_await net::read_frame(*stream_, limits);
  if (!hello) {
    co_await refuse(0, hello.error());
    co_return std::nullopt;
  }
  if (!hello->has_hello()) {
    const core::Error not_hello{ErrorCode::kProtocol, "a session starts with hello"};
    co_await refuse(hello->request_id(), not_hello);
    co_return std::nullopt;
  }
  auto enrolment = RequestRouter::enrolment_of(hello->hello().token());
  const auto& address = address_;
  auto wait = shared_.throttle.admit_attempt(enrolment, address, std::chrono::steady_clock::now());
  if (!wait) {
    const core::Error throttled{ErrorCode::kUnauthenticated,
                                "too many refused tokens for this enrolment from this address; "
                                "retry in a minute"};
    co_await refuse(hello->request_id(), throttled);
    co_return std::nullopt;
  }
  if (wait->count() > 0) {
    asio::steady_timer timer(co_await asio::this_coro::executor, *wait);
    (void)co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  auto admitted = shared_.router.admit(hello->hello(), session_binding_);
  if (!admitted) {
    if (admitted.error().code == ErrorCode::kUnauthenticated)
      shared_.throttle.record_failure(enrolment, address, std::chrono::steady_clock::now());
    co_await refuse(hello->request_id(), admitted.error());
    co_return std::nullopt;
  }
  shared_.throttle.record_success(enrolment, address);
  auto welcome = shared_.router.welcome(hello->request_id(), *admitted);
  if (!welcome) {
    co_await refuse(hello->request_id(), welcome.error());
    co_return std::nullopt;
  }
  admitted->welcome = std::move(*welcome);
  co_return std::move(*admitted);
}

template <class Stream>
asio::awaitable<bool> Session<Stream>::bind(const Admitted& admitted) {
  auto enrolled = admitted.record.device_id;
  auto client = admitted.context.device_id;
  auto key = admitted.public_key;
  bool needs_binding = admitted.needs_binding;
  std::function<core::Result<std::optional<std::string>>(MasterStore&, MergeService&)> bind_job =
      [enrolled, client, key, needs_binding](MasterStore& store, MergeService&) {
        core::Result<std::optional<std::string>> rebound = std::optional<std::string>{};
        if (needs_binding) rebound = store.bind(enrolled, client, key);
        if (rebound) (void)store.touch_last_seen(enrolled);  // best effort: a display value
        return rebound;
      };
  auto bound = co_await shared_.writer.run(bind_job);
  if (!bound) {
    co_await refuse(admitted.welcome.request_id(), bound.error());
    co_return false;
  }
  if (*bound)
    std::cerr << "ergond: " << peer_ << ": device " << client.hex() << " re-bound from enrolment "
              << **bound << " (now revoked) to " << enrolled << "\n";
  if (!co_await net::write_frame(*stream_, admitted.welcome, shared_.options.idle_timeout))
    co_return false;
  co_return true;
}

template <class Stream>
asio::awaitable<void> Session<Stream>::serve(const Admitted& admitted) {
  const auto& options = shared_.options;
  // A request unpacks to at most a frame's size, and its memory is held until its reply is sent.
  net::FrameLimits limits{wire::kMaxFrameBytes, wire::kMaxFrameBytes, &shared_.admitted,
                          options.idle_timeout};
  limits.shares = {&memory_share_, &shared_.registry.device_share(admitted.record.device_id,
                                                                  options.device_share_bytes)};
  for (;;) {
    auto read = co_await net::read_held(*stream_, limits);
    if (!read) {
      ended_by_ = read.error().message;
      co_await refuse(0, read.error());
      co_return;  // closed, timed out or cut: nothing half-done remains
    }
    auto held = std::move(read->held);
    core::Result<wire::Message> request = std::move(read->message);
    read = core::fail(ErrorCode::kInternal, "taken");
    ++requests_;
    // The reply is encoded before the write waits, and the request and the decoded reply are
    // gone by then: a client slow to read holds only the frame's bytes. A snapshot page decoded
    // is several times its encoding; 20 laptops catching up at once held 160 MB of them
    // (bench/RESULTS.md, #13).
    std::string frame;
    {
      auto id = request->request_id();
      core::Result<wire::Message> reply = core::fail(ErrorCode::kInternal, "no reply");
      auto routed = shared_.router.handle(*request, admitted);
      request = core::fail(ErrorCode::kInternal, "answered");
      if (!routed)
        reply = core::fail(routed.error());
      else if (auto* job = std::get_if<PushJob>(&*routed))
        reply = co_await apply_push(admitted, *job);
      else if (auto* write = std::get_if<WriteJob>(&*routed))
        reply = co_await apply_write(*write);
      else
        reply = std::move(std::get<wire::Message>(*routed));
      if (!reply) {
        ended_by_ = "refused: " + reply.error().message;
        co_await refuse(id, reply.error());
        co_return;
      }
      if (reply->has_pull_reply()) {
        ++pages_;
        pulled_ += static_cast<std::uint64_t>(reply->pull_reply().entries_size() +
                                              reply->pull_reply().own_size());
      }
      frame = wire::encode_frame(*reply);
    }
    if (auto sent = co_await net::write_encoded(*stream_, std::move(frame), options.idle_timeout);
        !sent) {
      ended_by_ = sent.error().message;
      co_return;
    }
  }
}

template <class Stream>
asio::awaitable<core::Result<wire::Message>> Session<Stream>::apply_push(const Admitted& admitted,
                                                                         PushJob& job) {
  auto context = admitted.context;
  std::function<core::Result<std::vector<changelog::Outcome>>(MasterStore&, MergeService&)>
      push_job = [context, batch = std::move(job.changes)](MasterStore&, MergeService& merge) {
        return merge.apply_batch(context, batch);
      };
  auto outcomes = co_await shared_.writer.run(push_job);
  if (!outcomes) co_return core::fail(outcomes.error());
  for (const auto& o : *outcomes) {
    ++pushed_;
    if (o.is_duplicate) ++duplicates_;
    if (o.kind == changelog::OutcomeKind::kAccepted) ++accepted_;
    if (o.kind == changelog::OutcomeKind::kConflict) ++conflicts_;
    if (o.kind == changelog::OutcomeKind::kRejected) ++rejected_;
  }
  co_return shared_.router.push_reply(job.request_id, *outcomes);
}

template <class Stream>
asio::awaitable<core::Result<wire::Message>> Session<Stream>::apply_write(WriteJob& job) {
  std::function<core::Result<wire::Message>(MasterStore&, MergeService&)> write_job =
      [work = std::move(job.work)](MasterStore& store, MergeService&) { return work(store); };
  co_return co_await shared_.writer.run(write_job);
}

template <class Stream>
asio::awaitable<void> Session<Stream>::refuse(std::uint64_t request_id, const core::Error& error) {
  if (is_peer_gone(error)) co_return;
  std::cerr << "ergond: " << peer_ << ": refused: " << core::shorten(error.message) << "\n";
  auto frame = wire::error_message(request_id, error);
  (void)co_await net::write_frame(*stream_, frame, shared_.options.handshake_timeout);
}

template <class Stream>
void Session<Stream>::log_end(const Admitted& admitted) const {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started_)
                .count();
  const auto& d = admitted.record;
  std::cerr << "ergond: " << peer_ << ": session of device " << d.device_id << " ("
            << merge::to_string(d.role) << (d.directorate.empty() ? "" : " " + d.directorate)
            << ", '" << d.name << "'): " << requests_ << " requests in " << ms << " ms; pushed "
            << pushed_ << " (" << accepted_ << " accepted, " << conflicts_ << " conflicts, "
            << rejected_ << " rejected, " << duplicates_ << " duplicates); pulled " << pulled_
            << " entries in " << pages_ << " pages; ended: " << ended_by_ << "\n";
}

template class Session<TlsStream>;
template class Session<tcp::socket>;

}  // namespace ergon::server
