// libFuzzer target for actors/binance_parser: a differential check of the
// canonical-trade fast path (scan_canonical_trade) against the general
// simdjson path and the nlohmann_json reference. Aborts on any difference.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "actors/binance_parser.hpp"
#include "actors/binance_trade_scanner.hpp"

namespace {

using namespace csp::actors;

void require(bool ok) {
  if (!ok)
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(
  const std::uint8_t* data, std::size_t size) {
  static binance_parser parser;
  std::string_view in{reinterpret_cast<const char*>(data), size};
  auto general = parser.parse_general(in);
  // The production parser (fast path first) says exactly what the general
  // path says, whichever path took the frame.
  require(parser.parse(in) == general);
  parse_result scanned;
  if (!scan_canonical_trade(in, scanned)) {
    // A declined frame leaves the result alone.
    require(scanned == parse_result{});
    return 0;
  }
  // Accepted: a trade, the same on all three implementations.
  require(scanned.status == parse_status::trade);
  require(scanned == general);
  require(scanned == parse_trade_line_nlohmann(in));
  return 0;
}
