#include "shared/merge/flags.h"

#include <catch2/catch.hpp>

#include "shared/changelog/log_entry.h"

using namespace ergon;
using model::Money;

namespace {

model::Proposal included(std::vector<std::pair<std::string, std::int64_t>> lines) {
  model::Proposal p;
  for (auto& [source, cents] : lines) p.funding.push_back({source, Money::from_cents(cents)});
  p.state = model::State::kIncluded;
  return p;
}

}  // namespace

TEST_CASE("a ΚΑ code used by more than one live proposal raises a ka flag", "[flags]") {
  merge::YearFigures figures;
  figures.year = 2024;
  figures.live_ka_uses = {{"30-7323.004", 2}, {"30-7321.001", 1}};
  auto raised = merge::raise_flags(figures);
  REQUIRE(raised.size() == 1);
  REQUIRE(raised.contains("ka:2024:30-7323.004"));
  const auto& flag = raised.at("ka:2024:30-7323.004");
  CHECK(flag.kind == "ka");
  CHECK(flag.level == 2);
  CHECK_THAT(flag.message, Catch::Contains("2 live proposals of 2024"));
}

TEST_CASE("included allocations above an envelope raise its flag, to the cent", "[flags]") {
  merge::YearFigures figures;
  figures.year = 2024;
  figures.envelopes = {{"1099", Money::from_cents(100'000)}, {"0518", Money::from_cents(50'000)}};
  figures.included = {included({{"1099", 60'000}, {"0518", 50'000}}), included({{"1099", 40'000}})};
  CHECK(merge::raise_flags(figures).empty());  // exactly at both envelopes: no flag
  figures.included.push_back(included({{"1099", 1}, {"9999", 5'000'000}}));
  auto raised = merge::raise_flags(figures);
  REQUIRE(raised.size() == 1);  // a source with no envelope is unlimited
  const auto& flag = raised.at("envelope:2024:1099");
  CHECK_THAT(flag.message, Catch::Contains("1.000,01 €"));
  CHECK(flag.level == 1);  // one cent above: an acknowledgement holds until it grows
  CHECK(flag.proposals.size() == 3u);
}

TEST_CASE("a continuing work of last year that no live proposal carries is a flag", "[flags]") {
  auto work = [](int year, model::State state, model::WorkStatus status) {
    auto p = included({});
    p.id = core::ProposalId::random();
    p.year = year;
    p.state = state;
    p.status = status;
    p.title = "Έργο " + p.id.hex().substr(0, 4);
    return p;
  };
  auto carried = work(2024, model::State::kIncluded, model::WorkStatus::kContracted);
  auto missing = work(2024, model::State::kIncluded, model::WorkStatus::kMaturing);
  auto completed = work(2024, model::State::kIncluded, model::WorkStatus::kCompleted);
  auto rejected = work(2024, model::State::kRejected, model::WorkStatus::kMaturing);
  auto supply = work(2024, model::State::kIncluded, model::WorkStatus::kMaturing);
  supply.category = model::Category::kSupply;
  auto successor = work(2025, model::State::kDraft, model::WorkStatus::kContracted);
  successor.predecessor_id = carried.id;
  auto withdrawn = work(2025, model::State::kWithdrawn, model::WorkStatus::kMaturing);
  withdrawn.predecessor_id = missing.id;  // withdrawn: it carries nothing

  merge::YearFigures figures;
  figures.year = 2025;
  merge::add_continuity(figures,
                        {carried, missing, completed, rejected, supply, successor, withdrawn});
  auto raised = merge::raise_flags(figures);
  REQUIRE(raised.size() == 1u);
  const auto& [id, flag] = *raised.begin();
  CHECK(id == "continuing:2025:" + missing.id.hex());
  CHECK(flag.kind == "continuing");
  CHECK(flag.proposals == std::vector<std::string>{missing.id.hex()});
  CHECK_THAT(flag.message, Catch::Contains(missing.title) && Catch::Contains("2024"));
  CHECK(merge::flag_year(id) == 2025);
  // The 2024 figures know nothing of 2025's continuity.
  merge::YearFigures of_2024;
  of_2024.year = 2024;
  merge::add_continuity(of_2024, {carried, missing, successor});
  CHECK(merge::raise_flags(of_2024).empty());
}

TEST_CASE("planning acknowledges any flag, budget the money ones, always with a reason",
          "[flags]") {
  CHECK_FALSE(merge::check_flag_ack("ka:2024:30-7323.004", "γνωστό", true, false));
  CHECK_FALSE(merge::check_flag_ack("envelope:2024:1099", "γνωστό", false, true));
  CHECK(merge::check_flag_ack("ka:2024:30-7323.004", "γνωστό", false, true));
  CHECK(merge::check_flag_ack("envelope:2024:1099", "γνωστό", false, false));
  CHECK(merge::check_flag_ack("envelope:2024:1099", "", true, false));
}

TEST_CASE("stored flags move to what is raised: refreshed, opened again, reopened, cleared",
          "[flags]") {
  auto raised_at = [](const char* message, std::int64_t level) {
    return merge::RaisedFlag{"ka", message, level, {}};
  };
  std::map<std::string, merge::RaisedFlag> raised = {{"ka:A", raised_at("still", 2)},
                                                     {"ka:B", raised_at("again", 2)},
                                                     {"ka:E", raised_at("grew", 3)},
                                                     {"envelope:1099", raised_at("new", 500)}};
  using merge::FlagStatus;
  std::map<std::string, merge::StoredFlag> stored = {{"ka:A", {FlagStatus::kAcknowledged, 2}},
                                                     {"ka:B", {FlagStatus::kCleared, 0}},
                                                     {"ka:C", {FlagStatus::kOpen, 0}},
                                                     {"ka:D", {FlagStatus::kCleared, 0}},
                                                     {"ka:E", {FlagStatus::kAcknowledged, 2}}};
  auto update = merge::update_flags(raised, stored);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(update.refreshed == Pairs{{"ka:A", "still"}});  // acknowledged at its level: holds
  CHECK(update.opened == Pairs{{"envelope:1099", "new"}, {"ka:B", "again"}});
  CHECK(update.reopened == Pairs{{"ka:E", "grew"}});  // the cause grew past the acknowledgement
  CHECK(update.cleared == std::vector<std::string>{"ka:C"});
}

TEST_CASE("the digest moves between states field by field, whatever the path", "[flags][digest]") {
  model::FieldValues a = {{"title", "Α"}, {"remarks", "x"}};
  model::FieldValues b = {{"title", "Β"}, {"remarks", "x"}, {"priority", "A"}};
  changelog::StateDigest direct;
  direct.replace("p1", {}, b);
  changelog::StateDigest stepwise;
  stepwise.replace("p1", {}, a);
  stepwise.replace("p1", a, b);
  CHECK(direct == stepwise);
  changelog::StateDigest unchanged = stepwise;
  unchanged.replace("p1", b, b);
  CHECK(unchanged == stepwise);
  changelog::StateDigest other;
  other.replace("p2", {}, b);
  CHECK(other != direct);  // the entity is part of what is hashed
}
