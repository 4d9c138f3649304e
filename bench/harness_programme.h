#pragma once
// A large programme for the first-sync measure, written into a server's data folder in this
// process through MergeService (every merge rule, one transaction per 1,000 changes), as a
// planning device's pushes would be: faster than a client could push it, with the same log,
// chain and master. The server must not be serving the folder meanwhile.

#include <cstddef>
#include <filesystem>
#include <random>

namespace bench {

/// Field values a proposal holds: every field of the model, set or empty.
inline constexpr std::size_t kFieldsPerProposal = 19;

/// `count` new proposals (Greek titles, realistic money, the reference's directorates in turn).
void seed_proposals(const std::filesystem::path& data, std::size_t count, std::mt19937_64& rng);
/// `per_proposal` single-group edits of every proposal (remarks, titles, money in turn).
void seed_history(const std::filesystem::path& data, std::size_t per_proposal,
                  std::mt19937_64& rng);
/// The master's snapshot in its wire encoding, compressed with zstd level 3: the bytes a first
/// sync is compared with.
std::size_t snapshot_zstd_bytes(const std::filesystem::path& data);

}  // namespace bench
