// Real `ergond` over TLS, and six real `ergon` homes (five directorate clients and planning) that
// reach it only through a FaultProxy: connections dropped at accept, cut after a random number
// of bytes (mid-record, mid-frame), stalled (briefly, or past the deadline the test gives each
// sync, which then kills the client), split into single bytes or small pieces, delayed. Every
// round each client edits offline, then all sync at once; a sync that fails is retried. At the
// end every client syncs straight to the server, and the test checks that they converged: one
// view, one set of conflicts, one digest, an intact audit chain; every change the clients made
// was logged exactly once; and every last edit is the master value, or parked in a conflict, or
// was overwritten by a later round's edit of another client. A first, quick test checks the proxy
// itself: every byte through in order, and a stop that does not wait for a stalled connection.

#include "tests/integration/fault_proxy.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/integration/server_fixture.h"
#include "tests/support/paths.h"
#include "tests/support/temp_dir.h"

using namespace ergon::testing;
using namespace ergon::testing::integration;
using namespace std::chrono_literals;

namespace {

// What the test gives one `ergon init` or `ergon sync` before it kills it: the client's own
// deadline (30 s per read) is too long for a test, so "above the client's timeout" means above
// this one. A sync of these homes takes well under a second, even six at once under ASan.
constexpr std::chrono::milliseconds kAttemptDeadline{3000};
// Waves of retries before a client that still cannot sync fails the test.
constexpr int kMaxWaves = 12;
constexpr int kRounds = 4;
const std::string kRemarksLabel = "Παρατήρηση ";

FaultPlan test_plan() {
  FaultPlan plan;
  plan.short_stall_min = 50ms;
  plan.short_stall_max = 600ms;
  plan.long_stall_min = kAttemptDeadline + 300ms;
  plan.long_stall_max = kAttemptDeadline + 1000ms;
  plan.guarantee_window = 12;  // the inits and the first syncs see every kind of fault
  return plan;
}

// How the syncs through the proxy went.
struct Tally {
  std::size_t attempts = 0, succeeded = 0, network = 0, killed = 0;
  std::size_t init_failed = 0, init_killed = 0;  // `ergon init` through the proxy
  std::size_t sent = 0, accepted = 0, conflicts = 0, rejected = 0, duplicates = 0, requeued = 0,
              bootstrapped = 0;
  std::vector<std::string> unexpected;  // other exit codes, with the output

