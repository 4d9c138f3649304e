// ergon_bench: the offline client's hot paths on a generated programme. Prints the median of
// repeated runs, so numbers are comparable across machines by ratio. Usage:
//   ergon_bench [--proposals N] [--rounds R]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "client/store/importer.h"
#include "client/store/local_store.h"

namespace {

using Clock = std::chrono::steady_clock;

double median_ms(int rounds, const std::function<void()>& work) {
  std::vector<double> samples;
  for (int i = 0; i < rounds; ++i) {
    auto start = Clock::now();
    work();
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// A programme of n proposals with Greek titles, spread over directorates and areas.
std::string generate_programme(int n) {
  const char* words[] = {"Ανάπλαση",     "πλατείας",      "Οδοποιία",   "Ασφαλτοστρώσεις",
                         "σχολικού",     "συγκροτήματος", "Ελευθερίας", "Αγίου",
                         "Μύρωνος",      "δικτύου",       "ύδρευσης",   "Συντήρηση",
                         "κοινοχρήστων", "χώρων",         "πάρκου"};
  const char* directorates[] = {"DTE", "DPOL", "DPER", "DHM", "DATH"};
  const char* areas[] = {"HER-CITY", "ALL", "PAL", "GOR-AGM", "NAL-NAL"};
  std::string csv =
      "ka_code;title;category;new_or_continuing;directorate;area;total_budget;paid_to_date;"
      "allocation;funding;status;strategic_plans;priority;remarks\n";
  for (int i = 0; i < n; ++i) {
    auto u = static_cast<unsigned>(i);
    std::string title = std::string(words[u % 15]) + " " + words[(u / 15) % 15] + " " +
                        words[(u / 225) % 15] + " αρ. " + std::to_string(i);
    char ka[32];
    std::snprintf(ka, sizeof ka, "%02u-7323.%03u", 10 + u % 80, 1 + u / 80);  // unique per row
    csv += std::string(ka) + ";" + title + ";work;new;" + directorates[u % 5] + ";" + areas[u % 5] +
           ";1.000.000,00;0,00;400.000,00;1099=100.000,00|0518=300.000,00;maturing;SVAA;A;"
           "Παρατήρηση " +
           std::to_string(i) + "\n";
  }
  return csv;
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  int proposals = 10000, rounds = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--proposals") == 0) proposals = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  auto home = std::filesystem::temp_directory_path() / "ergon-bench";
  std::filesystem::remove_all(home);
  // Planning's home before its first sync: it imports and edits every directorate's rows.
  ergon::client::InitOptions options{"", "bench", 2024, ERGON_REFERENCE_DIR};
  auto store = ergon::client::LocalStore::init(home, options);
  if (!store) {
    std::fprintf(stderr, "init failed: %s\n", store.error().message.c_str());
    return 1;
  }

  auto csv = generate_programme(proposals);
  auto start = Clock::now();
  auto report = ergon::client::import_csv(*store, csv, 2024);
  double import_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  if (!report) {
    std::fprintf(stderr, "import failed: %s\n", report.error().message.c_str());
    return 1;
  }

  auto searching = [](const char* text) {
    ergon::client::ListFilter filter;
    filter.search = text;
    return filter;
  };
  std::size_t listed = 0, found = 0;
  double list_ms = median_ms(rounds, [&] { listed = store->list({})->size(); });
  double search_ms = median_ms(rounds, [&] { found = store->list(searching("οδοποιια"))->size(); });
  double search2_ms =
      median_ms(rounds, [&] { (void)store->list(searching("ΠΛΑΤΕΙΑΣ ελευθεριας"))->size(); });
  auto first = store->list(searching("αρ. 4242"));
  if (!first || first->empty()) {
    std::fprintf(stderr, "search for the edit target failed (imported %zu rows)\n", report->rows);
    return 1;
  }
  auto id = first->front().id;
  int edit_round = 0;
  double edit_ms = median_ms(rounds, [&] {
    auto amount = std::to_string(300000 + ++edit_round) + ",00";
    auto ok = store->edit(id, {{"allocation", amount}, {"funding", "1099=" + amount}});
    if (!ok) std::fprintf(stderr, "edit failed: %s\n", ok.error().message.c_str());
  });

  std::printf("proposals                 %d\n", proposals);
  std::printf("import (one transaction)  %.1f ms (%.0f rows/s)\n", import_ms,
              proposals / import_ms * 1000.0);
  std::printf("list all                  %.1f ms (median of %d, %zu rows)\n", list_ms, rounds,
              listed);
  std::printf("search 1 word             %.1f ms (median of %d, %zu hits)\n", search_ms, rounds,
              found);
  std::printf("search 2 words            %.1f ms (median of %d)\n", search2_ms, rounds);
  std::printf("edit (one money change)   %.2f ms (median of %d)\n", edit_ms, rounds);
  std::printf("peak RSS                  %ld KiB\n", peak_rss_kib());
  std::filesystem::remove_all(home);
  return 0;
}
