#pragma once
// StoreWriter: the one thread that commits to the master store. A durable commit
// (synchronous=FULL) waits for the disk; done on the network thread it would stall every
// session. Jobs run in submission order on the writer's own connection; their results are
// posted back to the awaiting coroutine's executor.
// Thread-safe to submit from the network thread; stop() joins the thread.

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>

#include "server/merge/merge_service.h"
#include "server/store/master_store.h"

namespace ergon::server {

class StoreWriter {
 public:
  /// Opens its own connection to the store in `data`.
  static core::Result<std::unique_ptr<StoreWriter>> start(const std::filesystem::path& data);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  /// Runs `job` on the writer thread and resumes the caller with its result.
  template <class T>
  boost::asio::awaitable<T> run(const std::function<T(MasterStore&, MergeService&)>& job);

  /// Finishes the queued jobs and joins the thread.
  void stop();

 private:
  explicit StoreWriter(MasterStore store);
  void submit(std::function<void()> job);
  void loop();

  MasterStore store_;
  MergeService merge_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

// Deliberately not a coroutine, and callers pass a named job: g++ 12 destroyed a temporary
// std::function twice when it was a by-value coroutine parameter inside a co_await expression.
template <class T>
boost::asio::awaitable<T> StoreWriter::run(
    const std::function<T(MasterStore&, MergeService&)>& job) {
  namespace asio = boost::asio;
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [this](auto handler, std::function<T(MasterStore&, MergeService&)> work_item) {
        auto executor = asio::get_associated_executor(handler);
        // The work guard keeps io_context::run() alive while the job is away on this thread.
        auto work = asio::make_work_guard(executor);
        auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
        submit([this, executor, work_item, shared_handler, work]() mutable {
          auto result = std::make_shared<T>(work_item(store_, merge_));
          asio::post(executor, [shared_handler, result]() mutable {
            std::move (*shared_handler)(std::move(*result));
          });
          work.reset();
        });
      },
      asio::use_awaitable, job);
}

}  // namespace ergon::server
