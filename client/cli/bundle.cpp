// ergon bundle export / import: syncing by carrying a file to the town hall and back.

#include "client/sync/bundle.h"

#include <iostream>

#include <nlohmann/json.hpp>

#include "client/cli/commands.h"

namespace ergon::client::cli {
namespace {

using nlohmann::json;

struct BundleOptions {
  std::string file;
  bool json = false;
};

core::Status run_export(const BundleOptions& o, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  auto written = export_bundle(*store, o.file);
  if (!written) return core::fail(written.error());
  if (o.json) {
    std::cout << json{{"file", o.file},
                      {"changes", written->changes},
                      {"cursor", written->cursor},
                      {"bootstrap", written->asks_bootstrap},
                      {"bytes", written->bytes}}
                     .dump(2)
              << "\n";
    return {};
  }
  std::cout << "wrote " << o.file << ": " << written->changes << " pending changes, "
            << (written->asks_bootstrap
                    ? "asking for the whole programme"
                    : "asking for what followed log row " + std::to_string(written->cursor))
            << " (" << written->bytes << " bytes)\n"
            << "Carry it to the administrator: 'ergond bundle apply --data DIR " << o.file
            << " ANSWER', then bring ANSWER back for 'ergon bundle import ANSWER'.\n"
            << "Your changes stay pending here until an answer says what became of them.\n";
  return {};
}

core::Status run_import(const BundleOptions& o, const Context& ctx) {
  auto store = ctx.open_store();
  if (!store) return core::fail(store.error());
  SyncOptions options;
  options.progress = [](const std::string& line) { std::cerr << "ergon: " << line << "\n"; };
  auto imported = import_answer(*store, o.file, options);
  if (!imported) return core::fail(imported.error());
  const auto& r = imported->report;
  if (o.json) {
    auto out = sync_report_json(r);
    out["unchanged"] = imported->is_unchanged;
    out["digest_differs"] = imported->digest_differs;
    std::cout << out.dump(2) << "\n";
    return {};
  }
  if (imported->is_unchanged) {
    std::cout << o.file << " was imported before, or a newer answer was: nothing changed\n";
    return {};
  }
  std::cout << "imported " << o.file << ": " << r.sent << " changes answered (accepted "
            << r.accepted << ", conflicts " << r.conflicts << ", rejected " << r.rejected << "), "
            << r.received << " log entries applied; now at log row " << r.cursor << "\n";
  if (imported->needs_resend)
    std::cout << "The server was restored from a backup: " << r.requeued
              << " of your changes go back to it in your next bundle ('ergon bundle export').\n";
  if (imported->digest_differs)
    std::cout << "This copy differs from the server's: your next bundle asks for a fresh copy "
                 "(your own edits are kept).\n";
  return {};
}

}  // namespace

void add_bundle_commands(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<BundleOptions>();
  auto* bundle = app.add_subcommand(
      "bundle", "Sync with no network: carry a file to the server and its answer back");
  bundle->require_subcommand(1);
  bundle->footer(R"(Set up a home that never connects with the token and fingerprint from the
administrator:  ergon init --directorate DTE --token DEVICE.SECRET --fingerprint SHA256:…
The token's secret never leaves this computer: the bundle is signed with this device's key.)");
  auto* out = bundle->add_subcommand(
      "export", "Write this client's pending changes and where it stands to FILE");
  out->add_option("FILE", opts->file, "the bundle to write (e.g. on a USB stick)")->required();
  out->add_flag("--json", opts->json, "print what was written as JSON");
  out->footer("Example:  ergon bundle export /media/usb/dte-2024-03-05.bundle");
  out->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_export(*opts, ctx); };
  });
  auto* in = bundle->add_subcommand(
      "import", "Apply the server's answer FILE, as a sync applies the server's replies");
  in->add_option("FILE", opts->file, "the answer 'ergond bundle apply' wrote")
      ->required()
      ->check(CLI::ExistingFile);
  in->add_flag("--json", opts->json, "print the outcome counts as JSON (as 'ergon sync --json')");
  in->footer(R"(The same answer twice, or an older one after a newer, changes nothing. An answer for
another device or server, or a damaged one, is refused.
Example:  ergon bundle import /media/usb/dte-2024-03-05.answer)");
  in->callback([&ctx, opts] {
    ctx.action = [&ctx, opts]() -> core::Status { return run_import(*opts, ctx); };
  });
}

}  // namespace ergon::client::cli
