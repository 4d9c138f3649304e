#pragma once
// The master as the change log's accepted values build it, row by row, on a worker thread:
// verification reads and hashes the log on the caller's thread while this one parses each
// row's canonical bytes and applies the accepted values, so a long log uses both cores.
// One producer (the caller) and one worker; rows must be added in log order.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "shared/changelog/change.h"
#include "shared/core/result.h"
#include "shared/model/proposal.h"

namespace ergon::server {

/// The master state the log's accepted changes give.
struct Replay {
  std::unordered_map<std::string, model::Proposal> proposals;  // by id
  std::unordered_map<std::string, std::int64_t> envelopes;     // YEAR:SOURCE → cents

  core::Status apply(const changelog::Change& change);
};

/// The first row the replay could not take, with why; seq 0 when there was none.
struct ReplayProblem {
  std::uint64_t seq = 0;
  std::string problem;
};

class LogReplayer {
 public:
  LogReplayer();
  ~LogReplayer();
  LogReplayer(const LogReplayer&) = delete;
  LogReplayer& operator=(const LogReplayer&) = delete;

  /// Queues one row: its canonical bytes are always parsed (a damaged row is a problem); its
  /// values are applied when `applies` (an accepted change that made a new revision).
  void add(std::uint64_t seq, std::string_view canonical, bool applies);
  /// Waits for every queued row and hands over the replay and its first problem.
  std::pair<Replay, ReplayProblem> finish();

 private:
  struct Row {
    std::uint64_t seq = 0;
    bool applies = false;
    std::string canonical;
  };
  using Batch = std::vector<Row>;

  void run();
  void process(const Batch& batch);
  void hand_over();

  Batch filling_;
  std::size_t filled_ = 0;  // rows of filling_ in use (the rest keep their storage)
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> queued_;
  std::vector<Batch> spare_;  // processed batches, returned for reuse
  bool done_ = false;
  Replay replay_;
  ReplayProblem problem_;
  std::thread worker_;  // last: starts once everything above exists
};

}  // namespace ergon::server