  void add(const json& report) {
    ++succeeded;
    sent += report.at("sent").get<std::size_t>();
    accepted += report.at("accepted").get<std::size_t>();
    conflicts += report.at("conflicts").get<std::size_t>();
    rejected += report.at("rejected").get<std::size_t>();
    duplicates += report.at("duplicates").get<std::size_t>();
    requeued += report.at("requeued").get<std::size_t>();
    if (report.at("bootstrapped").get<bool>()) ++bootstrapped;
  }
  std::string describe() const {
    return "sync attempts " + std::to_string(attempts) + ": " + std::to_string(succeeded) +
           " succeeded, " + std::to_string(network) + " failed with exit 4, " +
           std::to_string(killed) + " killed at the deadline, " +
           std::to_string(unexpected.size()) + " other; sent " + std::to_string(sent) +
           ", accepted " + std::to_string(accepted) + ", conflicts " + std::to_string(conflicts) +
           ", rejected " + std::to_string(rejected) + ", duplicates " + std::to_string(duplicates) +
           ", requeued " + std::to_string(requeued) + ", bootstraps " +
           std::to_string(bootstrapped) + "; inits killed at the deadline " +
           std::to_string(init_killed) + ", failed " + std::to_string(init_failed);
  }
};

// One client of the test and what it wrote.
struct Editor {
  Client client;
  std::string name;
  std::vector<std::string> own;                    // proposals no other client edits
  bool edits_shared = false;                       // edits the shared proposals too
  std::map<std::string, std::string> remarks;      // last remarks written, per proposal
  std::map<std::string, int> remarks_round;        // the round of that write
  std::map<std::string, std::int64_t> allocation;  // last allocation written (cents)
};

struct Writer {
  std::string name;
  int round = 0;
};

// `ergon init --server ADDRESS --token … --fingerprint … EXTRA…`, retried: through the proxy the
// key probe may be cut (init then warns that the key is checked at the first sync, and succeeds)
// or stalled past the deadline (killed before it saved anything).
void init_via(const Client& client, const std::string& address, const std::string& fingerprint,
              const std::vector<std::string>& extra, Tally& tally) {
  std::vector<std::string> args{"init",       "--server",      address,    "--token",
                                client.token, "--fingerprint", fingerprint};
  args.insert(args.end(), extra.begin(), extra.end());
  for (int attempt = 1;; ++attempt) {
    auto result = client.run(args, kAttemptDeadline);
    if (result.status.ok()) return;
    INFO(client.home.filename().string()
         << ": ergon init exited " << result.exit_code()
         << (result.timed_out ? " (killed at the deadline)" : "") << ": " << result.err);
    REQUIRE((result.timed_out || result.exit_code() == 4));
    ++(result.timed_out ? tally.init_killed : tally.init_failed);
    REQUIRE(attempt < kMaxWaves);
  }
}

// RunningServer::add_client, with the home pointed at `address` (the proxy) from the start.
Client add_client_via(RunningServer& server, const std::string& address, const std::string& name,
                      const std::string& role, const std::string& directorate, Tally& tally) {
  Client client{server.root() / name, server.enrol(role, directorate, name), directorate};
  std::vector<std::string> extra{"--user", "Χρήστης " + name, "--year", "2024"};
  if (!directorate.empty()) {
    extra.push_back("--directorate");
    extra.push_back(directorate);
  }
  init_via(client, address, server.fingerprint(), extra, tally);
  return client;
}

// Every client runs `ergon sync --json` at once; those that fail run it again, all at once,
// until each has succeeded. A failure must be exit 4 (network) or the test's deadline.
void sync_all(const std::vector<Editor>& editors, const std::filesystem::path& logs,
              const std::string& label, Tally& tally) {
  std::vector<std::size_t> remaining(editors.size());
  for (std::size_t i = 0; i < remaining.size(); ++i) remaining[i] = i;
  for (int wave = 1; !remaining.empty(); ++wave) {
    std::vector<ChildProcess> children;
    std::vector<std::filesystem::path> outputs;
    children.reserve(remaining.size());
    for (auto i : remaining) {
      outputs.push_back(logs /
                        (editors[i].name + "-" + label + "-" + std::to_string(wave) + ".log"));
      children.push_back(ChildProcess::spawn(editors[i].client.sync_argv(), outputs.back()));
    }
    const auto deadline = std::chrono::steady_clock::now() + kAttemptDeadline;
    std::vector<std::size_t> failed;
    std::string last_failure;
    for (std::size_t k = 0; k < children.size(); ++k) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto [status, killed] = wait_or_kill(children[k], std::max(left, 0ms));
      ++tally.attempts;
      auto text = read_file(outputs[k]);
      const auto& name = editors[remaining[k]].name;
      if (status.ok()) {
        tally.add(json_in(text));
        continue;
      }
      failed.push_back(remaining[k]);
      last_failure = name + " (" + label + ", wave " + std::to_string(wave) + "): " + text;
      if (killed)
        ++tally.killed;
      else if (status.exited && status.code == 4)
        ++tally.network;
      else
        tally.unexpected.push_back(name + " " + label + " wave " + std::to_string(wave) +
                                   ": exit " + std::to_string(status.code) + ", signal " +
                                   std::to_string(status.signal) + ": " + text);
    }
    remaining = std::move(failed);
    if (!remaining.empty() && wave >= kMaxWaves)
      FAIL(remaining.size() << " clients still fail to sync after " << wave
                            << " waves; the last failure: " << last_failure);
  }
}

std::string money_text(std::int64_t cents) {
  auto fraction = std::to_string(cents % 100);
  return std::to_string(cents / 100) + "." + (fraction.size() == 1 ? "0" : "") + fraction;
}

