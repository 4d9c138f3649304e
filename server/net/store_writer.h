#pragma once
// StoreWriter: the one thread that commits to the master store. A durable commit
// (synchronous=FULL) waits for the disk; done on the network thread it would stall every
// session. Jobs run in submission order on the writer's own connection.
//
// Group commit: the jobs queued while one runs share its transaction, each in a savepoint of
// its own (a job that fails undoes only itself), and one COMMIT makes the group durable. A
// job's result reaches its caller only after that COMMIT, so an answer is never ahead of the
// disk; if the COMMIT fails, every job of the group gets its error and the group is rolled
// back (a client retries its push, idempotently). A group stops taking jobs after
// kGroupBudget, so the first job's caller does not wait for a long queue.
// Thread-safe to submit from the network thread; stop() joins the thread.

#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio.hpp>

#include "server/merge/merge_service.h"
#include "server/store/master_store.h"

namespace ergon::server {

/// What a writer job returns: a core::Result, which a failed group commit can also answer.
template <class T>
concept ResultOfWrite = std::constructible_from<T, tl::unexpected<core::Error>>;

class StoreWriter {
 public:
  static constexpr auto kGroupBudget = std::chrono::milliseconds(20);

  /// Opens its own connection to the store in `data`.
  static core::Result<std::unique_ptr<StoreWriter>> start(const std::filesystem::path& data);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  /// Runs `job` on the writer thread and resumes the caller with its result once it is
  /// durable (or with the error of its group's failed commit).
  template <ResultOfWrite T>
  boost::asio::awaitable<T> run(const std::function<T(MasterStore&, MergeService&)>& job);

  /// Finishes the queued jobs and joins the thread.
  void stop();

  /// Jobs run, and groups of them committed, so far (readable from any thread).
  struct Counts {
    std::uint64_t jobs = 0;
    std::uint64_t groups = 0;
  };
  Counts counts() const { return {jobs_run_.load(), groups_committed_.load()}; }

 private:
  // A job in two steps: `work` runs it and keeps its result; `deliver` hands the result (or
  // the group's failure, when given) back to the caller's executor.
  struct Job {
    std::function<void(MasterStore&, MergeService&)> work;
    std::function<void(const core::Error* group_failure)> deliver;
  };

  explicit StoreWriter(MasterStore store);
  void submit(Job job);
  /// The next queued job; waits for one when `wait`, else returns nothing when none is queued.
  /// Nothing, too, once stopping with the queue empty.
  std::optional<Job> next_job(bool wait);
  void loop();
  void run_group(Job first);

  MasterStore store_;
  MergeService merge_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> jobs_run_ = 0;
  std::atomic<std::uint64_t> groups_committed_ = 0;
  std::thread thread_;
};

// Deliberately not a coroutine, and callers pass a named job: g++ 12 destroyed a temporary
// std::function twice when it was a by-value coroutine parameter inside a co_await expression.
template <ResultOfWrite T>
boost::asio::awaitable<T> StoreWriter::run(
    const std::function<T(MasterStore&, MergeService&)>& job) {
  namespace asio = boost::asio;
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [this](auto handler, std::function<T(MasterStore&, MergeService&)> work_item) {
        auto executor = asio::get_associated_executor(handler);
        // The work guard keeps io_context::run() alive while the job is away on this thread.
        auto work = asio::make_work_guard(executor);
        auto shared_handler = std::make_shared<decltype(handler)>(std::move(handler));
        auto result = std::make_shared<std::optional<T>>();
        Job queued;
        queued.work = [work_item = std::move(work_item), result](MasterStore& store,
                                                                 MergeService& merge) {
          result->emplace(work_item(store, merge));
        };
        queued.deliver = [executor, shared_handler, result,
                          work](const core::Error* group_failure) mutable {
          if (group_failure) result->emplace(core::fail(*group_failure));
          asio::post(executor, [shared_handler, result]() mutable {
            std::move (*shared_handler)(std::move(**result));
          });
          work.reset();
        };
        submit(std::move(queued));
      },
      asio::use_awaitable, job);
}

}  // namespace ergon::server
