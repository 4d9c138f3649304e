#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "shared/changelog/change.h"
#include "shared/changelog/log_entry.h"
#include "shared/changelog/outcome.h"
#include "shared/changelog/snapshot.h"
#include "shared/core/error.h"
#include "shared/crypto/crypto.h"
#include "shared/model/fields.h"
#include "shared/wire/convert.h"
#include "shared/wire/frame.h"

#include "shared/proto/ergon.pb.h"

using Catch::Matchers::Contains;
using ergon::core::ErrorCode;
using ergon::wire::check_frame_length;
using ergon::wire::encode_frame;
using ergon::wire::FrameDecoder;
using ergon::wire::from_proto;
using ergon::wire::kCompressAbove;
using ergon::wire::kMaxFrameBytes;
using ergon::wire::Message;
using ergon::wire::parse_message;
using ergon::wire::to_proto;
using google::protobuf::util::MessageDifferencer;

namespace changelog = ergon::changelog;
namespace wire = ergon::wire;

namespace {

std::array<std::uint8_t, 16> id_bytes(std::uint8_t first) {
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(first + i);
  return bytes;
}

std::string id_string(std::uint8_t first) {
  auto bytes = id_bytes(first);
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

ergon::crypto::Digest digest_of(std::string_view text) { return ergon::crypto::sha256(text); }

changelog::Change sample_change() {
  changelog::Change c;
  c.device_id = ergon::core::DeviceId(id_bytes(0xA0));
  c.device_seq = 7;
  c.entity = {changelog::EntityKind::kProposal, "0123456789abcdef0123456789abcdef"};
  c.group = "money";
  c.values = {{"allocation", "800000.00"}, {"funding", "1099=800000.00"}};
  c.base.kind = changelog::Base::Kind::kRevision;
  c.base.revision = {3, 41};
  c.client_time = {1700000000123, 2};
  c.user = "Μαρία";
  return c;
}

changelog::Outcome sample_outcome() {
  changelog::Outcome o;
  o.change_id = changelog::change_id(sample_change());
  o.kind = changelog::OutcomeKind::kConflict;
  o.position = {3, 42};
  o.is_new_revision = false;
  o.conflict = changelog::Revision{3, 40};
  o.reason = "money edited concurrently";
  o.is_duplicate = true;
  return o;
}

// The frame's length prefix must describe its body; the body must parse back.
Message round_trip(const Message& message) {
  auto frame = encode_frame(message);
  REQUIRE(frame.size() > 4);
  auto length = check_frame_length(reinterpret_cast<const unsigned char*>(frame.data()));
  REQUIRE(length.has_value());
  REQUIRE(std::size_t{*length} == frame.size() - 4);
  auto parsed = parse_message(std::string_view(frame).substr(4));
  INFO((parsed ? std::string() : parsed.error().message));
  REQUIRE(parsed.has_value());
  return *parsed;
}

std::string header(std::uint32_t length) {
  return {static_cast<char>(length >> 24), static_cast<char>((length >> 16) & 0xff),
          static_cast<char>((length >> 8) & 0xff), static_cast<char>(length & 0xff)};
}

const unsigned char* as_header(const std::string& bytes) {
  return reinterpret_cast<const unsigned char*>(bytes.data());
}

// A Message whose body is a Compressed that declares `size` and carries `zstd`.
std::string compressed_body(std::string zstd, std::uint64_t size) {
  Message outer;
  outer.set_request_id(5);
  outer.mutable_compressed()->set_zstd(std::move(zstd));
  outer.mutable_compressed()->set_size(size);
  return outer.SerializeAsString();
}

void check_same(const changelog::LogEntry& got, const changelog::LogEntry& want) {
  CHECK(got.change == want.change);
  CHECK(got.outcome == want.outcome);
  CHECK(got.hash == want.hash);
}

void check_refused(const ergon::core::Error& error, std::string_view why) {
  CHECK(error.code == ErrorCode::kProtocol);
  CHECK_THAT(error.message, Contains(std::string(why)));
}

}  // namespace

// --- frames ---

TEST_CASE("every message body survives encode_frame and parse_message", "[wire]") {
  Message m;
  m.set_request_id(77);
  SECTION("hello, with the device key and its proof") {
    auto* h = m.mutable_hello();
    h->set_min_version(1);
    h->set_max_version(3);
    h->set_token("7ea7d738.c2VjcmV0");
    h->set_client_device_id(id_string(0x10));
    h->set_user("Μαρία Παπαδάκη");
    h->set_public_key(std::string(32, '\x01'));
    h->set_proof(std::string(64, '\x02'));
  }
  SECTION("welcome") {
    auto* w = m.mutable_welcome();
    w->set_version(2);
    w->set_server_id("srv-1");
    w->set_epoch(4);
    w->set_role("directorate");
    w->set_directorate("DTE");
    w->set_year(2024);
    w->set_high_water_mark(19);
    w->set_backup_seq(3);
    w->set_enrolled_device_id("7ea7d738");
    w->set_stage("draft");
  }
  SECTION("push, with changes") {
    to_proto(sample_change(), m.mutable_push()->add_changes());
    auto second = sample_change();
    second.device_seq = 8;
    second.entity = {changelog::EntityKind::kEnvelope, "2024:1099"};
    second.values = {{"amount", "1000.00"}};
    to_proto(second, m.mutable_push()->add_changes());
  }
  SECTION("push_reply") {
    to_proto(sample_outcome(), m.mutable_push_reply()->add_outcomes());
    to_proto(changelog::Outcome{}, m.mutable_push_reply()->add_outcomes());
  }
  SECTION("pull, continuing a bootstrap") {
    auto* p = m.mutable_pull();
    p->set_cursor(100);
    p->set_max_entries(500);
    p->set_bootstrap(true);
    p->set_snapshot_after("0123456789abcdef0123456789abcdef");
    p->set_snapshot_done(true);
    p->set_own_after(12);
  }
  SECTION("pull_reply, with a snapshot, entries and own entries") {
    auto* r = m.mutable_pull_reply();
    changelog::Snapshot snapshot;
    snapshot.cursor = 9;
    snapshot.envelopes["2024:1099"] = ergon::model::Money::from_cents(12345);
    to_proto(snapshot, r->mutable_snapshot());
    changelog::LogEntry entry{sample_change(), sample_outcome(), digest_of("h")};
    to_proto(entry, r->add_entries());
    to_proto(entry, r->add_own());
    r->set_last_page(true);
    r->set_digest(std::string(32, '\x03'));
    r->set_chain_head(std::string(32, '\x04'));
    r->set_head_seq(42);
    r->set_snapshot_more(true);
    r->set_snapshot_next("fedcba98765432100123456789abcdef");
    r->set_own_more(true);
  }
  SECTION("error") {
    m.mutable_error()->set_code(wire::STAGE_LOCKED);
    m.mutable_error()->set_message("the programme is frozen");
  }
  SECTION("ping") { m.mutable_ping(); }
  SECTION("pong") { m.mutable_pong(); }

  auto back = round_trip(m);
  CHECK(back.body_case() == m.body_case());
  CHECK(back.request_id() == 77);
  CHECK(MessageDifferencer::Equals(back, m));
}

TEST_CASE("a message above kCompressAbove travels compressed and comes back equal", "[wire]") {
  Message m;
  m.set_request_id(9);
  auto* push = m.mutable_push();
  auto change = sample_change();
  change.values = {{"remarks", std::string(kCompressAbove, 'x')}};
  to_proto(change, push->add_changes());
  REQUIRE(m.ByteSizeLong() > kCompressAbove);

  auto frame = encode_frame(m);
  Message raw;
  REQUIRE(raw.ParseFromArray(frame.data() + 4, static_cast<int>(frame.size() - 4)));
  CHECK(raw.has_compressed());
  CHECK(raw.compressed().size() == m.ByteSizeLong());
  CHECK(raw.request_id() == 9);
  CHECK(frame.size() < m.ByteSizeLong() / 10);  // 64 KiB of 'x' packs to almost nothing

  auto back = round_trip(m);
  CHECK(MessageDifferencer::Equals(back, m));
}

TEST_CASE("a message of exactly kCompressAbove bytes travels plain, one more compressed",
          "[wire]") {
  // The text length that makes the serialized message exactly kCompressAbove bytes.
  Message m;
  std::size_t text = kCompressAbove;
  do {
    m.mutable_error()->set_message(std::string(--text, 'e'));
  } while (m.ByteSizeLong() > kCompressAbove);
  REQUIRE(m.ByteSizeLong() == kCompressAbove);
  auto is_compressed = [](const std::string& frame) {
    Message raw;
    REQUIRE(raw.ParseFromArray(frame.data() + 4, static_cast<int>(frame.size() - 4)));
    return raw.has_compressed();
  };
  CHECK_FALSE(is_compressed(encode_frame(m)));
  m.mutable_error()->set_message(std::string(text + 1, 'e'));
  REQUIRE(m.ByteSizeLong() == kCompressAbove + 1);
  CHECK(is_compressed(encode_frame(m)));
  CHECK(MessageDifferencer::Equals(round_trip(m), m));
}

TEST_CASE("a compressed body declaring more than the caller allows is kTooLarge unopened",
          "[wire]") {
  Message m;
  m.mutable_error()->set_message(std::string(kCompressAbove * 2, 'y'));
  auto frame = encode_frame(m);
  std::string_view body = std::string_view(frame).substr(4);

  SECTION("a real compressed message, one byte above the caller's cap") {
    auto declared = m.ByteSizeLong();
    auto parsed = parse_message(body, declared - 1);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == ErrorCode::kTooLarge);
    CHECK(parse_message(body, declared).has_value());
  }
  SECTION("garbage in place of zstd: the size is refused before any unpacking") {
    // Were it unpacked first, this would be kProtocol ("does not decompress").
    auto parsed = parse_message(compressed_body("not zstd at all", 1u << 30), 1u << 20);
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == ErrorCode::kTooLarge);
  }
  SECTION("the caller's cap never exceeds kMaxDecompressedBytes") {
    auto parsed =
        parse_message(compressed_body("zz", wire::kMaxDecompressedBytes + 1), ~std::size_t{0});
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == ErrorCode::kTooLarge);
  }
}

