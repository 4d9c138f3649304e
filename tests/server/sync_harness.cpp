#include "tests/server/sync_harness.h"

#include <stdexcept>

#include "client/store/sync_state.h"
#include "shared/model/fields.h"
#include "tests/support/paths.h"

namespace ergon::testing {
namespace {

template <class T>
T must(core::Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

void must(core::Status s, const char* what) {
  if (!s) throw std::runtime_error(std::string(what) + ": " + s.error().message);
}

}  // namespace

SyncHarness::SyncHarness(storage::Durability durability) {
  master_ = std::make_unique<server::MasterStore>(
      must(server::MasterStore::create(dir_ / "server", reference_dir(), 2024, core::system_clock(),
                                       durability),
           "create master"));
  merge_ = std::make_unique<server::MergeService>(*master_);
}

SyncHarness::Client& SyncHarness::add_client(merge::Role role, const std::string& directorate,
                                             const std::string& name) {
  auto enrolment = must(master_->enrol(role, directorate, name), "enrol");
  client::InitOptions options{directorate, name, 2024, reference_dir()};
  auto store = must(client::LocalStore::init(dir_ / ("client-" + name), options), "init client");
  auto key = must(store.device_key(), "device key");
  must(master_->bind(enrolment.device_id, store.device().device_id, key.public_key), "bind");
  must(ergon::client::SyncState(store).set_identity(role, directorate, 2024), "identity");
  auto client = std::make_unique<Client>();
  client->name = name;
  client->context.device_id = store.device().device_id;
  client->context.permission =
      merge::Permission{role, directorate, {{master_->info().year, {}}}, {master_->info().year}};
  client->store = std::make_unique<client::LocalStore>(std::move(store));
  clients_.push_back(std::move(client));
  return *clients_.back();
}

std::vector<changelog::Outcome> SyncHarness::push(Client& client, std::size_t batch_size) {
  std::vector<changelog::Outcome> all;
  auto pending =
      must(ergon::client::SyncState(*client.store).pending_changes(1'000'000), "pending");
  for (std::size_t i = 0; i < pending.size(); i += batch_size) {
    std::span<const changelog::Change> batch(pending.data() + i,
                                             std::min(batch_size, pending.size() - i));
    auto outcomes = must(merge_->apply_batch(client.context, batch), "apply_batch");
    all.insert(all.end(), outcomes.begin(), outcomes.end());
  }
  return all;
}

client::PullResult SyncHarness::pull(Client& client, std::size_t page_size) {
  client::PullResult total;
  if (must(ergon::client::SyncState(*client.store).cursor(), "cursor") == 0 &&
      must(master_->last_seq(), "last seq") > 0) {
    must(ergon::client::SyncState(*client.store)
             .apply_snapshot(must(master_->snapshot(), "snapshot")),
         "apply snapshot");
    // The snapshot covers the outcomes of changes this device pushed before: learn them.
    auto own = must(master_->device_entries(client.context.device_id, 1), "own entries");
    must(ergon::client::SyncState(*client.store).apply_log(own), "own outcomes");
  }
  for (;;) {
    auto page =
        must(master_->log_after(must(ergon::client::SyncState(*client.store).cursor(), "cursor"),
                                page_size),
             "log_after");
    if (page.empty()) return total;
    auto result = must(ergon::client::SyncState(*client.store).apply_log(page), "apply_log");
    total.entries += result.entries;
    total.own_accepted += result.own_accepted;
    total.own_conflicts += result.own_conflicts;
    total.own_rejected += result.own_rejected;
  }
}

bool SyncHarness::converged(Client& client) {
  // The digest computed from every field, and the one the client keeps beside its state and
  // moves with each change it applies: both must be the server's.
  ergon::client::SyncState sync(*client.store);
  auto master = must(master_->digest(), "digest");
  return must(sync.server_digest(), "client digest") == master &&
         must(sync.kept_digest(), "kept digest") == master;
}

std::string field_of(client::LocalStore& store, const core::ProposalId& id,
                     std::string_view field) {
  return model::field_text(must(store.get(id), "get"), field, model::TextForm::kCanonical);
}

}  // namespace ergon::testing
