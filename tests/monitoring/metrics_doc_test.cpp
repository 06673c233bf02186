#define CAF_SUITE metrics_doc
#include "caf/test/unit_test.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include "monitoring/metrics_catalogue.hpp"

CAF_TEST(docs METRICS md matches the catalogue) {
  std::ifstream in{CSP_TEST_DATA_DIR "/../../docs/METRICS.md"};
  CAF_REQUIRE(in.good());
  std::stringstream buf;
  buf << in.rdbuf();
  auto documented = csp::monitoring::extract_metrics_table(buf.str());
  CAF_REQUIRE(!documented.empty());
  auto rendered = csp::monitoring::render_metrics_table();
  if (documented != rendered)
    CAF_FAIL("docs/METRICS.md is out of date; regenerate it with "
             "`csp-metrics-doc --write docs/METRICS.md`");
  // Every catalogued name appears in the file.
  for (const auto& spec : csp::monitoring::metric_catalogue())
    CAF_CHECK_NOT_EQUAL(
      documented.find("`" + std::string{spec.name} + "`"), std::string::npos);
}