TEST_CASE("a compressed body that lies or nests is a protocol error", "[wire]") {
  Message m;
  m.mutable_error()->set_message(std::string(kCompressAbove * 2, 'y'));
  auto frame = encode_frame(m);
  Message outer;
  REQUIRE(outer.ParseFromArray(frame.data() + 4, static_cast<int>(frame.size() - 4)));
  REQUIRE(outer.has_compressed());
  const auto& zstd = outer.compressed().zstd();

  SECTION("a declared size that differs from the zstd header") {
    auto parsed = parse_message(compressed_body(zstd, outer.compressed().size() - 1));
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == ErrorCode::kProtocol);
  }
  SECTION("bytes that are not zstd") {
    auto parsed = parse_message(compressed_body("not zstd at all", 100));
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == ErrorCode::kProtocol);
  }
  SECTION("a Compressed inside a Compressed") {
    // A Message whose body is a Compressed, big enough that encode_frame compresses it again.
    Message big = outer;
    big.mutable_compressed()->set_zstd(zstd + std::string(kCompressAbove, 'z'));
    auto twice = encode_frame(big);
    Message wrapper;
    REQUIRE(wrapper.ParseFromArray(twice.data() + 4, static_cast<int>(twice.size() - 4)));
    REQUIRE(wrapper.has_compressed());
    auto parsed = parse_message(std::string_view(twice).substr(4));
    REQUIRE_FALSE(parsed.has_value());
    CHECK(parsed.error().code == ErrorCode::kProtocol);
  }
  SECTION("a declared size of zero") {
    auto parsed = parse_message(compressed_body(zstd, 0));
    REQUIRE_FALSE(parsed.has_value());
  }
}

