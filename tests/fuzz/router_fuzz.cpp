// libFuzzer target: the server's request handler, without sockets, as a hostile but admitted
// device would drive it. The input is a script read by FuzzedDataProvider: each step is a
// message of any type (hello, ping, pull with any cursor, push of changes with any envelope,
// entity, group and values, raw bytes parsed as a message), answered by RequestRouter and, for
// pushes, applied by MergeService to a real MasterStore in a temporary folder. Nothing here may
// crash, leak or read out of bounds; every refusal must be an Error value. The oracle of the
// decision's first rule: an accepted change leaves every field outside its group as it was (a
// create aside, which makes a proposal), and every other proposal too.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "server/api/request_router.h"
#include "server/merge/merge_service.h"
#include "server/store/master_store.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"
#include "shared/wire/convert.h"
#include "shared/wire/frame.h"

namespace {

using namespace ergon;

struct World {
  std::filesystem::path dir;
  std::optional<server::MasterStore> store;
  std::optional<server::RequestRouter> router;
  std::optional<server::MergeService> merge;
  server::Admitted admitted;
  std::string token;
  std::string device_bytes;
  crypto::SigningKey key;
  std::vector<std::string> proposal_ids;
};

World& world() {
  static World* w = [] {
    auto* made = new World;
    made->dir =
        std::filesystem::temp_directory_path() / ("ergon-router-fuzz-" + crypto::random_hex(6));
    auto store = server::MasterStore::create(made->dir, ERGON_REFERENCE_DIR, 2024,
                                             core::system_clock(), storage::Durability::kNormal);
    if (!store) std::abort();
    made->store.emplace(std::move(*store));
    made->router.emplace(*made->store);
    made->merge.emplace(*made->store);
    auto enrolment = made->store->enrol(merge::Role::kPlanning, "", "fuzzer");
    if (!enrolment) std::abort();
    made->token = enrolment->token;
    made->key = crypto::generate_signing_key();
    auto device = core::DeviceId::random();
    made->device_bytes.assign(reinterpret_cast<const char*>(device.bytes().data()), 16);
    if (!made->store->bind(enrolment->device_id, device, made->key.public_key)) std::abort();
    auto record = made->store->device(enrolment->device_id);
    if (!record) std::abort();
    made->admitted.record = *record;
    made->admitted.context.device_id = device;
    made->admitted.context.permission = merge::Permission{
        merge::Role::kPlanning, "", {{made->store->info().year, {}}}, {made->store->info().year}};
    for (int i = 0; i < 4; ++i) made->proposal_ids.push_back(core::ProposalId::random().hex());
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(world().dir, ignored);
    });
    return made;
  }();
  return *w;
}

std::string pick_field(FuzzedDataProvider& in) {
  auto fields = model::all_fields();
  if (in.ConsumeBool()) return in.ConsumeRandomLengthString(24);
  return std::string(fields[in.ConsumeIntegralInRange<std::size_t>(0, fields.size() - 1)].name);
}

void add_change(FuzzedDataProvider& in, World& w, wire::Change* c, std::uint64_t& next_seq) {
  c->set_device_id(in.ConsumeBool() ? w.device_bytes : in.ConsumeRandomLengthString(17));
  c->set_device_seq(in.ConsumeBool() ? next_seq++ : in.ConsumeIntegral<std::uint64_t>());
  c->set_entity_kind(static_cast<ergon::wire::EntityKind>(in.ConsumeIntegralInRange<int>(0, 4)));
  c->set_entity_key(in.ConsumeBool() ? w.proposal_ids[in.ConsumeIntegralInRange<std::size_t>(0, 3)]
                                     : in.ConsumeRandomLengthString(40));
  auto groups = model::all_groups();
  c->set_group(
      in.ConsumeBool()
          ? std::string(in.ConsumeBool()
                            ? std::string_view("create")
                            : groups[in.ConsumeIntegralInRange<std::size_t>(0, groups.size() - 1)])
          : in.ConsumeRandomLengthString(16));
  for (int n = in.ConsumeIntegralInRange(0, 12); n > 0; --n) {
    auto* v = c->add_values();
    v->set_name(pick_field(in));
    v->set_value(in.ConsumeRandomLengthString(64));
  }
  c->set_base_kind(static_cast<ergon::wire::BaseKind>(in.ConsumeIntegralInRange<int>(0, 3)));
  c->mutable_base_revision()->set_epoch(in.ConsumeIntegralInRange<std::uint64_t>(0, 2));
  c->mutable_base_revision()->set_seq(in.ConsumeIntegralInRange<std::uint64_t>(0, 64));
  c->set_base_own_seq(in.ConsumeIntegralInRange<std::uint64_t>(0, 64));
  c->set_hlc_wall_ms(in.ConsumeIntegral<std::int64_t>());
  c->set_hlc_logical(in.ConsumeIntegral<std::uint32_t>());
  c->set_user(in.ConsumeRandomLengthString(32));
}

