#include <cstdio>
#include <fstream>
#include <iostream>

#include "client/cli/commands.h"
#include "shared/core/output_file.h"

namespace ergon::client::cli {

core::Result<model::FieldValues> parse_assignments(const std::vector<std::string>& args) {
  model::FieldValues values;
  for (const auto& arg : args) {
    auto eq = arg.find('=');
    if (eq == std::string::npos || eq == 0)
      return core::fail(core::ErrorCode::kUsage,
                        "'" + arg +
                            "' is not FIELD=VALUE; e.g. title='Ανάπλαση πλατείας' or "
                            "allocation=800.000,00");
    auto name = arg.substr(0, eq);
    if (!model::find_field(name)) {
      std::string names;
      for (const auto& f : model::all_fields())
        if (f.is_user_settable) names += (names.empty() ? "" : ", ") + std::string(f.name);
      return core::fail(core::ErrorCode::kUsage,
                        "'" + name + "' is not a field; the fields are " + std::string(names));
    }
    if (!values.emplace(name, arg.substr(eq + 1)).second)
      return core::fail(core::ErrorCode::kUsage, "field '" + name + "' is given twice");
  }
  return values;
}

nlohmann::json sync_report_json(const SyncReport& r) {
  return {{"sent", r.sent},         {"accepted", r.accepted},         {"conflicts", r.conflicts},
          {"rejected", r.rejected}, {"duplicates", r.duplicates},     {"received", r.received},
          {"requeued", r.requeued}, {"bootstrapped", r.bootstrapped}, {"cursor", r.cursor},
          {"digest", r.digest}};
}

core::Status write_output(const std::string& path, std::string_view bytes) {
  if (path == "-") {
    std::cout << bytes << std::flush;
    return {};
  }
  return core::write_file(path, bytes, core::FileMode::kShared);
}

// A group's values for people: money the Greek way (1.500.000,00), the rest as stored.
std::string group_text(const model::FieldValues& values) {
  model::Proposal shown;
  bool readable = model::apply_values(shown, values).has_value();
  std::string out;
  for (const auto& [name, value] : values) {
    if (name == "decision_reason" && value.empty()) continue;
    auto text = readable ? model::field_text(shown, name, model::TextForm::kGreek) : value;
    out += out.empty() ? "" : ", ";
    out += name;
    out += "=";
    out += text;
  }
  return out;
}

}  // namespace ergon::client::cli