TEST_CASE("bytes that are not a message are a protocol error", "[wire]") {
  auto parsed = parse_message(std::string("\xff\xff\xff\xff\xff", 5));
  REQUIRE_FALSE(parsed.has_value());
  CHECK(parsed.error().code == ErrorCode::kProtocol);
}

TEST_CASE("a frame length of 0 is kProtocol and above the cap kTooLarge", "[wire]") {
  SECTION("zero") {
    auto length = check_frame_length(as_header(header(0)));
    REQUIRE_FALSE(length.has_value());
    CHECK(length.error().code == ErrorCode::kProtocol);
  }
  SECTION("the default cap and one above it") {
    auto at = check_frame_length(as_header(header(kMaxFrameBytes)));
    REQUIRE(at.has_value());
    CHECK(*at == kMaxFrameBytes);
    auto above = check_frame_length(as_header(header(kMaxFrameBytes + 1)));
    REQUIRE_FALSE(above.has_value());
    CHECK(above.error().code == ErrorCode::kTooLarge);
  }
  SECTION("a caller's cap") {
    CHECK(check_frame_length(as_header(header(100)), 100).value() == 100);
    auto above = check_frame_length(as_header(header(101)), 100);
    REQUIRE_FALSE(above.has_value());
    CHECK(above.error().code == ErrorCode::kTooLarge);
  }
  SECTION("4 GiB announced, read as big-endian") {
    auto huge = check_frame_length(as_header(header(0xFFFFFFFFu)));
    REQUIRE_FALSE(huge.has_value());
    CHECK(huge.error().code == ErrorCode::kTooLarge);
    CHECK(check_frame_length(as_header(header(0x00010203u))).value() == 0x00010203u);
  }
}