std::string pick_stage(FuzzedDataProvider& in) {
  constexpr const char* kNames[] = {"draft",    "draft-1",   "consultation", "committee",
                                    "approved", "amendment", "amendment-1",  "draft-0"};
  if (in.ConsumeBool()) return in.ConsumeRandomLengthString(16);
  return kNames[in.ConsumeIntegralInRange<std::size_t>(0, std::size(kNames) - 1)];
}

// A stage move, mostly well-formed so that the stage machine and the freeze are reached.
void add_stage_move(FuzzedDataProvider& in, wire::StageMoveRequest* move) {
  constexpr const char* kActions[] = {"advance", "reopen", "close"};
  move->set_year(in.ConsumeBool() ? 0 : in.ConsumeIntegral<std::int32_t>());
  move->set_action(in.ConsumeBool()
                       ? std::string(kActions[in.ConsumeIntegralInRange<std::size_t>(0, 2)])
                       : in.ConsumeRandomLengthString(8));
  move->set_target(pick_stage(in));
  move->set_user(in.ConsumeRandomLengthString(32));
  auto* d = move->mutable_decision();
  d->set_number(in.ConsumeBool() ? "45/2024" : in.ConsumeRandomLengthString(16));
  d->set_date(in.ConsumeBool() ? "2024-02-20" : in.ConsumeRandomLengthString(12));
  d->set_ada(in.ConsumeRandomLengthString(16));
  d->set_body(in.ConsumeRandomLengthString(16));
}

using Master = std::map<std::string, ergon::model::FieldValues>;

Master master(World& w) {
  auto programme = w.store->programme({w.store->info().year, {}, 0});
  if (!programme) std::abort();
  return programme->proposals;
}

// The fields whose values differ between two versions of a proposal (all, when one is absent).
std::vector<std::string> changed_fields(const Master& before, const Master& after,
                                        const std::string& id) {
  auto b = before.find(id), a = after.find(id);
  std::vector<std::string> changed;
  for (const auto& field : model::all_fields()) {
    std::string name(field.name);
    auto value = [&](const Master::const_iterator& it,
                     const Master& m) -> std::optional<std::string> {
      if (it == m.end()) return std::nullopt;  // no such proposal
      auto v = it->second.find(name);
      return v == it->second.end() ? std::string() : v->second;
    };
    if (value(b, before) != value(a, after)) changed.push_back(name);
  }
  return changed;
}

// Applies a push one change at a time, checking after each accepted one that the master moved
// only inside that change's group.
void apply_checked(World& w, const server::PushJob& job) {
  for (const auto& change : job.changes) {
    auto before = master(w);
    auto outcomes = w.merge->apply_batch(w.admitted.context, std::span(&change, 1));
    if (!outcomes) continue;
    (void)w.router->push_reply(job.request_id, *outcomes);
    auto after = master(w);
    bool accepted = outcomes->size() == 1 &&
                    outcomes->front().kind == changelog::OutcomeKind::kAccepted &&
                    !outcomes->front().is_duplicate;
    std::set<std::string> ids;
    for (const auto& [id, values] : before) ids.insert(id);
    for (const auto& [id, values] : after) ids.insert(id);
    for (const auto& id : ids) {
      auto changed = changed_fields(before, after, id);
      if (changed.empty()) continue;
      bool is_target = accepted && change.entity.kind == changelog::EntityKind::kProposal &&
                       change.entity.key == id;
      if (!is_target) {
        std::fprintf(stderr, "proposal %s changed by a change it was not the target of\n",
                     id.c_str());
        std::abort();
      }
      if (change.group == changelog::kCreateGroup) continue;
      for (const auto& field : changed)
        if (model::find_field(field)->group != change.group) {
          std::fprintf(stderr, "a '%s' change moved '%s'\n", change.group.c_str(), field.c_str());
          std::abort();
        }
    }
  }
}