// The writer of a remarks value PREFIX-N made by make_remarks_edits, or none.
const Writer* writer_of(const std::map<std::string, Writer>& writers, const std::string& value) {
  if (value.rfind(kRemarksLabel, 0) != 0) return nullptr;
  auto dash = value.rfind('-');
  if (dash == std::string::npos || dash < kRemarksLabel.size()) return nullptr;
  auto found = writers.find(value.substr(kRemarksLabel.size(), dash - kRemarksLabel.size()));
  return found == writers.end() ? nullptr : &found->second;
}

// A blocking loopback TCP socket with 5 s send and receive timeouts (plain POSIX: a broken proxy
// fails the test instead of hanging it). Closed by the destructor.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {
    REQUIRE(fd_ >= 0);
    timeval five{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { ::close(fd_); }
  int fd() const { return fd_; }

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
  }
  static std::unique_ptr<Socket> listen_any() {
    auto s = std::make_unique<Socket>(::socket(AF_INET, SOCK_STREAM, 0));
    auto address = loopback(0);
    REQUIRE(::bind(s->fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(s->fd_, 8) == 0);
    return s;
  }
  static std::unique_ptr<Socket> connect_to(std::uint16_t port) {
    auto s = std::make_unique<Socket>(::socket(AF_INET, SOCK_STREAM, 0));
    auto address = loopback(port);
    REQUIRE(::connect(s->fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    return s;
  }
  std::uint16_t port() const {
    sockaddr_in address{};
    socklen_t size = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    return ntohs(address.sin_port);
  }
  bool send_all(const std::string& bytes) const {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  /// Reads until EOF; nullopt on an error or a timeout.
  std::optional<std::string> read_to_end() const {
    std::string out;
    char buffer[4096];
    for (;;) {
      auto n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return out;
      if (n < 0) return std::nullopt;
      out.append(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
};

// Serves `connections` connections one after the other, sending back every byte it reads until
// the peer half-closes. Runs on its own thread, so it uses no Catch assertion.
void echo(const Socket* listener, int connections) {
  for (int i = 0; i < connections; ++i) {
    int fd = ::accept(listener->fd(), nullptr, nullptr);
    if (fd < 0) return;
    char buffer[4096];
    for (;;) {
      auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      std::size_t sent = 0;
      while (sent < static_cast<std::size_t>(n)) {
        auto m = ::send(fd, buffer + sent, static_cast<std::size_t>(n) - sent, MSG_NOSIGNAL);
        if (m <= 0) break;
        sent += static_cast<std::size_t>(m);
      }
      if (sent < static_cast<std::size_t>(n)) break;
    }
    ::close(fd);
  }
}

}  // namespace

TEST_CASE("the fault proxy forwards every byte in order, and stops with connections open",
          "[integration][faults]") {
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);
  auto listener = Socket::listen_any();
  std::thread echoing(echo, listener.get(), 2);

  // Every chunk split (into single bytes or pieces), half of them delayed: the bytes come back
  // unchanged and in order, and the half-close passes through both ways.
  auto plan = FaultPlan::none();
  plan.split = 1;
  plan.delay = 0.5;
  plan.delay_max = 2ms;
  std::string payload(48 * 1024, '\0');
  for (auto& c : payload) c = static_cast<char>(random() & 0xff);
  {
    FaultProxy proxy(listener->port(), random(), plan);
    auto client = Socket::connect_to(proxy.port());
    REQUIRE(client->send_all(payload));
    ::shutdown(client->fd(), SHUT_WR);
    auto back = client->read_to_end();
    REQUIRE(back);
    CHECK(back->size() == payload.size());
    CHECK(*back == payload);
    auto counters = proxy.counters();
    INFO(counters.describe());
    CHECK(counters.connections == 1);
    CHECK(counters.splits > 0);
    CHECK(counters.delays > 0);
    CHECK(counters.bytes_up == payload.size());
    CHECK(counters.bytes_down == payload.size());
    CHECK(counters.errors == 0);
  }

  // A connection stalled for a minute: destroying the proxy closes it at once.
  plan = FaultPlan::none();
  plan.stall = 1;
  plan.stall_max_offset = 0;
  plan.long_stall_share = 1;
  plan.long_stall_min = plan.long_stall_max = 60s;
  auto proxy = std::make_unique<FaultProxy>(listener->port(), random(), plan);
  auto client = Socket::connect_to(proxy->port());
  REQUIRE(client->send_all("stalled"));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (proxy->counters().long_stalls == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  CHECK(proxy->counters().long_stalls == 1);
  auto stopping = std::chrono::steady_clock::now();
  proxy.reset();
  CHECK(std::chrono::steady_clock::now() - stopping < 2s);
  auto rest = client->read_to_end();  // EOF, not the 5 s timeout: the proxy closed it
  CHECK(rest.has_value());
  CHECK(rest.value_or("?").empty());
  echoing.join();
}

TEST_CASE(
    "clients syncing random edits through a faulty proxy converge; nothing is lost or "
    "applied twice",
    "[integration][faults]") {
  const auto started = std::chrono::steady_clock::now();
  auto seed = test_seed();
  INFO("ERGON_INTEGRATION_SEED=" << seed);
  std::mt19937_64 random(seed);

  TempDir dir;
  auto logs = dir.path() / "logs";
  std::filesystem::create_directories(logs);
  RunningServer server(dir.path());
  server.start();
  auto planning = seed_programme(server);  // straight to the server: the 20 sample proposals
  const auto proxy_seed = random();
  FaultProxy proxy(static_cast<std::uint16_t>(server.port()), proxy_seed, test_plan());
  INFO("proxy " << proxy.address() << ", its seed " << proxy_seed);

  // The programme by directorate, in ΚΑ order (so a seed replays the same shares).
  auto programme = planning.run_json({"list", "--json"});
  REQUIRE(programme.size() == 20);
  std::sort(programme.begin(), programme.end(), [](const json& a, const json& b) {
    return a.at("ka_code").get<std::string>() < b.at("ka_code").get<std::string>();
  });
  std::map<std::string, std::vector<std::string>> by_directorate;
  for (const auto& p : programme)
    by_directorate[p.at("directorate").get<std::string>()].push_back(p.at("id"));
  auto dte = by_directorate["DTE"];
  REQUIRE(dte.size() == 15);
  REQUIRE(by_directorate["DPOL"].size() == 1);
  REQUIRE(by_directorate["DHM"].size() == 1);
  std::shuffle(dte.begin(), dte.end(), random);
  auto slice = [&dte](std::size_t from, std::size_t to) {
    return std::vector<std::string>(dte.begin() + static_cast<std::ptrdiff_t>(from),
                                    dte.begin() + static_cast<std::ptrdiff_t>(to));
  };
  // Three DTE proposals every DTE client and planning edit (conflicts); three more for each DTE
  // client alone; the rest, and the proposals of directorates without a client, for planning.
  const auto shared = slice(0, 3);
  Tally tally;
  std::vector<Editor> editors;
  const std::vector<std::string> no_options;
  init_via(planning, proxy.address(), server.fingerprint(), no_options, tally);
  auto planning_own = slice(12, 15);
  for (const auto* d : {"DATH", "DPOP", "DPER"})
    for (const auto& id : by_directorate[d]) planning_own.push_back(id);
  editors.push_back({planning, "planning", planning_own, true, {}, {}, {}});
  for (int i = 1; i <= 3; ++i) {
    auto name = "dte-" + std::to_string(i);
    auto from = 3 * static_cast<std::size_t>(i);
    editors.push_back({add_client_via(server, proxy.address(), name, "directorate", "DTE", tally),
                       name,
                       slice(from, from + 3),
                       true,
                       {},
                       {},
                       {}});
  }
  editors.push_back({add_client_via(server, proxy.address(), "dpol", "directorate", "DPOL", tally),
                     "dpol",
                     by_directorate["DPOL"],
                     false,
                     {},
                     {},
                     {}});
  editors.push_back({add_client_via(server, proxy.address(), "dhm", "directorate", "DHM", tally),
                     "dhm",
                     by_directorate["DHM"],
                     false,
                     {},
                     {},
                     {}});

  sync_all(editors, logs, "bootstrap", tally);
  for (const auto& e : editors) CHECK(e.client.run_json({"list", "--json"}).size() == 20);

  std::map<std::string, Writer> writers;  // remarks prefix → who wrote it, in which round
  std::size_t creates = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (std::size_t ci = 0; ci < editors.size(); ++ci) {
      auto& e = editors[ci];
      INFO(e.name << ", round " << round);
      if (round == 0 && !e.client.directorate.empty()) {  // a new proposal, edited from now on
        auto study = e.client.directorate == "DPOL";
        auto added = e.client.run(
            {"add", "title=Νέα πρόταση " + e.name,
             std::string("category=") + (study ? "study" : "work"),
             std::string("ka_code=") + (study ? "40-7412.06" : "30-7323.06") + std::to_string(ci),
             "area=HER-CITY", "total_budget=100.000,00", "allocation=10.000,00", "funding=1099",
             "new_or_continuing=new", "status=maturing", "priority=B"});
        INFO(added.err);
        REQUIRE(added.status.ok());
        auto id = added.out.substr(0, added.out.find_first_of(" \n"));
        REQUIRE(id.size() == 32);
        e.own.push_back(id);
        e.allocation[id] = 1'000'000;
        ++creates;
      }
      auto edit_remarks = [&](const std::vector<std::string>& ids, std::size_t count,
                              const std::string& tag) {
        auto prefix = e.name + "-r" + std::to_string(round) + tag;
        writers[prefix] = Writer{e.name, round};
        std::map<std::string, std::string> written;
        make_remarks_edits(e.client.home, ids, count, prefix, random, written);
        for (const auto& [id, value] : written) {
          e.remarks[id] = value;
          e.remarks_round[id] = round;
        }
      };
      edit_remarks(e.own, 2 + random() % 4, "o");
      if (e.edits_shared) edit_remarks(shared, 1 + random() % 2, "s");
      if (random() % 2 == 0) {  // a money edit of one of its own, through the CLI
        const auto& id = e.own[random() % e.own.size()];
        auto cents = static_cast<std::int64_t>(100'000 + random() % 3'000'000);
        auto edited = e.client.run({"edit", id, "allocation=" + money_text(cents), "funding=1099"});
        INFO(edited.err);
        REQUIRE(edited.status.ok());
        e.allocation[id] = cents;
      }
    }
    sync_all(editors, logs, "round-" + std::to_string(round), tally);
  }
  const auto faults = proxy.counters();
  INFO("proxy: " << faults.describe());
  INFO(tally.describe());

  // Without the proxy: everyone syncs straight to the server, twice, so all see everything.
  for (const auto& e : editors) server.repoint(e.client);
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& e : editors) e.client.sync();

  auto verified = server.verify();  // the audit chain is intact
  const auto digest = verified.at("digest");
  const auto view = planning.run_json({"list", "--json"});
  const auto conflicts = planning.run_json({"conflicts", "--json"});
  CHECK(view.size() == 20 + creates);
  std::uint64_t made = 0;
  for (const auto& e : editors) {
    INFO(e.name);
    auto report = e.client.sync();
    CHECK(report.at("sent") == 0);
    CHECK(report.at("digest") == digest);
    CHECK(e.client.run_json({"list", "--json"}) == view);
    CHECK(e.client.run_json({"conflicts", "--json"}) == conflicts);
    auto status = e.client.status();
    CHECK(status.at("pending") == 0);
    CHECK(status.at("rejected") == 0);
    CHECK(status.at("last_error").is_null());
    // Every change the device made reached the server exactly once.
    auto last = last_device_seq(e.client.home);
    CHECK(server.high_water_mark(e.client.token) == last);
    made += last;
  }
  // One log row per change ever made (the import and the creates included), none twice.
  CHECK(verified.at("rows").get<std::uint64_t>() == made);

  // The values: the last edit of a proposal no one else edits is the master value; on a shared
  // one, each client's last value is the master, or parked in the open conflict, or was
  // overwritten by another client's edit of a later round.
  std::map<std::string, json> master;
  for (const auto& p : view) master[p.at("id")] = p;
  std::map<std::string, std::set<std::string>> parked;  // proposal → parked remarks values
  for (const auto& c : conflicts) {
    CHECK(std::find(shared.begin(), shared.end(), c.at("proposal")) != shared.end());
    if (c.at("group") != "remarks") continue;
    for (const auto& in : c.at("incoming"))
      parked[c.at("proposal")].insert(in.at("values").at("remarks").get<std::string>());
  }
  std::size_t exact = 0, kept_master = 0, kept_parked = 0, overwritten = 0;
  for (const auto& e : editors) {
    for (const auto& [id, value] : e.remarks) {
      INFO(e.name << " wrote remarks '" << value << "' on " << id << " in round "
                  << e.remarks_round.at(id));
      REQUIRE(master.count(id) == 1);
      auto now = master[id].at("remarks").get<std::string>();
      INFO("the master has '" << now << "'");
      if (std::find(shared.begin(), shared.end(), id) == shared.end()) {
        CHECK(now == value);
        ++exact;
        continue;
      }
      if (now == value) {
        ++kept_master;
        continue;
      }
      if (parked[id].count(value)) {
        ++kept_parked;
        continue;
      }
      const auto* by = writer_of(writers, now);
      REQUIRE(by != nullptr);
      CHECK(by->name != e.name);
      CHECK(by->round > e.remarks_round.at(id));
      ++overwritten;
    }
    for (const auto& [id, cents] : e.allocation) {
      INFO(e.name << " set the allocation of " << id << " to " << cents);
      CHECK(master[id].at("allocation") == cents);
      json line = json::object();
      line["source"] = "1099";
      line["amount"] = cents;
      CHECK(master[id].at("funding") == json::array({line}));
    }
  }
  for (const auto& id : shared) {  // the master's remarks were written by one of the clients
    INFO("shared " << id << ": " << master[id].at("remarks"));
    bool edited = false;
    for (const auto& e : editors) edited = edited || e.remarks.count(id) > 0;
    if (!edited) continue;
    CHECK(writer_of(writers, master[id].at("remarks").get<std::string>()) != nullptr);
  }
  const auto outcome = std::to_string(exact) + " exact, shared ones " +
                       std::to_string(kept_master) + " master, " + std::to_string(kept_parked) +
                       " parked, " + std::to_string(overwritten) + " overwritten later; " +
                       std::to_string(conflicts.size()) + " open conflicts";
  INFO("last remarks: " << outcome);

  // The faults really happened, every failure was one the client reports as a network error
  // (or the test's deadline), and the server lived through it all.
  CHECK(faults.errors == 0);
  CHECK(faults.connections > 0);
  CHECK(faults.dropped > 0);
  CHECK(faults.cuts > 0);
  CHECK(faults.short_stalls > 0);
  CHECK(faults.long_stalls > 0);
  CHECK(faults.splits > 0);
  CHECK(faults.single_byte_splits > 0);
  CHECK(faults.delays > 0);
  CHECK(tally.network > 0);
  CHECK(tally.killed + tally.init_killed > 0);
  CHECK(tally.rejected == 0);
  for (const auto& u : tally.unexpected) FAIL_CHECK("a sync failed in an unexpected way: " << u);
  CHECK(server.is_running());
  auto log = server.serve_log();
  CHECK_THAT(log, !Catch::Contains("AddressSanitizer") && !Catch::Contains("runtime error"));
  // One summary line on every run, for the record.
  std::cerr << "fault proxy test: ERGON_INTEGRATION_SEED=" << seed
            << "; proxy: " << faults.describe() << "; " << tally.describe()
            << "; last remarks: " << outcome << "; took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms" << std::endl;
}