TEST_CASE("FrameDecoder yields whole frames from bytes fed one at a time", "[wire]") {
  Message first;
  first.set_request_id(1);
  first.mutable_ping();
  Message second;
  second.set_request_id(2);
  second.mutable_error()->set_message(std::string(300, 'e'));  // a length above one byte
  std::string stream = encode_frame(first) + encode_frame(second);
  auto first_end = encode_frame(first).size();

  FrameDecoder decoder;
  std::vector<std::string> bodies;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    REQUIRE(decoder.feed(std::string_view(stream).substr(i, 1)).has_value());
    auto body = decoder.next();
    CAPTURE(i);
    // A body appears exactly when its frame's last byte arrives.
    CHECK(body.has_value() == (i + 1 == first_end || i + 1 == stream.size()));
    if (body) bodies.push_back(*body);
  }
  REQUIRE(bodies.size() == 2);
  CHECK(MessageDifferencer::Equals(parse_message(bodies[0]).value(), first));
  CHECK(MessageDifferencer::Equals(parse_message(bodies[1]).value(), second));
  CHECK_FALSE(decoder.next().has_value());
}

TEST_CASE("FrameDecoder yields every frame of one big feed in order", "[wire]") {
  std::string stream;
  for (std::uint64_t id = 1; id <= 3; ++id) {
    Message m;
    m.set_request_id(id);
    m.mutable_pong();
    stream += encode_frame(m);
  }
  FrameDecoder decoder;
  REQUIRE(decoder.feed(stream).has_value());
  for (std::uint64_t id = 1; id <= 3; ++id) {
    auto body = decoder.next();
    REQUIRE(body.has_value());
    CHECK(parse_message(*body).value().request_id() == id);
  }
  CHECK_FALSE(decoder.next().has_value());
}

TEST_CASE("FrameDecoder fails on a bad length prefix and stays failed", "[wire]") {
  Message ping;
  ping.mutable_ping();
  FrameDecoder decoder;
  SECTION("an empty frame") {
    auto fed = decoder.feed(header(0));
    REQUIRE_FALSE(fed.has_value());
    CHECK(fed.error().code == ErrorCode::kProtocol);
  }
  SECTION("a frame above the cap") {
    auto fed = decoder.feed(header(kMaxFrameBytes + 1));
    REQUIRE_FALSE(fed.has_value());
    CHECK(fed.error().code == ErrorCode::kTooLarge);
  }
  auto again = decoder.feed(encode_frame(ping));
  CHECK_FALSE(again.has_value());
  CHECK_FALSE(decoder.next().has_value());
}

