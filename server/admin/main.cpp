// ergond: the central server. This build has the administration entry point only; serving,
// enrolment and the master store arrive with their issues.

#include <iostream>

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"ergond — the Ergon server: holds the master Technical Programme"};
  app.set_version_flag("--version", std::string("ergond ") + ERGON_VERSION);
  app.require_subcommand(0);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::cout << app.help();
  return 0;
}
