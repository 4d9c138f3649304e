// ergond bundle apply: answers a directorate's offline bundle, beside a running server.

#include <iostream>

#include <nlohmann/json.hpp>

#include "server/admin/backup_commands.h"
#include "server/bundle/bundle_service.h"

namespace ergon::server::admin {

namespace {

core::Status run_bundle_apply(const BackupOptions& o) {
  auto applied = bundle::apply_bundle(o.data, o.bundle_in, o.bundle_out);
  if (!applied) return core::fail(applied.error());
  const auto& a = *applied;
  if (o.json) {
    std::cout << nlohmann::json{{"enrolment", a.enrolment},
                                {"changes", a.changes},
                                {"accepted", a.accepted},
                                {"conflicts", a.conflicts},
                                {"rejected", a.rejected},
                                {"duplicates", a.duplicates},
                                {"pages", a.pages},
                                {"bootstrap", a.bootstrap},
                                {"pushes_skipped", a.pushes_skipped},
                                {"head", a.head},
                                {"answer", o.bundle_out}}
                     .dump(2)
              << "\n";
    return {};
  }
  std::cout << "applied " << o.bundle_in << " from device " << a.enrolment << ": " << a.changes
            << " changes (accepted " << a.accepted << ", conflicts " << a.conflicts << ", rejected "
            << a.rejected << ", seen before " << a.duplicates << ")\n";
  if (a.pushes_skipped)
    std::cout << "  the device has not yet met this server's restore: it re-sends its changes "
                 "in its next bundle\n";
  std::cout << "wrote the answer " << o.bundle_out << ": " << a.pages << " pages up to log row "
            << a.head << (a.bootstrap ? " (the whole programme)" : "") << "\n"
            << "  carry it back for 'ergon bundle import " << o.bundle_out << "'\n";
  return {};
}

}  // namespace

void add_bundle_command(CLI::App& app, BackupOptions& o, Action& action) {
  auto* bundle = app.add_subcommand("bundle", "Offline bundles: answer a client's bundle file");
  bundle->require_subcommand(1);
  auto* apply = bundle->add_subcommand(
      "apply",
      "Apply a client's bundle as a push would, and write the answer for it to carry back");
  apply->add_option("--data", o.data, "the server's data folder")->required();
  apply->add_option("IN_FILE", o.bundle_in, "the bundle 'ergon bundle export' wrote")
      ->required()
      ->check(CLI::ExistingFile);
  apply->add_option("OUT_FILE", o.bundle_out, "the answer to write")->required();
  apply->add_flag("--json", o.json, "print the outcome counts as JSON");
  apply->footer(R"(Works while 'ergond serve' runs on the same folder. Permissions, conflicts and
repeats are decided exactly as for a sync: the same bundle twice is answered with the same
outcomes. A bundle for another server, from a revoked device, or damaged, is refused.
Example:  ergond bundle apply --data /var/lib/ergon /media/usb/dte.bundle /media/usb/dte.answer)");
  apply->callback([&o, &action] { action = [&o] { return run_bundle_apply(o); }; });
}

}  // namespace ergon::server::admin