// --- model <-> proto ---

TEST_CASE("a change round-trips through to_proto and from_proto", "[wire]") {
  auto change = sample_change();
  SECTION("a money edit on a revision") {}
  SECTION("a creation with no base") {
    change.group = std::string(changelog::kCreateGroup);
    change.base = {};
    change.values = {{"title", "Ανάπλαση"}, {"directorate", "DTE"}};
  }
  SECTION("on top of an own change, with extreme numbers") {
    change.base.kind = changelog::Base::Kind::kOwnChange;
    change.base.own_seq = 6;
    change.device_seq = UINT64_MAX;
    change.client_time = {INT64_MAX, UINT32_MAX};
  }
  SECTION("an envelope") {
    change.entity = {changelog::EntityKind::kEnvelope, "2024:1099"};
    change.group = "amount";
    change.values = {{"amount", "5000000.00"}};
  }
  SECTION("a stage, with no values and a 64-character key") {
    change.entity = {changelog::EntityKind::kStage, std::string(64, 's')};
    change.values = {};
  }
  wire::Change proto;
  to_proto(change, &proto);
  CHECK(proto.device_id().size() == 16);
  auto back = from_proto(proto);
  INFO((back ? std::string() : back.error().message));
  REQUIRE(back.has_value());
  CHECK(*back == change);
}

TEST_CASE("an outcome round-trips through to_proto and from_proto", "[wire]") {
  auto outcome = sample_outcome();
  SECTION("a duplicate conflict") {}
  SECTION("accepted with a new revision and no conflict") {
    outcome.kind = changelog::OutcomeKind::kAccepted;
    outcome.is_new_revision = true;
    outcome.conflict.reset();
    outcome.is_duplicate = false;
  }
  SECTION("rejected, with a conflict at revision 0,0 (present, not absent)") {
    outcome.kind = changelog::OutcomeKind::kRejected;
    outcome.conflict = changelog::Revision{0, 0};
  }
  wire::Outcome proto;
  to_proto(outcome, &proto);
  auto back = from_proto(proto);
  REQUIRE(back.has_value());
  CHECK(*back == outcome);
  CHECK(back->conflict.has_value() == outcome.conflict.has_value());
}

TEST_CASE("a log entry round-trips through to_proto and from_proto", "[wire]") {
  changelog::LogEntry entry{sample_change(), sample_outcome(), digest_of("chain")};
  SECTION("with its hash") {}
  SECTION("with no hash (all zero)") { entry.hash = {}; }
  wire::LogEntry proto;
  to_proto(entry, &proto);
  auto back = from_proto(proto);
  INFO((back ? std::string() : back.error().message));
  REQUIRE(back.has_value());
  check_same(*back, entry);
}

