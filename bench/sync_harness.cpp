// sync_harness: a real `ergond` on loopback and real clients (many in this process, each with
// its own SQLite home and TLS connection) driven by a seeded workload: D directorate laptops,
// each with P new proposals and E edits made offline, one edit in ten on proposals another
// laptop of the same directorate edits too (so conflicts happen). Prints one table and writes
// the same figures as JSON; checks that every client converges on one digest and that every
// change pushed got an outcome (nothing lost). Usage:
// Also a new device's first sync on a large programme (default 1,000,000 field values).
//   sync_harness [--quick] [--directorates D] [--proposals P] [--edits E] [--clients C]
//                [--first-sync-values N] [--seed S] [--out FILE] [--ergond PATH] [--work DIR]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/harness_programme.h"
#include "bench/harness_server.h"
#include "bench/harness_workload.h"
#include "shared/net/frame_io.h"
#include "shared/storage/database.h"

namespace {

namespace fs = std::filesystem;
using bench::Laptop;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Config {
  int directorates = 20;
  int proposals = 300;  // new proposals per laptop
  int edits = 2400;     // edits per laptop
  int latency_reps = 50;
  int push_changes = 20'000;                  // the push measure's outbox
  int clients = 100;                          // the concurrent measure's clients
  std::size_t first_sync_values = 1'000'000;  // the first-sync measure's programme
  bool quick = false;
  std::uint64_t seed = 2024;
  std::string out = "bench/results.json";
  std::string ergond = ERGON_BINARY_DIR "/server/admin/ergond";
  std::string work;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double cpu_seconds_self() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The physical limit: `rows` rows of `row_bytes` appended to one SQLite table in transactions
// of `batch`, with the server's durability (WAL, synchronous=FULL). Rows per second.
double sqlite_limit(const fs::path& file, std::size_t rows, std::size_t row_bytes,
                    std::size_t batch) {
  auto db = ergon::storage::Database::open(file, ergon::storage::Durability::kFull);
  bench::require(db ? ergon::core::Status{} : ergon::core::fail(db.error()), "sqlite");
  bench::require(db->exec("CREATE TABLE t (seq INTEGER PRIMARY KEY, entity TEXT, vals BLOB)"),
                 "create");
  std::string blob(row_bytes, 'x');
  auto insert = db->prepare("INSERT INTO t (entity, vals) VALUES (?1, ?2)");
  bench::require(insert ? ergon::core::Status{} : ergon::core::fail(insert.error()), "prepare");
  auto start = Clock::now();
  for (std::size_t done = 0; done < rows;) {
    auto tx = db->begin_immediate();
    bench::require(tx ? ergon::core::Status{} : ergon::core::fail(tx.error()), "begin");
    for (std::size_t i = 0; i < batch && done < rows; ++i, ++done) {
      insert->reset();
      insert->bind(1, std::to_string(done)).bind(2, ergon::storage::Blob{blob});
      bench::require(insert->run(), "insert");
    }
    bench::require(tx->commit(), "commit");
  }
  return static_cast<double>(rows) / seconds_since(start);
}

struct Totals {
  std::size_t sent = 0, accepted = 0, conflicts = 0, rejected = 0, received = 0;
  std::size_t snapshots = 0;  // laptops that caught up by the changed state
  void add(const ergon::client::SyncReport& r) {
    snapshots += r.bootstrapped ? 1 : 0;
    sent += r.sent;
    accepted += r.accepted;
    conflicts += r.conflicts;
    rejected += r.rejected;
    received += r.received;
  }
};

// Every laptop syncs at once, each on its own thread.
Totals sync_all(std::vector<Laptop>& laptops) {
  std::vector<ergon::client::SyncReport> reports(laptops.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < laptops.size(); ++i)
    threads.emplace_back([&, i] { reports[i] = bench::sync(laptops[i]); });
  for (auto& t : threads) t.join();
  Totals totals;
  for (const auto& r : reports) totals.add(r);
  return totals;
}

// p50, p99 and max of samples in milliseconds.
json percentiles(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  return {{"p50_ms", at(0.5)}, {"p99_ms", at(0.99)}, {"max_ms", ms.back()}};
}

}  // namespace

namespace {

struct Run {
  Config config;
  bench::HarnessServer* server;
  fs::path work;
  std::mt19937_64 rng;
  int serial = 0;
};

// D laptops (directorates in turn from the reference list; two laptops of one directorate
// share proposals both edit), each bootstrapped; the shared proposals synced to both.
std::vector<Laptop> set_up_laptops(
    Run& run, std::map<std::string, std::vector<ergon::core::ProposalId>>& shared) {
  auto ref = ergon::model::ReferenceData::load(ergon::model::default_reference_dir());
  bench::require(ref ? ergon::core::Status{} : ergon::core::fail(ref.error()), "reference");
  std::vector<Laptop> laptops;
  for (int i = 0; i < run.config.directorates; ++i) {
    const auto& code =
        ref->directorates[static_cast<std::size_t>(i) % ref->directorates.size()].code;
    laptops.push_back(bench::make_laptop(*run.server, run.work / ("laptop-" + std::to_string(i)),
                                         "directorate", code));
    bench::sync(laptops.back());
    if (shared.contains(code)) continue;
    bench::create_proposals(laptops.back(), run.rng, run.config.quick ? 3 : 20, run.serial);
    shared[code] = laptops.back().own;
    bench::sync(laptops.back());
  }
  sync_all(laptops);  // every laptop holds its directorate's shared proposals
  return laptops;
}

json directorates_round(Run& run, std::vector<Laptop>& laptops,
                        const std::map<std::string, std::vector<ergon::core::ProposalId>>& shared) {
  for (auto& laptop : laptops) {
    bench::create_proposals(laptop, run.rng, run.config.proposals, run.serial);
    bench::make_edits(laptop, shared.at(laptop.directorate), run.rng, run.config.edits);
  }
  auto& counters = ergon::net::frame_counters();
  auto written = counters.written.load(), read = counters.read.load();
  auto cpu = cpu_seconds_self();
  auto server_cpu = run.server->cpu_seconds();
  auto start = Clock::now();
  auto first = sync_all(laptops);
  auto wall = seconds_since(start);
  json round{{"laptops", laptops.size()},
             {"changes", first.sent},
             {"wall_s", wall},
             {"client_cpu_s", cpu_seconds_self() - cpu},
             {"server_cpu_s", run.server->cpu_seconds() - server_cpu},
             {"bytes_pushed", counters.written.load() - written},
             {"bytes_received", counters.read.load() - read},
             {"bytes_per_change", static_cast<double>(counters.written.load() - written) /
                                      static_cast<double>(first.sent)},
             {"entries_received", first.received},
             {"caught_up_by_snapshot", first.snapshots},
             {"conflicts", first.conflicts},
             {"rejected", first.rejected},
             {"outcomes_missing", first.sent - first.accepted - first.conflicts - first.rejected}};
  // Until everyone has everyone's changes: then one digest everywhere.
  sync_all(laptops);
  std::set<std::string> digests;
  for (auto& laptop : laptops) digests.insert(bench::sync(laptop).digest);
  round["converged"] = digests.size() == 1;
  return round;
}

// After planning's decisions (#27): budget edits the money of proposals it has seen included,
// then a second budget laptop, which had seen the decisions but not those edits, edits the same
// money. The first edits are no conflicts (a change the editor had seen never conflicts with
// it); each of the second is one (two concurrent edits of one group).
json decided_round(Run& run) {
  auto planning = bench::make_laptop(*run.server, run.work / "planning", "planning", "");
  bench::sync(planning);
  auto listed = planning.store->list({});
  bench::require(listed ? ergon::core::Status{} : ergon::core::fail(listed.error()), "list");
  std::vector<ergon::core::ProposalId> ids;
  for (const auto& p : *listed)
    if (p.state == ergon::model::State::kDraft || p.state == ergon::model::State::kSubmitted)
      ids.push_back(p.id);
  auto decided = planning.store->decide(ids, ergon::model::State::kIncluded, "");
  bench::require(decided ? ergon::core::Status{} : ergon::core::fail(decided.error()), "decide");
  bench::sync(planning);
  auto budget = bench::make_laptop(*run.server, run.work / "budget", "budget", "");
  auto other = bench::make_laptop(*run.server, run.work / "budget-2", "budget", "");
  bench::sync(budget);
  bench::sync(other);
  std::size_t count = std::min<std::size_t>(ids.size(), run.config.quick ? 10 : 100);
  auto edit_money = [&](Laptop& laptop, int euros) {
    for (std::size_t i = 0; i < count; ++i) {
      auto amount = std::to_string(euros + static_cast<int>(i)) + ".00";
      auto edited =
          laptop.store->edit(ids[i], {{"allocation", amount}, {"funding", "1099=" + amount}});
      bench::require(edited ? ergon::core::Status{} : ergon::core::fail(edited.error()),
                     "a budget edit");
    }
    return bench::sync(laptop);
  };
  auto seen = edit_money(budget, 500);
  auto unseen = edit_money(other, 600);
  return {{"decisions", ids.size()},
          {"edits_after_seen_decision", count},
          {"conflicts_seen", seen.conflicts},
          {"edits_concurrent", count},
          {"conflicts_concurrent", unseen.conflicts},
          {"rejected", seen.rejected + unseen.rejected}};
}

// One laptop pushes an outbox of `push_changes` (creates, then edits of them) alone.
json push_measure(Run& run) {
  auto laptop = bench::make_laptop(*run.server, run.work / "pusher", "directorate", "DTE");
  bench::sync(laptop);
  int creates = run.config.push_changes / 5;
  bench::create_proposals(laptop, run.rng, creates, run.serial);
  bench::make_edits(laptop, {}, run.rng, run.config.push_changes - creates);
  auto written = ergon::net::frame_counters().written.load();
  auto start = Clock::now();
  auto report = bench::sync(laptop);
  auto wall = seconds_since(start);
  return {{"changes", report.sent},
          {"wall_s", wall},
          {"phases_s",
           {{"welcome", report.welcome_s}, {"push", report.push_s}, {"pull", report.pull_s}}},
          {"changes_per_s", static_cast<double>(report.sent) / wall},
          {"bytes_per_change",
           static_cast<double>(ergon::net::frame_counters().written.load() - written) /
               static_cast<double>(report.sent)}};
}

// A laptop synced before everything else, far behind now: the log rows it catches up on (as
// entries, or as a snapshot when the server sends one), received and applied.
json pull_measure(Laptop& idle, std::uint64_t cursor_before) {
  auto start = Clock::now();
  auto report = bench::sync(idle);
  auto wall = seconds_since(start);
  auto rows = report.cursor - cursor_before;
  return {{"log_rows", rows},
          {"entries_applied", report.received},
          {"bootstrapped", report.bootstrapped},
          {"wall_s", wall},
          {"entries_per_s", static_cast<double>(rows) / wall}};
}

// Small syncs: k edits then a sync, repeated; the sync's time only.
json latency_measure(Run& run, Laptop& laptop) {
  bench::sync(laptop);  // catch up first: the measure is of small syncs, not of a long pull
  json out;
  for (int k : {10, 100}) {
    std::vector<double> ms, welcome, push, pull;
    for (int r = 0; r < run.config.latency_reps; ++r) {
      bench::make_edits(laptop, {}, run.rng, k);
      auto start = Clock::now();
      auto report = bench::sync(laptop);
      ms.push_back(seconds_since(start) * 1000);
      welcome.push_back(report.welcome_s * 1000);
      push.push_back(report.push_s * 1000);
      pull.push_back(report.pull_s * 1000);
    }
    auto& measure = out["push_" + std::to_string(k)] = percentiles(ms);
    // The median sync's parts: connect and hello, push, pull with the digest check.
    measure["p50_parts_ms"] = {{"welcome", percentiles(welcome)["p50_ms"]},
                               {"push", percentiles(push)["p50_ms"]},
                               {"pull", percentiles(pull)["p50_ms"]}};
  }
  return out;
}

// `clients` laptops, each bootstrapped alone first, then each with one new proposal and ten
// edits of it made offline, all syncing at once (a thread each): wall time, changes/s, each
// sync's time (p50, p99, max), failed syncs, and the server's peak memory so far.
json concurrent_measure(Run& run) {
  auto ref = ergon::model::ReferenceData::load(ergon::model::default_reference_dir());
  bench::require(ref ? ergon::core::Status{} : ergon::core::fail(ref.error()), "reference");
  std::vector<Laptop> laptops;
  for (int i = 0; i < run.config.clients; ++i) {
    const auto& code =
        ref->directorates[static_cast<std::size_t>(i) % ref->directorates.size()].code;
    laptops.push_back(bench::make_laptop(
        *run.server, run.work / ("concurrent-" + std::to_string(i)), "directorate", code));
    bench::sync(laptops.back());
    bench::create_proposals(laptops.back(), run.rng, 1, run.serial);
    bench::make_edits(laptops.back(), {}, run.rng, 10);
  }
  std::vector<double> ms(laptops.size());
  std::vector<std::size_t> sent(laptops.size());
  std::atomic<std::size_t> failed = 0;
  std::vector<std::thread> threads;
  auto cpu = cpu_seconds_self();
  auto server_cpu = run.server->cpu_seconds();
  auto start = Clock::now();
  for (std::size_t i = 0; i < laptops.size(); ++i)
    threads.emplace_back([&, i] {
      auto begun = Clock::now();
      ergon::client::SyncOptions options;
      options.timeout = std::chrono::minutes(5);
      auto report = ergon::client::sync_once(*laptops[i].store, options);
      ms[i] = seconds_since(begun) * 1000;
      if (!report) {
        ++failed;
        std::cerr << "sync_harness: a concurrent sync failed: " << report.error().message << "\n";
        return;
      }
      sent[i] = report->sent;
    });
  for (auto& t : threads) t.join();
  auto wall = seconds_since(start);
  std::size_t changes = 0;
  for (auto n : sent) changes += n;
  auto out = percentiles(ms);
  out["clients"] = laptops.size();
  out["wall_s"] = wall;
  out["changes"] = changes;
  out["changes_per_s"] = static_cast<double>(changes) / wall;
  out["errors"] = failed.load();
  // The laptops' work runs on the same cores as the server's: what each side spent.
  out["clients_cpu_s"] = cpu_seconds_self() - cpu;
  out["server_cpu_s"] = run.server->cpu_seconds() - server_cpu;
  out["server_peak_rss_mib"] = run.server->peak_rss_mib();
  return out;
}

// Runs `work` in a child process and returns what it returned, with the child's peak memory
// ("peak_rss_mib") and CPU time ("cpu_s"): the figures are then the work's own, not this process's,
// and what the work allocated is gone with the child.
json in_child_process(const std::function<json()>& work) {
  int pipe_fds[2];
  bench::require(pipe(pipe_fds) == 0 ? ergon::core::Status{}
                                     : ergon::core::fail(ergon::core::ErrorCode::kInternal, "pipe"),
                 "child process");
  pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    auto text = work().dump();
    auto written = write(pipe_fds[1], text.data(), text.size());
    _exit(written == static_cast<ssize_t>(text.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<std::size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << "sync_harness: a child process failed\n";
    std::exit(1);
  }
  auto out = json::parse(text);
  out["peak_rss_mib"] = usage.ru_maxrss / 1024;
  out["cpu_s"] = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                 static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return out;
}

// One first sync of a new planning laptop: wall time, bytes received (frames, below TLS), the
// log head it ends at.
json first_sync(bench::HarnessServer& server, const fs::path& home) {
  auto laptop = bench::make_laptop(server, home, "planning", "");
  auto read = ergon::net::frame_counters().read.load();
  auto start = Clock::now();
  auto report = bench::sync(laptop);
  return {{"wall_s", seconds_since(start)},
          {"bytes_received", ergon::net::frame_counters().read.load() - read},
          {"bootstrapped", report.bootstrapped},
          {"log_rows", report.cursor}};
}

// A new device's first sync on a programme of `first_sync_values` field values (every field of
// a proposal counts, set or empty), written into its own server in process; then again after
// nine more edits of every proposal, so the log is ten times the state's proposals.
json first_sync_measure(Run& run) {
  auto proposals =
      (run.config.first_sync_values + bench::kFieldsPerProposal - 1) / bench::kFieldsPerProposal;
  bench::HarnessServer server(run.config.ergond, run.work / "first-sync");
  json out{{"proposals", proposals}, {"field_values", proposals * bench::kFieldsPerProposal}};
  for (std::size_t edits : {std::size_t{0}, std::size_t{9}}) {
    server.stop();
    std::cerr << "sync_harness: writing " << (edits ? proposals * edits : proposals)
              << " changes for the first-sync measure\n";
    auto seed = run.rng();
    auto zstd = in_child_process([&] {
                  std::mt19937_64 rng(seed);
                  if (edits == 0)
                    bench::seed_proposals(server.data(), proposals, rng);
                  else
                    bench::seed_history(server.data(), edits, rng);
                  return json{{"bytes", bench::snapshot_zstd_bytes(server.data())}};
                })["bytes"]
                    .get<std::size_t>();
    server.start();
    auto server_cpu = server.cpu_seconds();
    auto sync = in_child_process(
        [&] { return first_sync(server, run.work / ("first-sync-" + std::to_string(edits))); });
    sync["server_cpu_s"] = server.cpu_seconds() - server_cpu;
    sync["client_cpu_s"] = sync["cpu_s"];
    sync["client_peak_rss_mib"] = sync["peak_rss_mib"];
    sync.erase("peak_rss_mib");
    sync.erase("cpu_s");
    sync["snapshot_zstd_bytes"] = zstd;
    sync["bytes_over_zstd"] = sync["bytes_received"].get<double>() / static_cast<double>(zstd);
    out[edits == 0 ? "state" : "history_10x"] = sync;
  }
  return out;
}

Config parse_args(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "sync_harness: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") {
      c.quick = true;
      c.directorates = 3, c.proposals = 20, c.edits = 100, c.latency_reps = 3;
      c.push_changes = 500;
      c.clients = 10;
      c.first_sync_values = 2'000;
    } else if (a == "--directorates")
      c.directorates = std::stoi(next());
    else if (a == "--proposals")
      c.proposals = std::stoi(next());
    else if (a == "--edits")
      c.edits = std::stoi(next());
    else if (a == "--clients")
      c.clients = std::stoi(next());
    else if (a == "--first-sync-values")
      c.first_sync_values = std::stoull(next());
    else if (a == "--seed")
      c.seed = std::stoull(next());
    else if (a == "--out")
      c.out = next();
    else if (a == "--ergond")
      c.ergond = next();
    else if (a == "--work")
      c.work = next();
    else {
      std::cerr << "usage: sync_harness [--quick] [--directorates D] [--proposals P] [--edits E] "
                   "[--clients C] [--first-sync-values N] [--seed S] [--out FILE] [--ergond PATH] "
                   "[--work DIR]\n";
      std::exit(2);
    }
  }
  return c;
}

void print_table(const json& r) {
  auto line = [](const std::string& measure, const std::string& value, const std::string& target) {
    std::printf("%-44s %-30s %s\n", measure.c_str(), value.c_str(), target.c_str());
  };
  char v[128];
  line("measure", "value", "target");
  std::snprintf(
      v, sizeof v, "%.0f changes/s (%.0f%% of limit)", r["push"]["changes_per_s"].get<double>(),
      100 * r["push"]["changes_per_s"].get<double>() / r["limit"]["rows_per_s"].get<double>());
  line("push throughput", v, ">= 100,000/s and >= 30% of the limit");
  std::snprintf(
      v, sizeof v, "%.0f entries/s (%.0f%% of limit)", r["pull"]["entries_per_s"].get<double>(),
      100 * r["pull"]["entries_per_s"].get<double>() / r["limit"]["rows_per_s"].get<double>());
  line("pull + apply throughput", v, ">= 200,000/s");
  const auto& round = r["round"];
  std::snprintf(v, sizeof v, "%.2f s (limit %.2f s)", round["wall_s"].get<double>(),
                r["limit"]["round_s"].get<double>());
  line("the directorates' round (" + std::to_string(round["changes"].get<std::size_t>()) +
           " changes)",
       v, "<= 2 x the limit's time");
  std::snprintf(v, sizeof v, "%.1f s clients, %.1f s server", round["client_cpu_s"].get<double>(),
                round["server_cpu_s"].get<double>());
  line("  CPU in the round", v, "");
  std::snprintf(v, sizeof v, "%.0f bytes", round["bytes_per_change"].get<double>());
  line("bytes pushed per change", v, "<= 150 per single-field edit");
  for (const char* k : {"push_10", "push_100"}) {
    const auto& l = r["latency"][k];
    std::snprintf(v, sizeof v, "p50 %.1f p99 %.1f max %.1f ms", l["p50_ms"].get<double>(),
                  l["p99_ms"].get<double>(), l["max_ms"].get<double>());
    line(std::string("small sync, ") + (k + 5) + " changes", v, "p50 <= 5 ms, p99 <= 25 ms (100)");
  }
  for (const char* k : {"state", "history_10x"}) {
    const auto& f = r["first_sync"][k];
    std::snprintf(v, sizeof v, "%.2f s, %.1f MB (%.2f x zstd), %ld MiB", f["wall_s"].get<double>(),
                  f["bytes_received"].get<double>() / 1e6, f["bytes_over_zstd"].get<double>(),
                  f["client_peak_rss_mib"].get<long>());
    line(std::string("first sync, ") +
             std::to_string(r["first_sync"]["field_values"].get<std::size_t>()) + " values" +
             (std::string(k) == "state" ? "" : ", 10x log"),
         v, "<= 3 s, <= 2 x zstd, <= 100 MB");
  }
  const auto& c = r["concurrent"];
  std::snprintf(v, sizeof v, "p99 %.0f ms, %zu errors, server %ld MiB", c["p99_ms"].get<double>(),
                c["errors"].get<std::size_t>(), c["server_peak_rss_mib"].get<long>());
  line(std::to_string(c["clients"].get<std::size_t>()) + " clients syncing at once", v,
       "no errors, p99 <= 250 ms, <= 300 MB (1,000)");
  line("converged, nothing lost",
       round["converged"].get<bool>() && round["outcomes_missing"] == 0 ? "yes" : "NO", "yes");
  const auto& d = r["decided"];
  std::snprintf(v, sizeof v, "%zu of %zu edits", d["conflicts_seen"].get<std::size_t>(),
                d["edits_after_seen_decision"].get<std::size_t>());
  line("conflicts, money edits after a seen decision", v, "0 (none is concurrent)");
  std::snprintf(v, sizeof v, "%zu of %zu edits", d["conflicts_concurrent"].get<std::size_t>(),
                d["edits_concurrent"].get<std::size_t>());
  line("conflicts, concurrent money edits", v, "every one");
}

}  // namespace

