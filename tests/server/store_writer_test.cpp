// StoreWriter's group commit on a real master store: jobs that queue while one runs share one
// COMMIT, each caller hears back only once its job is durable (another connection sees it),
// a job that fails answers with its own error without taking the others down, and a COMMIT
// that fails (the disk refuses the log's writes) answers every job of its group with the error.
//
// Coroutine rules (g++ 12, see scripts/lint_coroutines.py): the coroutines are free functions
// whose reference parameters name objects of the test case, which outlive io.run_for().

#include "server/net/store_writer.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "server/store/master_store.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

namespace asio = boost::asio;
using namespace ergon;
using server::MasterStore;
using server::MergeService;
using server::StoreWriter;

namespace {

// While alive, the default SQLite VFS wraps the one before it, so that a test can make every
// write to a write-ahead log fail, as a full disk would. (A test hook: the product code keeps
// <sqlite3.h> inside database.cpp.) One at a time; install it before any connection opens.
class FailingWal {
 public:
  FailingWal() : base_(sqlite3_vfs_find(nullptr)) {
    REQUIRE(base_ != nullptr);
    vfs_ = *base_;
    vfs_.zName = "ergon-test-failing-wal";
    vfs_.pNext = nullptr;
    vfs_.szOsFile = static_cast<int>(sizeof(Shim)) + base_->szOsFile;
    vfs_.xOpen = &FailingWal::open;
    installed = this;
    REQUIRE(sqlite3_vfs_register(&vfs_, 1) == SQLITE_OK);
  }
  ~FailingWal() {
    sqlite3_vfs_unregister(&vfs_);
    installed = nullptr;
  }
  FailingWal(const FailingWal&) = delete;
  FailingWal& operator=(const FailingWal&) = delete;

  void fail_writes(bool failing) { failing_ = failing; }

 private:
  // Our file, with the base VFS's file right behind it.
  struct Shim {
    sqlite3_file file;
    sqlite3_file* real;
    bool is_wal;
  };
  static sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<Shim*>(f)->real; }
  static const sqlite3_io_methods& io(sqlite3_file* f) { return *real(f)->pMethods; }

  static int open(sqlite3_vfs* /*vfs*/, sqlite3_filename name, sqlite3_file* file, int flags,
                  int* out_flags) {
    auto* shim = reinterpret_cast<Shim*>(file);
    shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
    shim->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = installed->base_->xOpen(installed->base_, name, shim->real, flags, out_flags);
    shim->file.pMethods = shim->real->pMethods ? &kMethods : nullptr;
    return rc;
  }
  static int write(sqlite3_file* f, const void* data, int n, sqlite3_int64 offset) {
    if (reinterpret_cast<Shim*>(f)->is_wal && installed->failing_) return SQLITE_IOERR_WRITE;
    return io(f).xWrite(real(f), data, n, offset);
  }

  static constexpr sqlite3_io_methods kMethods = {
      3,
      [](sqlite3_file* f) { return io(f).xClose(real(f)); },
      [](sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
        return io(f).xRead(real(f), b, n, o);
      },
      &FailingWal::write,
      [](sqlite3_file* f, sqlite3_int64 size) { return io(f).xTruncate(real(f), size); },
      [](sqlite3_file* f, int flags) { return io(f).xSync(real(f), flags); },
      [](sqlite3_file* f, sqlite3_int64* size) { return io(f).xFileSize(real(f), size); },
      [](sqlite3_file* f, int level) { return io(f).xLock(real(f), level); },
      [](sqlite3_file* f, int level) { return io(f).xUnlock(real(f), level); },
      [](sqlite3_file* f, int* out) { return io(f).xCheckReservedLock(real(f), out); },
      [](sqlite3_file* f, int op, void* arg) { return io(f).xFileControl(real(f), op, arg); },
      [](sqlite3_file* f) { return io(f).xSectorSize(real(f)); },
      [](sqlite3_file* f) { return io(f).xDeviceCharacteristics(real(f)); },
      [](sqlite3_file* f, int region, int size, int extend, void volatile** out) {
        return io(f).xShmMap(real(f), region, size, extend, out);
      },
      [](sqlite3_file* f, int offset, int n, int flags) {
        return io(f).xShmLock(real(f), offset, n, flags);
      },
      [](sqlite3_file* f) { io(f).xShmBarrier(real(f)); },
      [](sqlite3_file* f, int remove) { return io(f).xShmUnmap(real(f), remove); },
      [](sqlite3_file* f, sqlite3_int64 o, int n, void** out) {
        return io(f).xFetch(real(f), o, n, out);
      },
      [](sqlite3_file* f, sqlite3_int64 o, void* p) { return io(f).xUnfetch(real(f), o, p); },
  };

  static inline FailingWal* installed = nullptr;
  sqlite3_vfs* base_;
  sqlite3_vfs vfs_{};
  std::atomic<bool> failing_ = false;
};

using EnrolJob = std::function<core::Result<server::Enrolment>(MasterStore&, MergeService&)>;
using HoldJob = std::function<core::Status(MasterStore&, MergeService&)>;

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

asio::awaitable<void> hold_writer(StoreWriter& writer, const HoldJob& job) {
  (void)co_await writer.run(job);
}

