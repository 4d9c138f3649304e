#pragma once
// SyncHarness: one master store and several client stores in one process, with changes carried
// between them by function calls instead of sockets (LiteCore's loopback tests). Real SQLite
// files in a temp folder. Not thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "client/store/local_store.h"
#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "tests/support/temp_dir.h"

namespace ergon::testing {

class SyncHarness {
 public:
  struct Client {
    std::string name;
    std::unique_ptr<client::LocalStore> store;
    server::DeviceContext context;
  };

  /// Property tests pass kNormal: they test the merge logic, not power-cut durability, and
  /// run thousands of cases.
  explicit SyncHarness(storage::Durability durability = storage::Durability::kFull);

  /// Enrols a device with `role` and binds a fresh client home to it.
  Client& add_client(merge::Role role, const std::string& directorate, const std::string& name);

  /// Pushes the client's pending changes in batches of `batch_size`; returns every outcome.
  std::vector<changelog::Outcome> push(Client& client, std::size_t batch_size = 50);
  /// Pulls (bootstrapping from a snapshot when the client has no cursor) until up to date.
  client::PullResult pull(Client& client, std::size_t page_size = 100);
  void sync(Client& client) {
    push(client);
    pull(client);
  }
  /// True when the client's synced state has the master's digest.
  bool converged(Client& client);

  server::MasterStore& master() { return *master_; }
  std::filesystem::path server_dir() const { return dir_ / "server"; }
  server::MergeService& merge() { return *merge_; }

 private:
  TempDir dir_;
  std::unique_ptr<server::MasterStore> master_;
  std::unique_ptr<server::MergeService> merge_;
  std::vector<std::unique_ptr<Client>> clients_;
};

/// The values of one field of a proposal as a client sees it.
std::string field_of(client::LocalStore& store, const core::ProposalId& id, std::string_view field);

}  // namespace ergon::testing
