#pragma once
// The proposal's fields by name: their Greek labels, their field groups, and their text forms.
// This is the one place that maps a field name to a member of Proposal. Pure; thread-safe.

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "shared/core/result.h"
#include "shared/model/proposal.h"

namespace ergon::model {

/// Canonical text of each field a change sets, by field name (sorted). An empty text clears an
/// optional field.
using FieldValues = std::map<std::string, std::string, std::less<>>;

struct FieldSpec {
  std::string_view name;      // as in CSV and JSON
  std::string_view label_el;  // Greek column label
  std::string_view group;     // the field group it belongs to
  bool is_user_settable;      // may be set with FIELD=VALUE (not id, year, state)
  bool is_required;           // must be given when a proposal is created
};

/// Every field, in the order of the domain README (and of CSV export).
std::span<const FieldSpec> all_fields();
const FieldSpec* find_field(std::string_view name);

/// Field groups: `money`, `classification`, `state`, and every other field on its own.
inline constexpr std::string_view kMoneyGroup = "money";
inline constexpr std::string_view kClassificationGroup = "classification";
inline constexpr std::string_view kStateGroup = "state";
/// The groups a proposal has, in a fixed order.
std::span<const std::string_view> all_groups();
/// The names of the fields in `group`, in table order.
std::vector<std::string_view> fields_of_group(std::string_view group);

enum class TextForm {
  kCanonical,  // change records and the log: money as 1234.56
  kGreek,      // people and CSV: money as 1.234,56
};

/// The text of one field. Money lines use the given form; lists are joined with `|`.
std::string field_text(const Proposal& p, std::string_view field, TextForm form);

/// Parses `text` (any accepted form) into the field. Funding given as a lone source code
/// (`1099`) takes the whole current allocation. Errors name the field and what is allowed.
core::Status set_field(Proposal& p, std::string_view field, std::string_view text);

/// Applies several fields; funding is applied after allocation whatever the order given.
core::Status apply_values(Proposal& p, const FieldValues& values);

/// The canonical values of every field of `group`.
FieldValues group_values(const Proposal& p, std::string_view group);
/// The canonical values of every field (for creation changes and snapshots).
FieldValues all_values(const Proposal& p);

}  // namespace ergon::model
