#pragma once

// Messages between the HTTP/WebSocket side of the API and its actors. They
// carry reply handles of the local server (net::responder, net::ws_peer),
// so they never leave the node: the API actors run where the server runs.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/allowed_unsafe_message_type.hpp"

#include "api/chart_cache.hpp"

#include "messages/bar.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/timeframe.hpp"
#include "net/http_server.hpp"

namespace csp::api {

/// The latest open time a request may name (9999-12-31T23:59:59.999Z).
inline constexpr std::int64_t max_time_ms = 253'402'300'799'999;

/// A validated request for an api_worker.
struct api_call {
  enum class kind : std::uint8_t {
    symbols,
    chart,
    klines,
    quality,
    export_csv,
    add_symbol,
    remove_symbol,
  };
  kind what = kind::symbols;
  /// Empty: the exchange listing `symbol`.
  std::string exchange;
  std::string symbol;
  messages::timeframe tf = messages::timeframe::m1;
  /// Open-time range, inclusive.
  std::int64_t start_ms = 0;
  std::int64_t end_ms = max_time_ms;
  std::size_t limit = 500;
  /// add_symbol: "crypto" or "stock".
  std::string asset_class;
  /// chart: the worker fills the chart cache with the response (whose
  /// waiters, the request's responder among them, get it from there).
  bool fill_chart_cache = false;
};

/// The chart cache key of a chart call (before its exchange is resolved).
inline chart_key chart_key_of(const api_call& c) {
  return chart_key{c.exchange, c.symbol, c.tf, c.start_ms, c.end_ms, c.limit};
}

/// Closed bars of one instrument with their stored indicators, oldest
/// first (a WebSocket snapshot). `error_code` (e.g. "unknown_symbol",
/// "unavailable") and `error` are set when they could not be read.
struct bar_history {
  std::string exchange;
  std::vector<messages::bar> bars;
  std::vector<messages::indicator_snapshot> indicators;
  std::string error_code;
  std::string error;
};

/// A WebSocket connection accepted by the server, for the broadcaster.
struct ws_open {
  std::shared_ptr<net::ws_peer> peer;
  /// Whether the client authenticated with a token.
  bool authenticated = false;
};

/// A text message from WebSocket client `peer_id`.
struct ws_text {
  std::uint64_t peer_id = 0;
  std::string text;
};

/// The server wrote `count` more messages to WebSocket client `peer_id`
/// (room in its socket queue again; see net::ws_handlers::on_sent).
struct ws_sent {
  std::uint64_t peer_id = 0;
  std::size_t count = 0;
};

/// WebSocket client `peer_id` is gone.
struct ws_gone {
  std::uint64_t peer_id = 0;
  std::string reason;
};

} // namespace csp::api

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(csp::api::api_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(csp::api::bar_history)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(csp::api::ws_open)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(csp::api::ws_text)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(csp::api::ws_sent)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(csp::api::ws_gone)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(csp::net::responder)
