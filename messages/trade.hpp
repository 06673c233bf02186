#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/decimal.hpp"

namespace csp::messages {

/// One executed trade as the exchange reported it. Carries no strings: the
/// instrument is named once per trade_batch, so the hot path never allocates.
struct trade {
  /// Exchange trade id (Binance `t`), sequential per symbol.
  std::int64_t id = 0;
  decimal price;
  decimal quantity;
  /// Trade time (Binance `T`), ms since the Unix epoch, UTC.
  std::int64_t trade_time_ms = 0;
  /// Event time (Binance `E`), ms since the Unix epoch, UTC.
  std::int64_t event_time_ms = 0;
  /// Binance `m`: true when the buyer was the maker (a taker sell).
  bool buyer_is_maker = false;
  /// Local receive time, ns since the Unix epoch.
  std::int64_t receive_time_ns = 0;

  friend bool operator==(const trade& x, const trade& y) noexcept {
    return x.id == y.id && x.price == y.price && x.quantity == y.quantity
      && x.trade_time_ms == y.trade_time_ms
      && x.event_time_ms == y.event_time_ms
      && x.buyer_is_maker == y.buyer_is_maker
      && x.receive_time_ns == y.receive_time_ns;
  }
  friend bool operator!=(const trade& x, const trade& y) noexcept {
    return !(x == y);
  }
};

/// The trades of one instrument, in arrival order: the hot-path message from
/// collectors to bar builders.
struct trade_batch {
  std::string exchange;
  std::string symbol;
  std::vector<trade> trades;

  friend bool operator==(const trade_batch& x, const trade_batch& y) {
    return x.exchange == y.exchange && x.symbol == y.symbol
      && x.trades == y.trades;
  }
  friend bool operator!=(const trade_batch& x, const trade_batch& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
