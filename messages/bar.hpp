#pragma once

#include <cstdint>
#include <string>

#include "messages/decimal.hpp"
#include "messages/timeframe.hpp"

namespace csp::messages {

/// One OHLCV bar (a candle) of one instrument and timeframe, with the fields
/// a Binance kline carries. A bar covers [open_time_ms, close_time_ms].
struct bar {
  std::string exchange;
  std::string symbol;
  timeframe tf = timeframe::m1;
  std::int64_t open_time_ms = 0;
  /// open_time_ms + duration - 1 ms.
  std::int64_t close_time_ms = 0;
  decimal open;
  decimal high;
  decimal low;
  decimal close;
  /// Base-asset volume.
  wide_decimal volume;
  /// Quote-asset volume: the exact sum of price × quantity, rounded
  /// half-to-even to 1e-8 once per bar.
  wide_decimal quote_volume;
  /// Base volume of trades where the buyer was the taker (Binance `V`).
  wide_decimal taker_buy_volume;
  /// Quote volume of trades where the buyer was the taker (Binance `Q`).
  wide_decimal taker_buy_quote_volume;
  std::int64_t trade_count = 0;
  /// First and last exchange trade id in the bar; -1 when it has no trade.
  std::int64_t first_trade_id = -1;
  std::int64_t last_trade_id = -1;
  /// 0 for the first closed version, incremented by every revision.
  std::int32_t revision = 0;
  /// False while the bar is still forming.
  bool closed = false;

  friend bool operator==(const bar& x, const bar& y) noexcept {
    return x.exchange == y.exchange && x.symbol == y.symbol && x.tf == y.tf
      && x.open_time_ms == y.open_time_ms && x.close_time_ms == y.close_time_ms
      && x.open == y.open && x.high == y.high && x.low == y.low
      && x.close == y.close && x.volume == y.volume
      && x.quote_volume == y.quote_volume
      && x.taker_buy_volume == y.taker_buy_volume
      && x.taker_buy_quote_volume == y.taker_buy_quote_volume
      && x.trade_count == y.trade_count && x.first_trade_id == y.first_trade_id
      && x.last_trade_id == y.last_trade_id && x.revision == y.revision
      && x.closed == y.closed;
  }
  friend bool operator!=(const bar& x, const bar& y) noexcept {
    return !(x == y);
  }
};

} // namespace csp::messages
