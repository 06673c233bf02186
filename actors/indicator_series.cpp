#include "actors/indicator_series.hpp"

#include <algorithm>

namespace csp::actors {

bool indicator_series::on_bar(const ohlcv& bar, output& out) {
  return replay_.apply(
    bar, no_input{}, [](std::int64_t, no_input&) {},
    [&out](const ohlcv& b, const no_input&, indicator_calculator& calc) {
      out.emplace_back(b.open_time_ms, calc.update(b));
    });
}

} // namespace csp::actors