TEST_CASE("a rejected log entry may carry only the hash and size of its values", "[wire]") {
  auto change = changelog::without_values(sample_change());
  REQUIRE(change.values.size() == 2);
  REQUIRE(change.values.count("sha256") == 1);
  REQUIRE(change.values.count("bytes") == 1);
  changelog::LogEntry entry{change, sample_outcome(), digest_of("chain")};

  SECTION("rejected: accepted as the compact pair") {
    entry.outcome.kind = changelog::OutcomeKind::kRejected;
    wire::LogEntry proto;
    to_proto(entry, &proto);
    auto back = from_proto(proto);
    INFO((back ? std::string() : back.error().message));
    REQUIRE(back.has_value());
    check_same(*back, entry);
  }
  SECTION("rejected, an envelope change: accepted as the compact pair too") {
    entry.change.entity = {changelog::EntityKind::kEnvelope, "2024:1099"};
    entry.outcome.kind = changelog::OutcomeKind::kRejected;
    wire::LogEntry proto;
    to_proto(entry, &proto);
    auto back = from_proto(proto);
    REQUIRE(back.has_value());
    check_same(*back, entry);
  }
  SECTION("accepted or conflict: the pair is no fields of the model") {
    entry.outcome.kind =
        GENERATE(changelog::OutcomeKind::kAccepted, changelog::OutcomeKind::kConflict);
    wire::LogEntry proto;
    to_proto(entry, &proto);
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "unknown field");
  }
  SECTION("rejected, but the pair plus a third value: not compact") {
    entry.outcome.kind = changelog::OutcomeKind::kRejected;
    entry.change.values.emplace("title", "x");
    wire::LogEntry proto;
    to_proto(entry, &proto);
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "unknown field");
  }
  SECTION("rejected, with only one of the pair") {
    entry.outcome.kind = changelog::OutcomeKind::kRejected;
    entry.change.values.erase("bytes");
    wire::LogEntry proto;
    to_proto(entry, &proto);
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "unknown field");
  }
  SECTION("rejected, with the real values: accepted as they are") {
    entry.outcome.kind = changelog::OutcomeKind::kRejected;
    entry.change = sample_change();
    wire::LogEntry proto;
    to_proto(entry, &proto);
    auto back = from_proto(proto);
    REQUIRE(back.has_value());
    check_same(*back, entry);
  }
}

TEST_CASE("a snapshot round-trips through to_proto and from_proto", "[wire]") {
  ergon::model::Proposal proposal;
  proposal.id = ergon::core::ProposalId(id_bytes(0x30));
  auto applied = ergon::model::apply_values(proposal, {{"year", "2024"},
                                                       {"directorate", "DTE"},
                                                       {"ka_code", "30-7323.050"},
                                                       {"title", "Ανάπλαση πλατείας"},
                                                       {"category", "work"},
                                                       {"new_or_continuing", "continuing"},
                                                       {"area", "HER-CITY"},
                                                       {"total_budget", "1500000.00"},
                                                       {"paid_to_date", "100.00"},
                                                       {"allocation", "800000.00"},
                                                       {"funding", "0518=500000.00|1099=300000.00"},
                                                       {"status", "tendering"},
                                                       {"strategic_plans", "SOAP|SMART"},
                                                       {"priority", "A"},
                                                       {"remarks", "Ίδιοι πόροι"},
                                                       {"state", "included"},
                                                       {"decision_reason", "ώριμο"}});
  INFO((applied ? std::string() : applied.error().message));
  REQUIRE(applied.has_value());
  proposal.predecessor_id = ergon::core::ProposalId(id_bytes(0x50));

  changelog::Snapshot snapshot;
  snapshot.proposals = {proposal, ergon::model::Proposal{}};
  snapshot.proposals[1].id = ergon::core::ProposalId(id_bytes(0x40));
  snapshot.proposals[1].year = 2025;
  snapshot.envelopes = {{"2024:1099", ergon::model::Money::from_cents(30000000)},
                        {"2024:0518", ergon::model::Money::from_cents(0)}};
  snapshot.revisions = {{proposal.id.hex(),
                         "money",
                         {{3, 40}, ergon::core::DeviceId(id_bytes(0xA0)), 7},
                         "Μαρία Παπαδάκη",
                         1700000000000},
                        {changelog::envelope_entity("2024:1099"),
                         "amount",
                         {{3, 41}, ergon::core::DeviceId(id_bytes(0xB0)), 2},
                         "",
                         0}};
  snapshot.cursor = 41;
  snapshot.digest.toggle(proposal.id.hex(), "title", proposal.title);
  snapshot.chain_head = digest_of("head");
  snapshot.reference_files = {{"funding-sources.csv", "code;name\n1099;ΣΑΤΑ\n"}, {"empty.csv", ""}};
  auto parked = changelog::LogEntry{sample_change(), sample_outcome(), digest_of("p")};
  snapshot.parked = {parked};

  wire::Snapshot proto;
  to_proto(snapshot, &proto);
  auto back = from_proto(proto);
  INFO((back ? std::string() : back.error().message));
  REQUIRE(back.has_value());
  CHECK(back->proposals == snapshot.proposals);
  CHECK(back->envelopes == snapshot.envelopes);
  REQUIRE(back->revisions.size() == snapshot.revisions.size());
  for (std::size_t i = 0; i < snapshot.revisions.size(); ++i) {
    CHECK(back->revisions[i].entity == snapshot.revisions[i].entity);
    CHECK(back->revisions[i].group == snapshot.revisions[i].group);
    CHECK(back->revisions[i].revision == snapshot.revisions[i].revision);
    CHECK(back->revisions[i].user == snapshot.revisions[i].user);
    CHECK(back->revisions[i].at_ms == snapshot.revisions[i].at_ms);
  }
  CHECK(back->cursor == 41);
  CHECK(back->digest == snapshot.digest);
  CHECK(back->chain_head == snapshot.chain_head);
  CHECK(back->reference_files == snapshot.reference_files);
  REQUIRE(back->parked.size() == 1);
  check_same(back->parked[0], parked);
}