// A job that holds the writer until released, then lingers for `linger`.
struct Gate {
  std::promise<void> release;
  HoldJob job;
  explicit Gate(std::chrono::milliseconds linger) {
    auto released = release.get_future().share();
    job = [released, linger](MasterStore&, MergeService&) {
      released.wait();
      std::this_thread::sleep_for(linger);
      return core::Status{};
    };
  }
};

// A new master store with its writer, another connection watching it (it sees only commits),
// and the callers' event loop.
struct Writing {
  testing::TempDir dir;
  std::unique_ptr<StoreWriter> writer;
  std::optional<MasterStore> observer;
  asio::io_context io;
  std::exception_ptr failure;
  Tally tally;

  Writing() {
    REQUIRE(MasterStore::create(dir.path(), testing::reference_dir(), 2024));
    auto started = StoreWriter::start(dir.path());
    REQUIRE(started);
    writer = std::move(*started);
    auto opened = MasterStore::open(dir.path());
    REQUIRE(opened);
    observer.emplace(std::move(*opened));
  }

  void spawn(asio::awaitable<void> work) {
    asio::co_spawn(io, std::move(work), [this](const std::exception_ptr& e) {
      if (e && !failure) failure = e;
    });
  }
  void hold(Gate& gate) { spawn(hold_writer(*writer, gate.job)); }
  void enrol(const EnrolJob& job) { spawn(enrol_one(*writer, job, *observer, tally)); }
  /// Every spawned caller hands its job over (the first one may hold the writer).
  void hand_over() { io.poll(); }
  void run() {
    io.restart();
    io.run_for(std::chrono::seconds(60));
    if (failure) std::rethrow_exception(failure);
  }
  /// The enrolments a new connection finds once the writer has stopped.
  std::size_t devices_after_stop() {
    writer->stop();
    auto reopened = MasterStore::open(dir.path());
    REQUIRE(reopened);
    auto devices = reopened->devices();
    REQUIRE(devices);
    return devices->size();
  }
};

EnrolJob enrol_as(const std::string& name) {
  return [name](MasterStore& store, MergeService&) {
    return store.enrol(merge::Role::kDirectorate, "DTE", name);
  };
}

}  // namespace

TEST_CASE("jobs queued behind a running one share a commit, and each answer waits for it",
          "[store_writer]") {
  Writing w;
  // The first job holds the writer until every other job is queued behind it, and for longer
  // than a group's budget, so its group closes with it and the queue forms the next one.
  Gate gate(StoreWriter::kGroupBudget + std::chrono::milliseconds(5));
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
    jobs.push_back(enrol_as("Φορητός " + std::to_string(i)));
  }
  w.hold(gate);
  for (const auto& job : jobs) w.enrol(job);
  w.hand_over();
  gate.release.set_value();
  w.run();

  CHECK(w.tally.enrolled == kJobs - 1);
  CHECK(w.tally.visible_elsewhere == kJobs - 1);  // no answer before its COMMIT
  REQUIRE(w.tally.refused.size() == 1);
  CHECK(w.tally.refused[0].code == core::ErrorCode::kNotFound);
  auto counts = w.writer->counts();
  CHECK(counts.jobs == kJobs + 1);
  INFO("groups committed: " << counts.groups);
  CHECK(counts.groups >= 2);  // the held job's own (past the budget), then the queue's
  CHECK(counts.groups < counts.jobs / 4);
  CHECK(w.devices_after_stop() == static_cast<std::size_t>(kJobs - 1));  // durable
}

TEST_CASE("a writer job alone commits on its own and answers", "[store_writer]") {
  Writing w;
  auto job = enrol_as("Προγραμματισμός");
  for (int round = 0; round < 3; ++round) {
    w.enrol(job);
    w.run();
  }
  CHECK(w.tally.enrolled == 3);
  CHECK(w.tally.visible_elsewhere == 3);
  CHECK(w.writer->counts().groups == 3);
}

TEST_CASE("a group whose commit fails answers every job with the error and keeps none of it",
          "[store_writer]") {
  FailingWal disk;  // before any connection opens, so that they all use it
  Writing w;
  // Three enrolments queue behind a held job and share its group; the disk then refuses the
  // log's writes, which happen at the COMMIT.
  Gate gate(std::chrono::milliseconds(0));
  auto job = enrol_as("Φορητός");
  w.hold(gate);
  for (int i = 0; i < 3; ++i) w.enrol(job);
  w.hand_over();
  disk.fail_writes(true);
  gate.release.set_value();
  w.run();
  CHECK(w.tally.enrolled == 0);
  REQUIRE(w.tally.refused.size() == 3);
  for (const auto& error : w.tally.refused) CHECK(error.code == core::ErrorCode::kStorage);
  CHECK(w.writer->counts().groups == 0);

  // The writer goes on once the disk does: the next job commits, and it is the only device.
  disk.fail_writes(false);
  w.enrol(job);
  w.run();
  CHECK(w.tally.enrolled == 1);
  CHECK(w.tally.visible_elsewhere == 1);
  CHECK(w.devices_after_stop() == 1);
}
