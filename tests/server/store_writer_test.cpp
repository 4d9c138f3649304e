// StoreWriter's group commit on a real master store: jobs that queue while one runs share one
// COMMIT, each caller hears back only once its job is durable (another connection sees it),
// and a job that fails answers with its own error without taking the others down.
//
// Coroutine rules (g++ 12, see scripts/lint_coroutines.py): the coroutines are free functions
// whose reference parameters name objects of the test case, which outlive io.run_for().

#include "server/net/store_writer.h"

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <catch2/catch.hpp>

#include "server/store/master_store.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace asio = boost::asio;
using namespace ergon;
using server::MasterStore;
using server::MergeService;
using server::StoreWriter;

namespace {

using EnrolJob = std::function<core::Result<server::Enrolment>(MasterStore&, MergeService&)>;

// What the callers heard back.
struct Tally {
  int enrolled = 0;
  int visible_elsewhere = 0;  // seen by another connection at the moment of the answer
  std::vector<core::Error> refused;
};

asio::awaitable<void> enrol_one(StoreWriter& writer, const EnrolJob& job, MasterStore& observer,
                                Tally& tally) {
  auto enrolled = co_await writer.run(job);
  if (!enrolled) {
    tally.refused.push_back(enrolled.error());
    co_return;
  }
  ++tally.enrolled;
  if (observer.device(enrolled->device_id)) ++tally.visible_elsewhere;
}

asio::awaitable<void> hold_writer(
    StoreWriter& writer, const std::function<core::Status(MasterStore&, MergeService&)>& job) {
  (void)co_await writer.run(job);
}

}  // namespace

TEST_CASE("jobs queued behind a running one share a commit, and each answer waits for it",
          "[store_writer]") {
  testing::TempDir dir;
  REQUIRE(MasterStore::create(dir.path(), testing::reference_dir(), 2024));
  auto writer = StoreWriter::start(dir.path());
  REQUIRE(writer);
  auto observer = MasterStore::open(dir.path());  // its own connection: sees only commits
  REQUIRE(observer);

  // The first job holds the writer until every other job is queued behind it, and for longer
  // than a group's budget, so its group closes with it and the queue forms the next one.
  std::promise<void> release;
  auto released = release.get_future().share();
  std::function<core::Status(MasterStore&, MergeService&)> hold = [released](MasterStore&,
                                                                             MergeService&) {
    released.wait();
    std::this_thread::sleep_for(StoreWriter::kGroupBudget + std::chrono::milliseconds(5));
    return core::Status{};
  };
  constexpr int kJobs = 40;
  std::vector<EnrolJob> jobs;
  for (int i = 0; i < kJobs; ++i) {
    if (i == kJobs / 2) {  // one job in the middle fails: a device that does not exist
      jobs.emplace_back([](MasterStore& store, MergeService&) -> core::Result<server::Enrolment> {
        if (auto revoked = store.revoke("no-such-device"); !revoked)
          return core::fail(revoked.error());
        return core::fail(core::ErrorCode::kInternal, "revoked a device that does not exist");
      });
      continue;
    }
    jobs.emplace_back([i](MasterStore& store, MergeService&) {
      return store.enrol(merge::Role::kDirectorate, "DTE", "Φορητός " + std::to_string(i));
    });
  }

  asio::io_context io;
  std::exception_ptr failure;
  auto on_end = [&failure](const std::exception_ptr& e) {
    if (e && !failure) failure = e;
  };
  Tally tally;
  asio::co_spawn(io, hold_writer(**writer, hold), on_end);
  for (const auto& job : jobs)
    asio::co_spawn(io, enrol_one(**writer, job, *observer, tally), on_end);
  io.poll();  // every coroutine has handed its job over; the first one holds the writer
  release.set_value();
  io.restart();
  io.run_for(std::chrono::seconds(60));
  if (failure) std::rethrow_exception(failure);

  CHECK(tally.enrolled == kJobs - 1);
  CHECK(tally.visible_elsewhere == kJobs - 1);  // no answer before its COMMIT
  REQUIRE(tally.refused.size() == 1);
  CHECK(tally.refused[0].code == core::ErrorCode::kNotFound);
  auto counts = (*writer)->counts();
  CHECK(counts.jobs == kJobs + 1);
  INFO("groups committed: " << counts.groups);
  CHECK(counts.groups >= 2);  // the held job's own (past the budget), then the queue's
  CHECK(counts.groups < counts.jobs / 4);

  // Durable: a new connection after the writer stopped finds every enrolment.
  (*writer)->stop();
  auto reopened = MasterStore::open(dir.path());
  REQUIRE(reopened);
  auto devices = reopened->devices();
  REQUIRE(devices);
  CHECK(devices->size() == static_cast<std::size_t>(kJobs - 1));
}

TEST_CASE("a writer job alone commits on its own and answers", "[store_writer]") {
  testing::TempDir dir;
  REQUIRE(MasterStore::create(dir.path(), testing::reference_dir(), 2024));
  auto writer = StoreWriter::start(dir.path());
  REQUIRE(writer);
  auto observer = MasterStore::open(dir.path());
  REQUIRE(observer);
  EnrolJob job = [](MasterStore& store, MergeService&) {
    return store.enrol(merge::Role::kPlanning, "", "Προγραμματισμός");
  };
  asio::io_context io;
  Tally tally;
  for (int round = 0; round < 3; ++round) {
    asio::co_spawn(io, enrol_one(**writer, job, *observer, tally), asio::detached);
    io.restart();
    io.run_for(std::chrono::seconds(30));
  }
  CHECK(tally.enrolled == 3);
  CHECK(tally.visible_elsewhere == 3);
  CHECK((*writer)->counts().groups == 3);
}
