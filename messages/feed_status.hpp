#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace csp::messages {

/// Health of one feed connection, sent by a collector to the bar builders of
/// its symbols whenever the connection goes up or down. Bar builders emit
/// zero-volume bars for quiet minutes only while the feed is healthy.
struct feed_status {
  /// Exchange name, e.g. "binance".
  std::string exchange;
  /// The symbols served by the connection (upper case, e.g. "BTCUSDT").
  std::vector<std::string> symbols;
  /// True when the connection is up and delivering data.
  bool healthy = false;
  /// When the state was observed, ms since the epoch (UTC).
  std::int64_t time_ms = 0;
  /// Why, e.g. "connected", "disconnected", "stale", "circuit_open".
  std::string reason;

  friend bool operator==(const feed_status& x, const feed_status& y) {
    return x.exchange == y.exchange && x.symbols == y.symbols
      && x.healthy == y.healthy && x.time_ms == y.time_ms
      && x.reason == y.reason;
  }
  friend bool operator!=(const feed_status& x, const feed_status& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