TEST_CASE("from_proto refuses ids that are not 16 bytes", "[wire]") {
  auto size = GENERATE(std::size_t{0}, std::size_t{15}, std::size_t{17}, std::size_t{32});
  CAPTURE(size);
  SECTION("a change's device id") {
    wire::Change proto;
    to_proto(sample_change(), &proto);
    proto.set_device_id(std::string(size, '\x01'));
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "16 bytes");
  }
  SECTION("a log entry's change's device id") {
    wire::LogEntry proto;
    to_proto(changelog::LogEntry{sample_change(), sample_outcome(), {}}, &proto);
    proto.mutable_change()->set_device_id(std::string(size, '\x01'));
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "16 bytes");
  }
  SECTION("a snapshot revision's device id") {
    wire::Snapshot proto;
    auto* row = proto.add_revisions();
    row->set_entity("e");
    row->set_group("money");
    row->mutable_revision()->set_device_id(std::string(size, '\x01'));
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "16 bytes");
  }
}

TEST_CASE("from_proto refuses unknown and repeated field names", "[wire]") {
  wire::Change proto;
  to_proto(sample_change(), &proto);
  SECTION("a name that is no field of a proposal") {
    auto* v = proto.add_values();
    v->set_name("colour");
    v->set_value("red");
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "unknown field 'colour'");
  }
  SECTION("a proposal field given to an envelope") {
    proto.set_entity_kind(ergon::wire::ENTITY_ENVELOPE);
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "unknown field");
  }
  SECTION("'amount' given to a proposal") {
    auto* v = proto.add_values();
    v->set_name("amount");
    v->set_value("1.00");
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "unknown field 'amount'");
  }
  SECTION("the same field twice, even with the same value") {
    auto* v = proto.add_values();
    v->set_name("allocation");
    v->set_value("800000.00");
    auto back = from_proto(proto);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "twice");
  }
  SECTION("a snapshot proposal with an unknown field") {
    wire::Snapshot snapshot;
    auto* v = snapshot.add_proposals()->add_values();
    v->set_name("colour");
    auto back = from_proto(snapshot);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "unknown field");
  }
  SECTION("a snapshot proposal with a field twice") {
    wire::Snapshot snapshot;
    auto* p = snapshot.add_proposals();
    for (int i = 0; i < 2; ++i) {
      auto* v = p->add_values();
      v->set_name("title");
      v->set_value("x");
    }
    auto back = from_proto(snapshot);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "twice");
  }
  SECTION("a snapshot proposal whose value breaks its field's form") {
    wire::Snapshot snapshot;
    auto* v = snapshot.add_proposals()->add_values();
    v->set_name("total_budget");
    v->set_value("lots");
    auto back = from_proto(snapshot);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "snapshot proposal");
  }
}