wire::Message next_message(FuzzedDataProvider& in, World& w, std::uint64_t& next_seq) {
  wire::Message m;
  m.set_request_id(in.ConsumeIntegral<std::uint64_t>());
  switch (in.ConsumeIntegralInRange(0, 9)) {
    case 0: {
      auto* h = m.mutable_hello();
      h->set_min_version(in.ConsumeIntegralInRange<std::uint32_t>(0, 2));
      h->set_max_version(in.ConsumeIntegralInRange<std::uint32_t>(0, 2));
      h->set_token(in.ConsumeBool() ? w.token : in.ConsumeRandomLengthString(100));
      h->set_client_device_id(in.ConsumeBool() ? w.device_bytes : in.ConsumeRandomLengthString(17));
      h->set_public_key(in.ConsumeBool() ? w.key.public_key : in.ConsumeRandomLengthString(33));
      h->set_proof(in.ConsumeRandomLengthString(65));
      break;
    }
    case 1:
      m.mutable_ping();
      break;
    case 2: {
      auto* p = m.mutable_pull();
      p->set_cursor(in.ConsumeBool() ? in.ConsumeIntegralInRange<std::uint64_t>(0, 200)
                                     : in.ConsumeIntegral<std::uint64_t>());
      p->set_max_entries(in.ConsumeIntegral<std::uint32_t>());
      p->set_bootstrap(in.ConsumeBool());
      break;
    }
    case 3:
    case 4:
      for (int n = in.ConsumeIntegralInRange(1, 8); n > 0; --n)
        add_change(in, w, m.mutable_push()->add_changes(), next_seq);
      break;
    case 5:
      add_stage_move(in, m.mutable_stage_move());
      break;
    case 6: {
      auto* p = m.mutable_programme();
      p->set_year(in.ConsumeBool() ? 2024 : in.ConsumeIntegral<std::int32_t>());
      p->set_stage(in.ConsumeBool() ? pick_stage(in) : std::string());
      p->set_as_of_ms(in.ConsumeBool() ? 0 : in.ConsumeIntegral<std::int64_t>());
      break;
    }
    case 7:
      m.mutable_stages()->set_year(in.ConsumeBool() ? 0 : in.ConsumeIntegral<std::int32_t>());
      break;
    case 8: {
      auto* start = m.mutable_year_start();
      start->set_year(in.ConsumeBool() ? 2025 : in.ConsumeIntegral<std::int32_t>());
      start->set_user(in.ConsumeRandomLengthString(600));
      break;
    }
    default: {
      auto parsed = wire::parse_message(in.ConsumeRandomLengthString(256));
      if (parsed) m = std::move(*parsed);
    }
  }
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& w = world();
  FuzzedDataProvider in(data, size);
  auto high_water = w.store->device(w.admitted.record.device_id);
  std::uint64_t next_seq = high_water ? high_water->high_water_mark + 1 : 1;
  for (int step = 0; step < 8 && in.remaining_bytes() > 0; ++step) {
    auto message = next_message(in, w, next_seq);
    if (message.has_hello()) {
      (void)w.router->admit(message.hello(), in.ConsumeRandomLengthString(32));
      continue;
    }
    auto routed = w.router->handle(message, w.admitted);
    if (!routed) continue;
    if (auto* job = std::get_if<server::PushJob>(&*routed)) apply_checked(w, *job);
    if (auto* write = std::get_if<server::WriteJob>(&*routed)) (void)write->work(*w.store);
  }
  return 0;
}
