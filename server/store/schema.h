#pragma once
// The master store's schema, one migration per version. Append-only log rows are guarded by
// triggers, so not even a bug in this process can rewrite history.

#include <vector>

#include "shared/storage/database.h"

namespace ergon::server {

const std::vector<storage::Migration>& master_migrations();

}  // namespace ergon::server
