#pragma once
// The harness's clients: directorate laptops with their own homes bound to a real server, and
// the seeded offline work they do (Greek titles, realistic money, edits of three kinds, a share
// on proposals another laptop of the same directorate also edits). Exits on any failure: a
// benchmark that lost an edit has no number to report.

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/harness_server.h"
#include "client/store/local_store.h"
#include "client/sync/sync_session.h"

namespace bench {

struct Laptop {
  std::string directorate;
  std::unique_ptr<ergon::client::LocalStore> store;
  std::vector<ergon::core::ProposalId> own;
};

/// A new home at `home` for `directorate` (empty for planning), enrolled as `role`.
Laptop make_laptop(HarnessServer& server, const std::filesystem::path& home,
                   const std::string& role, const std::string& directorate);
/// One sync; exits with the reason on failure.
ergon::client::SyncReport sync(Laptop& laptop);
/// `count` new drafts of the laptop's directorate, offline; `serial` numbers their titles.
void create_proposals(Laptop& laptop, std::mt19937_64& rng, int count, int& serial);
/// `count` offline edits, one in ten on `shared` (may be empty).
void make_edits(Laptop& laptop, const std::vector<ergon::core::ProposalId>& shared,
                std::mt19937_64& rng, int count);
/// A Greek title of five words from a works vocabulary, numbered `n`.
std::string random_title(std::mt19937_64& rng, int n);
/// Stops the harness with `what` and the reason when `s` failed.
void require(const ergon::core::Status& s, const std::string& what);

}  // namespace bench
