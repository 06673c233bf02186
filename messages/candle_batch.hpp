#pragma once

#include <string>
#include <vector>

#include "messages/bar.hpp"

namespace csp::messages {

/// Closed 1m candles of one instrument from a polled source (the stock
/// poller): the pipeline's input where no trade stream exists. Each candle
/// is sent once, in time order.
struct candle_batch {
  /// Exchange name, e.g. "yahoo".
  std::string exchange;
  /// Upper-case symbol, e.g. "AAPL".
  std::string symbol;
  /// 1m bars with closed = true.
  std::vector<bar> candles;

  friend bool operator==(const candle_batch& x, const candle_batch& y) {
    return x.exchange == y.exchange && x.symbol == y.symbol
      && x.candles == y.candles;
  }
  friend bool operator!=(const candle_batch& x, const candle_batch& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
