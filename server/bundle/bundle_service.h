#pragma once
// Answering an offline bundle (`ergond bundle apply`): the request is authenticated like a
// hello (its enrolment's bundle key stands for the token, its device key signs it, and a first
// bundle binds the device), its pushes go through the same merge as a sync's, and the answer
// holds the pull pages a sync would have fetched, signed with the server's key. Runs beside a
// serving ergond on the same folder: SQLite serialises the writes.

#include <filesystem>
#include <string>

#include "shared/core/result.h"

namespace ergon::server::bundle {

struct Applied {
  std::string enrolment;
  std::size_t changes = 0;
  std::size_t accepted = 0;
  std::size_t conflicts = 0;
  std::size_t rejected = 0;
  std::size_t duplicates = 0;
  std::size_t pages = 0;
  bool bootstrap = false;
  bool pushes_skipped = false;  // the client had not yet met this epoch: it re-sends next time
  std::uint64_t head = 0;
};

core::Result<Applied> apply_bundle(const std::filesystem::path& data,
                                   const std::filesystem::path& in,
                                   const std::filesystem::path& out);

}  // namespace ergon::server::bundle