TEST_CASE("from_proto refuses enums, sequences, keys and digests out of range", "[wire]") {
  wire::Change change;
  to_proto(sample_change(), &change);
  SECTION("entity kind 5") {
    change.set_entity_kind(static_cast<ergon::wire::EntityKind>(5));
    auto back = from_proto(change);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "entity kind");
  }
  SECTION("base kind 3") {
    change.set_base_kind(static_cast<ergon::wire::BaseKind>(3));
    auto back = from_proto(change);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "base kind");
  }
  SECTION("device sequence 0") {
    change.set_device_seq(0);
    auto back = from_proto(change);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "start at 1");
  }
  SECTION("an empty entity key, or one of 65 characters") {
    change.set_entity_key(GENERATE(std::string(), std::string(65, 'k')));
    auto back = from_proto(change);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "entity key");
  }
  SECTION("outcome kind 3, alone and inside a log entry") {
    wire::Outcome outcome;
    to_proto(sample_outcome(), &outcome);
    outcome.set_kind(static_cast<ergon::wire::OutcomeKind>(GENERATE(3, 255, -1)));
    auto back = from_proto(outcome);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "outcome kind");
    wire::LogEntry entry;
    *entry.mutable_change() = change;
    *entry.mutable_outcome() = outcome;
    auto entry_back = from_proto(entry);
    REQUIRE_FALSE(entry_back.has_value());
    check_refused(entry_back.error(), "outcome kind");
  }
  SECTION("a log entry hash that is not 32 bytes") {
    wire::LogEntry entry;
    to_proto(changelog::LogEntry{sample_change(), sample_outcome(), {}}, &entry);
    entry.set_hash(std::string(GENERATE(std::size_t{1}, std::size_t{31}, std::size_t{33}), 'h'));
    auto back = from_proto(entry);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "32 bytes");
  }
  SECTION("a snapshot digest or chain head that is not 32 bytes") {
    wire::Snapshot snapshot;
    bool is_digest = GENERATE(true, false);
    (is_digest ? snapshot.mutable_digest() : snapshot.mutable_chain_head())
        ->assign(std::string(31, 'd'));
    auto back = from_proto(snapshot);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "32 bytes");
  }
  SECTION("a parked entry that is refused refuses the snapshot") {
    wire::Snapshot snapshot;
    auto* parked = snapshot.add_parked();
    *parked->mutable_change() = change;
    parked->mutable_change()->set_device_id("short");
    auto back = from_proto(snapshot);
    REQUIRE_FALSE(back.has_value());
    check_refused(back.error(), "16 bytes");
  }
}

// --- the hello proof ---

TEST_CASE("hello_proof_payload binds the session, the device and the enrolment", "[wire]") {
  using wire::hello_proof_payload;
  auto base = hello_proof_payload("binding-1", "device-1", "enrolment-1");
  CHECK(base == hello_proof_payload("binding-1", "device-1", "enrolment-1"));
  CHECK(base != hello_proof_payload("binding-2", "device-1", "enrolment-1"));
  CHECK(base != hello_proof_payload("binding-1", "device-2", "enrolment-1"));
  CHECK(base != hello_proof_payload("binding-1", "device-1", "enrolment-2"));
  CHECK(base != hello_proof_payload("", "device-1", "enrolment-1"));  // --insecure
  CHECK(base.rfind("ergon-hello-proof-v1", 0) == 0);
}

TEST_CASE("hello_proof_payload's length prefixes keep its parts apart", "[wire]") {
  using wire::hello_proof_payload;
  // Plain concatenation would make each pair equal.
  CHECK(hello_proof_payload("ab", "c", "x") != hello_proof_payload("a", "bc", "x"));
  CHECK(hello_proof_payload("x", "ab", "c") != hello_proof_payload("x", "a", "bc"));
  CHECK(hello_proof_payload("ab", "", "c") != hello_proof_payload("a", "b", "c"));
  CHECK(hello_proof_payload("", "", "abc") != hello_proof_payload("abc", "", ""));
  // A NUL inside a part cannot pose as the separator: only the lengths tell these apart.
  std::string a_nul_b("a\0b", 3);
  std::string b_nul_c("b\0c", 3);
  CHECK(hello_proof_payload(a_nul_b, "c", "d") != hello_proof_payload("a", b_nul_c, "d"));
}
