#include "bench/harness_workload.h"

#include <cstdlib>
#include <iostream>

namespace bench {

using ergon::client::LocalStore;

void require(const ergon::core::Status& s, const std::string& what) {
  if (s) return;
  std::cerr << "sync_harness: " << what << ": " << s.error().message << "\n";
  std::exit(1);
}

namespace {

const char* const kWords[] = {"Ανάπλαση",  "πλατείας",    "Οδοποιία", "Ασφαλτοστρώσεις",
                              "σχολικού",  "κτιρίου",     "δικτύου",  "ύδρευσης",
                              "Συντήρηση", "πεζοδρομίων", "πάρκου",   "Αγίου Μύρωνα"};

template <class T>
T take(ergon::core::Result<T> r, const std::string& what) {
  if (!r) {
    std::cerr << "sync_harness: " << what << ": " << r.error().message << "\n";
    std::exit(1);
  }
  return std::move(*r);
}

}  // namespace

std::string random_title(std::mt19937_64& rng, int n) {
  std::string t;
  for (int w = 0; w < 5; ++w) t += std::string(kWords[rng() % std::size(kWords)]) + " ";
  return t + "αρ. " + std::to_string(n);
}

Laptop make_laptop(HarnessServer& server, const std::filesystem::path& home,
                   const std::string& role, const std::string& directorate) {
  ergon::client::InitOptions options;
  options.directorate = directorate;
  options.user = "Χρήστης " + home.filename().string();
  options.year = 2024;
  options.reference_dir = ergon::model::default_reference_dir();
  auto store = take(LocalStore::init(home, options), "init " + home.string());
  require(store.set_setting("server", server.address()), "server");
  require(store.set_setting("token", server.enrol(role, directorate)), "token");
  require(store.set_setting("fingerprint", server.fingerprint()), "fingerprint");
  require(store.set_setting("insecure", "0"), "insecure");
  return {directorate, std::make_unique<LocalStore>(std::move(store)), {}};
}

ergon::client::SyncReport sync(Laptop& laptop) {
  ergon::client::SyncOptions options;
  options.timeout = std::chrono::minutes(5);
  return take(ergon::client::sync_once(*laptop.store, options), "sync " + laptop.directorate);
}

// Creates `count` drafts of the laptop's directorate, offline.
void create_proposals(Laptop& laptop, std::mt19937_64& rng, int count, int& serial) {
  for (int i = 0; i < count; ++i) {
    auto euros = 100'000 + rng() % 2'000'000;
    auto allocation = std::to_string(euros / 4) + ".00";
    auto p = take(laptop.store->create({{"title", random_title(rng, ++serial)},
                                        {"category", "work"},
                                        {"new_or_continuing", "new"},
                                        {"area", "HER-CITY"},
                                        {"total_budget", std::to_string(euros) + ".00"},
                                        {"allocation", allocation},
                                        {"funding", "1099=" + allocation},
                                        {"status", "maturing"},
                                        {"priority", "B"}}),
                  "create");
    laptop.own.push_back(p.id);
  }
}

// Edits offline: remarks, titles and money, on its own proposals and (a share) the shared ones.
void make_edits(Laptop& laptop, const std::vector<ergon::core::ProposalId>& shared,
                std::mt19937_64& rng, int count) {
  for (int i = 0; i < count; ++i) {
    bool on_shared = !shared.empty() && rng() % 10 == 0;
    const auto& pool = on_shared ? shared : laptop.own;
    const auto& id = pool[rng() % pool.size()];
    ergon::model::FieldValues values;
    switch (rng() % 3) {
      case 0:
        values = {{"remarks", "Σημείωση " + std::to_string(rng() % 100000)}};
        break;
      case 1:
        values = {{"title", random_title(rng, i)}};
        break;
      default: {
        auto allocation = std::to_string(1'000 + rng() % 20'000) + ".00";
        values = {{"allocation", allocation}, {"funding", "1099=" + allocation}};
      }
    }
    take(laptop.store->edit(id, values), "edit");
  }
}

}  // namespace bench
