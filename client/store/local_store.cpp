// The home: opening and creating it, its settings, and the reads the CLI makes.

#include "client/store/local_store.h"

#include <algorithm>
#include <cstdlib>

#include "client/store/local_schema.h"
#include "client/store/local_sql.h"
#include "shared/changelog/field_value_io.h"
#include "shared/core/numbers.h"
#include "shared/model/text.h"

namespace ergon::client {
namespace {

using core::ErrorCode;
using core::fail;
using model::Proposal;

constexpr std::pair<OutboxStatus, std::string_view> kOutboxStatusNames[] = {
    {OutboxStatus::kPending, "pending"},     {OutboxStatus::kAccepted, "accepted"},
    {OutboxStatus::kConflict, "conflict"},   {OutboxStatus::kRejected, "rejected"},
    {OutboxStatus::kDismissed, "dismissed"},
};

core::Result<Proposal> decode_proposal(std::string_view blob, const std::string& what) {
  auto values = changelog::decode_values(blob);
  if (!values) return fail(ErrorCode::kCorrupt, what + " is damaged: " + values.error().message);
  Proposal p;
  auto ok = model::apply_values(p, *values);
  if (!ok) return fail(ErrorCode::kCorrupt, what + " is damaged: " + ok.error().message);
  return p;
}

// The folded words of a search, in order.
std::vector<std::string> words_of(const std::string& folded) {
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start < folded.size()) {
    auto end = folded.find(' ', start);
    if (end == std::string::npos) end = folded.size();
    if (end > start) words.push_back(folded.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

}  // namespace

std::string_view to_string(OutboxStatus status) {
  for (const auto& [value, name] : kOutboxStatusNames)
    if (value == status) return name;
  return "pending";
}

core::Result<OutboxStatus> parse_outbox_status(std::string_view text) {
  for (const auto& [value, name] : kOutboxStatusNames)
    if (name == text) return value;
  return fail(ErrorCode::kCorrupt, "'" + std::string(text) + "' is not an outbox status");
}

std::filesystem::path resolve_home(const std::string& from_flag) {
  if (!from_flag.empty()) return from_flag;
  if (const char* env = std::getenv("ERGON_HOME"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "ergon";
  const char* user_home = std::getenv("HOME");
  return std::filesystem::path(user_home ? user_home : ".") / ".local" / "share" / "ergon";
}

LocalStore::LocalStore(std::filesystem::path home, storage::Database db, const core::Clock& clock)
    : home_(std::move(home)),
      db_(std::make_unique<storage::Database>(std::move(db))),
      statements_(std::make_unique<storage::StatementCache>(*db_)),
      hlc_(clock) {}
LocalStore::LocalStore(LocalStore&&) noexcept = default;
LocalStore::~LocalStore() = default;

core::Result<LocalStore> LocalStore::open(const std::filesystem::path& home,
                                          const core::Clock& clock) {
  std::error_code ec;
  if (!std::filesystem::exists(home / kDatabaseFile, ec))
    return fail(ErrorCode::kNotFound, "no Ergon home at " + home.string() +
                                          "; run 'ergon init --directorate CODE' first, or pass "
                                          "--home DIR / set ERGON_HOME");
  auto db = open_existing_home(home / kDatabaseFile);
  if (!db) return fail(db.error());
  LocalStore store(home, std::move(*db), clock);
  ERGON_TRY(store.load_settings());
  return store;
}

namespace {

// Copies the reference lists into the home: the client validates offline against them.
core::Result<model::ReferenceData> install_reference(const std::filesystem::path& home,
                                                     const std::filesystem::path& from_dir) {
  std::error_code ec;
  // A home made here is its user's alone (0700): it holds the device's token and key.
  bool is_new = !std::filesystem::exists(home, ec);
  std::filesystem::create_directories(home / kReferenceFolder, ec);
  if (!ec && is_new)
    std::filesystem::permissions(home, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  if (ec)
    return fail(ErrorCode::kStorage,
                "cannot create the home " + home.string() + ": " + ec.message());
  for (const auto& name : model::ReferenceData::file_names()) {
    auto source = from_dir.empty() ? model::default_reference_dir() : from_dir;
    auto from = source / name, to = home / kReferenceFolder / name;
    if (std::filesystem::exists(to, ec) && from_dir.empty()) continue;
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
    if (ec)
      return fail(ErrorCode::kNotFound, "cannot copy reference file " + from.string() + ": " +
                                            ec.message() + "; pass --reference DIR");
  }
  return model::ReferenceData::load(home / kReferenceFolder);
}

core::Status check_init_options(const InitOptions& options, const model::ReferenceData& reference) {
  if (!options.directorate.empty() && !reference.directorate(options.directorate))
    return fail(ErrorCode::kInvalidArgument,
                "directorate: '" + options.directorate +
                    "' is not a directorate code; see directorates.csv (e.g. DTE)");
  if (options.year && !reference.allowed_categories.contains(*options.year))
    return fail(ErrorCode::kInvalidArgument, "year: " + std::to_string(*options.year) +
                                                 " has no programme in the reference data");
  return {};
}

}  // namespace

core::Result<LocalStore> LocalStore::init(const std::filesystem::path& home,
                                          const InitOptions& options, const core::Clock& clock) {
  auto reference = install_reference(home, options.reference_dir);
  if (!reference) return fail(reference.error());
  ERGON_TRY(check_init_options(options, *reference));
  std::error_code ec;
  {
    // An existing home is opened as one, never re-created: damage stays visible.
    auto db = std::filesystem::exists(home / kDatabaseFile, ec)
                  ? open_existing_home(home / kDatabaseFile)
                  : storage::Database::open(home / kDatabaseFile, storage::Durability::kNormal);
    if (!db) return fail(db.error());
    ERGON_TRY(storage::migrate(*db, local_migrations()));
    storage::StatementCache statements(*db);
    auto tx = db->begin_immediate();
    if (!tx) return fail(tx.error());
    auto set = [&](std::string_view sql, std::string_view key, std::string_view value) {
      auto stmt = statements.get(sql);
      if (!stmt) return core::Status(fail(stmt.error()));
      return (*stmt)->bind(1, key).bind(2, value).run();
    };
    // The device id is created once and never changes: offline edits are numbered under it.
    ERGON_TRY(set(sql::kKeepMeta, "device_id", core::DeviceId::random().hex()));
    auto key = crypto::generate_signing_key().private_key;
    ERGON_TRY(set(sql::kKeepMeta, "device_key",
                  core::to_hex(reinterpret_cast<const std::uint8_t*>(key.data()), key.size())));
    ERGON_TRY(set(sql::kKeepMeta, "next_seq", "1"));
    ERGON_TRY(set(sql::kKeepMeta, "role", "directorate"));
    int default_year = reference->allowed_categories.empty()
                           ? 2024
                           : reference->allowed_categories.rbegin()->first;
    ERGON_TRY(set(sql::kKeepMeta, "year", std::to_string(default_year)));
    ERGON_TRY(set(sql::kKeepMeta, "directorate", ""));
    ERGON_TRY(set(sql::kKeepMeta, "user", ""));
    if (!options.directorate.empty())
      ERGON_TRY(set(sql::kSetMeta, "directorate", options.directorate));
    if (!options.user.empty()) ERGON_TRY(set(sql::kSetMeta, "user", options.user));
    if (options.year) ERGON_TRY(set(sql::kSetMeta, "year", std::to_string(*options.year)));
    ERGON_TRY(tx->commit());
  }
  return open(home, clock);
}

core::Status LocalStore::load_settings() {
  auto device = meta("device_id");
  if (!device && device.error().code == ErrorCode::kNotFound)
    return fail(damaged_home(home_ / kDatabaseFile, "it has no device id"));
  if (!device) return fail(device.error());
  auto id = core::DeviceId::parse(*device);
  if (!id)
    return fail(ErrorCode::kCorrupt, "the home's device id is damaged: " + id.error().message);
  device_.device_id = *id;
  device_.directorate = setting("directorate");
  device_.user = setting("user");
  auto role = merge::parse_role(setting("role"));
  auto year = core::parse_number<int>(setting("year"), "the home's programme year");
  if (!role || !year)
    return fail(
        damaged_home(home_ / kDatabaseFile, !role ? role.error().message : year.error().message));
  device_.role = *role;
  device_.year = *year;
  device_.years = parse_years_text(setting("years"));
  auto wall = core::parse_number<std::int64_t>(setting("hlc_wall"), "hlc_wall");
  auto logical = core::parse_number<std::uint32_t>(setting("hlc_logical"), "hlc_logical");
  if (wall && logical) hlc_.observe(core::Hlc{*wall, *logical});  // unset before the first edit
  auto reference = model::ReferenceData::load(home_ / kReferenceFolder);
  if (!reference) return fail(reference.error());
  reference_ = std::move(*reference);
  return {};
}

merge::Permission LocalStore::permission(merge::Role unknown_as) const {
  bool knows_identity = device_.role != merge::Role::kDirectorate || !device_.directorate.empty();
  merge::Permission p{knows_identity ? device_.role : unknown_as, device_.directorate, {}, {}};
  merge::set_years(p, device_.years);
  return p;
}

std::string years_text(const std::vector<merge::YearStage>& years) {
  std::string out;
  for (const auto& y : years)
    out += (out.empty() ? "" : ";") + std::to_string(y.year) + " " + y.stage + " " +
           (y.is_amendment_open ? "1" : "0");
  return out;
}

std::vector<merge::YearStage> parse_years_text(std::string_view text) {
  std::vector<merge::YearStage> years;
  while (!text.empty()) {
    auto end = text.find(';');
    auto item = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    auto first = item.find(' ');
    auto last = item.rfind(' ');
    if (first == std::string_view::npos || last == first) return {};
    auto year = core::parse_number<int>(item.substr(0, first), "year");
    if (!year) return {};
    merge::YearStage y;
    y.year = *year;
    y.stage = std::string(item.substr(first + 1, last - first - 1));
    y.is_amendment_open = item.substr(last + 1) == "1";
    years.push_back(std::move(y));
  }
  return years;
}

core::Result<storage::Statement*> LocalStore::statement(std::string_view sql) {
  return statements_->get(sql);
}

core::Result<std::string> LocalStore::meta(std::string_view key) {
  auto stmt = statement(sql::kGetMeta);
  if (!stmt) return fail(stmt.error());
  (*stmt)->bind(1, key);
  auto values = (*stmt)->collect<std::string>([](auto& s) { return s.column_text(0); });
  if (!values) return fail(values.error());
  if (values->empty())
    return fail(ErrorCode::kNotFound, "setting " + std::string(key) + " is not set");
  return values->front();
}

core::Status LocalStore::set_meta(std::string_view key, std::string_view value) {
  auto stmt = statement(sql::kSetMeta);
  if (!stmt) return fail(stmt.error());
  return (*stmt)->bind(1, key).bind(2, value).run();
}

std::string LocalStore::setting(std::string_view key) { return meta(key).value_or(""); }

core::Status LocalStore::set_setting(std::string_view key, std::string_view value) {
  return in_transaction([&] { return set_meta(key, value); });
}

core::Result<crypto::SigningKey> LocalStore::device_key() {
  auto stored = meta("device_key");
  if (!stored && stored.error().code != ErrorCode::kNotFound) return fail(stored.error());
  if (!stored) {
    auto made = crypto::generate_signing_key();
    ERGON_TRY(set_meta("device_key",
                       core::to_hex(reinterpret_cast<const std::uint8_t*>(made.private_key.data()),
                                    made.private_key.size())));
    return made;
  }
  auto first = core::parse_hex16(stored->substr(0, 32));
  auto second = core::parse_hex16(stored->size() == 64 ? stored->substr(32) : std::string());
  std::optional<crypto::SigningKey> key;
  if (first && second) {
    std::string raw(first->begin(), first->end());
    raw.append(second->begin(), second->end());
    key = crypto::signing_key_from_private(raw);
  }
  if (!key)
    return fail(ErrorCode::kCorrupt,
                "the home's device key is damaged; the server will not accept this client until "
                "it is re-enrolled with a new home (ergon init --home NEW …)");
  return *key;
}

std::optional<std::int64_t> LocalStore::last_sync_ms() {
  auto value = core::parse_number<std::int64_t>(setting("last_sync_ms"), "last_sync_ms");
  if (!value) return std::nullopt;
  return *value;
}

std::string LocalStore::last_sync_error() { return setting("last_sync_error"); }

core::Result<core::ProposalId> LocalStore::resolve_id(std::string_view text) {
  std::string prefix(model::trim(text));
  for (auto& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!core::is_hex_prefix(prefix) || prefix.size() < 8)
    return fail(ErrorCode::kInvalidArgument,
                "'" + std::string(text) +
                    "' is not a proposal id: give the id or its first 8 or more hex digits "
                    "(see 'ergon list')");
  auto stmt = statement(sql::kViewByIdPrefix);
  if (!stmt) return fail(stmt.error());
  (*stmt)->bind(1, prefix).bind(2, prefix + "g");  // 'g' sorts after every hex digit
  auto found = (*stmt)->collect<std::string>([](auto& s) { return s.column_text(0); });
  if (!found) return fail(found.error());
  if (found->empty())
    return fail(ErrorCode::kNotFound, "no proposal has an id starting with " + prefix);
  if (found->size() > 1) {
    std::string list;
    for (const auto& f : *found) list += (list.empty() ? "" : ", ") + f;
    return fail(ErrorCode::kAmbiguous, "the id prefix " + prefix + " matches several proposals (" +
                                           list + "); give more digits");
  }
  return core::ProposalId::parse(found->front());
}

core::Result<Proposal> LocalStore::get(const core::ProposalId& id) {
  auto stmt = statement(sql::kViewGet);
  if (!stmt) return fail(stmt.error());
  (*stmt)->bind(1, id.hex());
  auto found = (*stmt)->collect<Proposal>(
      [&](auto& s) { return decode_proposal(s.column_blob(0), "stored proposal " + id.hex()); });
  if (!found) return fail(found.error());
  if (found->empty()) return fail(ErrorCode::kNotFound, "no proposal " + id.hex());
  return std::move(found->front());
}

core::Result<std::vector<Proposal>> LocalStore::list(const ListFilter& filter) {
  auto stmt = statement(sql::kViewList);
  if (!stmt) return fail(stmt.error());
  auto words = words_of(model::fold_for_search(filter.search));
  (*stmt)
      ->bind(1, filter.directorate)
      .bind(2, filter.state ? model::to_string(*filter.state) : std::string_view())
      .bind(3, filter.year.value_or(0));
  for (int i = 0; i < sql::kListSearchWords; ++i) {
    auto index = static_cast<std::size_t>(i);
    (*stmt)->bind(4 + i, index < words.size() ? std::string_view(words[index]) : "");
  }
  std::vector<Proposal> out;
  ERGON_TRY((*stmt)->for_each([&](storage::Statement& s) -> core::Status {
    if (words.size() > sql::kListSearchWords) {
      auto key = s.column_text(1);
      for (const auto& w : words)
        if (key.find(w) == std::string::npos) return {};
    }
    auto p = decode_proposal(s.column_blob(0), "a stored proposal");
    if (!p) return fail(p.error());
    out.push_back(std::move(*p));
    return {};
  }));
  return out;
}

core::Status LocalStore::write_view(const Proposal& p, const std::string* encoded) {
  auto stmt = statement(sql::kViewPut);
  if (!stmt) return fail(stmt.error());
  auto values = encoded ? std::string() : changelog::encode_values(model::all_values(p));
  std::string search = model::fold_for_search(p.title + " " + p.remarks);
  (*stmt)
      ->bind(1, p.id.hex())
      .bind(2, p.year)
      .bind(3, p.directorate)
      .bind(4, p.ka_code ? std::string_view(p.ka_code->canonical()) : std::string_view())
      .bind(5, model::fold_for_search(p.title))
      .bind(6, model::to_string(p.state))
      .bind(7, search)
      .bind(8, storage::Blob{encoded ? *encoded : values});
  return (*stmt)->run();
}

core::Result<std::vector<ClientConflict>> LocalStore::conflicts() {
  auto list = statement(sql::kConflicts);
  if (!list) return fail(list.error());
  auto out =
      (*list)->collect<ClientConflict>([](storage::Statement& s) -> core::Result<ClientConflict> {
        auto status = s.column_text(4);
        if (status != "open" && status != "resolved")
          return fail(ErrorCode::kCorrupt, "a stored conflict has the status '" + status + "'");
        return ClientConflict{{s.column_uint64(0), s.column_uint64(1)},
                              s.column_text(2),
                              s.column_text(3),
                              status == "open" ? ConflictStatus::kOpen : ConflictStatus::kResolved,
                              {}};
      });
  if (!out) return fail(out.error());
  auto members = statement(sql::kConflictChanges);
  if (!members) return fail(members.error());
  for (auto& c : *out) {
    (*members)->bind(1, c.id.epoch).bind(2, c.id.seq);
    auto incoming =
        (*members)->collect<ParkedChange>([](storage::Statement& s) -> core::Result<ParkedChange> {
          auto values = changelog::decode_values(s.column_blob(4));
          auto device = core::DeviceId::parse(s.column_text(1));
          if (!values || !device)
            return fail(ErrorCode::kCorrupt, "parked change " + s.column_text(0) + " is damaged");
          return ParkedChange{s.column_text(0), *device, s.column_text(2), s.column_int64(3),
                              std::move(*values)};
        });
    if (!incoming) return fail(incoming.error());
    c.incoming = std::move(*incoming);
  }
  return out;
}

core::Result<std::map<std::string, model::Money>> LocalStore::envelope_view(int year) {
  auto prefix = std::to_string(year) + ":";
  std::map<std::string, model::Money> envelopes;  // source → amount, as this client sees it
  auto synced = statement(sql::kServerEnvelopes);
  if (!synced) return fail(synced.error());
  ERGON_TRY((*synced)->for_each([&](storage::Statement& s) {
    auto key = s.column_text(0);
    if (key.starts_with(prefix))
      envelopes[key.substr(prefix.size())] = model::Money::from_cents(s.column_int64(1));
  }));
  auto pending = outbox(true);
  if (!pending) return fail(pending.error());
  for (const auto& e : *pending) {
    const auto& c = e.change;
    if (c.entity.kind != changelog::EntityKind::kEnvelope || !c.entity.key.starts_with(prefix))
      continue;
    auto it = c.values.find("amount");
    auto amount = model::Money::parse(it == c.values.end() ? "" : it->second);
    if (!amount) return fail(ErrorCode::kCorrupt, "a pending envelope change is damaged");
    envelopes[c.entity.key.substr(prefix.size())] = *amount;
  }
  return envelopes;
}

core::Result<std::vector<merge::EnvelopeUse>> LocalStore::envelope_uses(int year) {
  auto envelopes = envelope_view(year);
  if (!envelopes) return fail(envelopes.error());
  ListFilter of_year;
  of_year.year = year;
  auto proposals = list(of_year);
  if (!proposals) return fail(proposals.error());
  return merge::envelope_uses(year, *proposals, *envelopes);
}

core::Result<std::map<std::string, ExportMark>> LocalStore::export_marks() {
  auto next = meta("next_seq");
  if (!next) return fail(next.error());
  auto next_seq = core::parse_number<std::uint64_t>(*next, "the home's next change number");
  if (!next_seq) return fail(ErrorCode::kCorrupt, next_seq.error().message);
  const ExportMark unseen{{}, device_.device_id.hex(), *next_seq - 1};
  std::map<std::string, ExportMark> marks;
  auto ids = statement("SELECT id FROM proposals");
  if (!ids) return fail(ids.error());
  ERGON_TRY((*ids)->for_each([&](storage::Statement& s) { marks[s.column_text(0)] = unseen; }));
  auto revisions = statement(sql::kServerRevisionsAll);
  if (!revisions) return fail(revisions.error());
  ERGON_TRY((*revisions)->for_each([&](storage::Statement& s) {
    auto it = marks.find(s.column_text(0));
    changelog::Revision r{s.column_uint64(1), s.column_uint64(2)};
    if (it != marks.end() && it->second.seen < r) it->second.seen = r;
  }));
  return marks;
}

}  // namespace ergon::client