int main(int argc, char** argv) {
  auto config = parse_args(argc, argv);
  fs::path work = config.work.empty()
                      ? fs::temp_directory_path() / ("ergon-harness-" + std::to_string(getpid()))
                      : fs::path(config.work);
  fs::remove_all(work);
  fs::create_directories(work);
  bench::HarnessServer server(config.ergond, work);
  Run run{config, &server, work, std::mt19937_64(config.seed)};
  auto idle = bench::make_laptop(server, work / "idle", "planning", "");
  auto idle_cursor = bench::sync(idle).cursor;
  std::map<std::string, std::vector<ergon::core::ProposalId>> shared;
  // First, while this process is small: its child's peak memory is the first sync's own.
  auto first_sync = first_sync_measure(run);
  // Then, while the programme is small: the measure is of the server under many connections.
  auto concurrent = concurrent_measure(run);
  auto laptops = set_up_laptops(run, shared);
  json results{{"config",
                {{"directorates", config.directorates},
                 {"proposals", config.proposals},
                 {"edits", config.edits},
                 {"seed", config.seed},
                 {"quick", config.quick}}}};
  results["first_sync"] = first_sync;
  results["concurrent"] = concurrent;
  results["round"] = directorates_round(run, laptops, shared);
  results["pull"] = pull_measure(idle, idle_cursor);
  results["push"] = push_measure(run);
  results["latency"] = latency_measure(run, laptops.front());
  results["decided"] = decided_round(run);
  auto changes = results["round"]["changes"].get<std::size_t>();
  auto rows_per_s = sqlite_limit(work / "limit.db", changes, 200, 500);
  results["limit"] = {{"rows_per_s", rows_per_s},
                      {"round_s", static_cast<double>(changes) / rows_per_s}};
  // Each throughput as a fraction of the limit measured in the same run.
  for (const char* measure : {"push", "pull"}) {
    auto& m = results[measure];
    m["fraction_of_limit"] =
        m[std::string(measure) == "push" ? "changes_per_s" : "entries_per_s"].get<double>() /
        rows_per_s;
  }
  results["server_peak_rss_mib"] = server.peak_rss_mib();
  print_table(results);
  std::ofstream(config.out) << results.dump(2) << "\n";
  std::cout << "figures written to " << config.out << "\n";
  const auto& decided = results["decided"];
  bool ok =
      results["round"]["converged"].get<bool>() && results["round"]["outcomes_missing"] == 0 &&
      concurrent["errors"] == 0 && decided["conflicts_seen"] == 0 &&
      decided["conflicts_concurrent"] == decided["edits_concurrent"] && decided["rejected"] == 0;
  fs::remove_all(work);
  return ok ? 0 : 1;
}
