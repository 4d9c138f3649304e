#include "bench/harness_programme.h"

#include <iostream>
#include <string>
#include <vector>

#include <zstd.h>

#include "bench/harness_workload.h"
#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "shared/model/fields.h"
#include "shared/model/reference.h"
#include "shared/wire/convert.h"

namespace bench {
namespace {

using namespace ergon;
namespace fs = std::filesystem;

template <class T>
T take(core::Result<T> r, const std::string& what) {
  require(r ? core::Status{} : core::fail(r.error()), what);
  return std::move(*r);
}

// A planning device enrolled and bound for this seeding, and the store it writes through.
struct Seeder {
  server::MasterStore store;
  server::DeviceContext context;
  std::uint64_t seq = 0;
  changelog::Revision seen;  // the log's head when the seeding began: every edit's base
  std::vector<changelog::Change> batch;

  explicit Seeder(const fs::path& data)
      : store(take(server::MasterStore::open(data), "open " + data.string())) {
    auto enrolled = take(store.enrol(merge::Role::kPlanning, "", "harness seeder"), "enrol");
    context = {core::DeviceId::random(), {merge::Role::kPlanning, "", {}, {2024}}};
    take(store.bind(enrolled.device_id, context.device_id, ""), "bind");
    seen = {1, take(store.last_seq(), "last seq")};
  }

  void add(const std::string& proposal, const std::string& group, model::FieldValues values) {
    changelog::Change c;
    c.device_id = context.device_id;
    c.device_seq = ++seq;
    c.entity = {changelog::EntityKind::kProposal, proposal};
    c.group = group;
    c.values = std::move(values);
    if (group != changelog::kCreateGroup) c.base = {changelog::Base::Kind::kRevision, seen, 0};
    c.client_time = {static_cast<std::int64_t>(seq) * 1000, 0};
    c.user = "Προγραμματισμός";
    batch.push_back(std::move(c));
    if (batch.size() == 1000) flush();
  }

  void flush() {
    if (batch.empty()) return;
    server::MergeService merge(store);
    auto outcomes = take(merge.apply_batch(context, batch), "seed batch");
    for (const auto& o : outcomes)
      if (o.kind != changelog::OutcomeKind::kAccepted)
        require(core::fail(core::ErrorCode::kInvalidArgument, o.reason), "a seeded change");
    if (seq / 50'000 != (seq - batch.size()) / 50'000)
      std::cerr << "  seeded " << seq << " changes\n";
    batch.clear();
  }
};

std::string money(std::uint64_t euros) { return std::to_string(euros) + ".00"; }

}  // namespace

void seed_proposals(const fs::path& data, std::size_t count, std::mt19937_64& rng) {
  auto ref = take(model::ReferenceData::load(model::default_reference_dir()), "reference");
  Seeder seeder(data);
  for (std::size_t i = 0; i < count; ++i) {
    auto euros = 100'000 + rng() % 2'000'000;
    auto allocation = money(euros / 4);
    auto id = core::ProposalId::random().hex();
    seeder.add(id, std::string(changelog::kCreateGroup),
               {{"id", id},
                {"year", "2024"},
                {"directorate", ref.directorates[i % ref.directorates.size()].code},
                {"title", random_title(rng, static_cast<int>(i))},
                {"category", "work"},
                {"new_or_continuing", "new"},
                {"area", "HER-CITY"},
                {"total_budget", money(euros)},
                {"paid_to_date", money(euros / 10)},
                {"allocation", allocation},
                {"funding", "1099=" + allocation},
                {"status", "maturing"},
                {"priority", "B"},
                {"remarks", "Πρόταση " + std::to_string(i)}});
  }
  seeder.flush();
}

void seed_history(const fs::path& data, std::size_t per_proposal, std::mt19937_64& rng) {
  Seeder seeder(data);
  auto snapshot = take(seeder.store.snapshot(), "snapshot");
  for (std::size_t round = 0; round < per_proposal; ++round)
    for (const auto& p : snapshot.proposals) {
      auto id = p.id.hex();
      switch (round % 3) {
        case 0:
          seeder.add(id, "remarks", {{"remarks", "Σημείωση " + std::to_string(rng() % 100000)}});
          break;
        case 1:
          seeder.add(id, "title", {{"title", random_title(rng, static_cast<int>(round))}});
          break;
        default: {
          auto allocation = money(1'000 + rng() % 20'000);
          seeder.add(id, std::string(model::kMoneyGroup),
                     {{"total_budget", p.total_budget.plain()},
                      {"paid_to_date", p.paid_to_date.plain()},
                      {"allocation", allocation},
                      {"funding", "1099=" + allocation}});
        }
      }
    }
  seeder.flush();
}

std::size_t snapshot_zstd_bytes(const fs::path& data) {
  auto store = take(server::MasterStore::open(data), "open " + data.string());
  auto snapshot = take(store.snapshot(), "snapshot");
  ergon::wire::Snapshot proto;
  wire::to_proto(snapshot, &proto);
  auto body = proto.SerializeAsString();
  std::string packed(ZSTD_compressBound(body.size()), '\0');
  auto n = ZSTD_compress(packed.data(), packed.size(), body.data(), body.size(), 3);
  require(ZSTD_isError(n) ? core::fail(core::ErrorCode::kInvalidArgument, ZSTD_getErrorName(n))
                          : core::Status{},
          "zstd");
  return n;
}

}  // namespace bench
