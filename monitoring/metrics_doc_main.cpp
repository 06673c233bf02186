// csp-metrics-doc: prints the metric catalogue as the Markdown table of
// docs/METRICS.md, or rewrites that table in place.
//
//   csp-metrics-doc                      print the table
//   csp-metrics-doc --write docs/METRICS.md
//                                        replace the generated table

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>

#include "monitoring/metrics_catalogue.hpp"

int main(int argc, char** argv) {
  using namespace csp::monitoring;
  auto table = render_metrics_table();
  if (argc == 1) {
    std::cout << table;
    return 0;
  }
  if (argc == 3 && std::string_view{argv[1]} == "--write") {
    std::ifstream in{argv[2]};
    if (!in) {
      std::cerr << "csp-metrics-doc: cannot read " << argv[2] << '\n';
      return 1;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    auto updated = replace_metrics_table(buf.str(), table);
    if (updated.empty()) {
      std::cerr << "csp-metrics-doc: " << argv[2]
                << " lacks the table markers\n";
      return 1;
    }
    std::ofstream out{argv[2], std::ios::trunc};
    out << updated;
    return out ? 0 : 1;
  }
  std::cerr << "usage: csp-metrics-doc [--write FILE]\n"
               "Prints the metric catalogue as a Markdown table, or "
               "replaces the table between\nthe generated-table markers of "
               "FILE (docs/METRICS.md).\n";
  return argc == 2
      && (std::string_view{argv[1]} == "--help"
        || std::string_view{argv[1]} == "-h")
    ? 0
    : 2;
}
