#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/behavior.hpp"
#include "caf/fwd.hpp"
#include "caf/stateful_actor.hpp"

#include "net/io_thread.hpp"

namespace csp::actors {

/// Spawn settings of a stock_poller.
struct stock_poller_options {
  /// The `collector` label and the name in collector_events.
  std::string name = "yahoo";
  /// The `exchange` label and candle_batch.exchange.
  std::string exchange = "yahoo";
  /// Chart API base (http:// or https://).
  std::string base_url = "https://query1.finance.yahoo.com";
  /// Tickers; those ending in ".IS" trade on Borsa Istanbul, all others
  /// are taken to trade on NYSE hours.
  std::vector<std::string> symbols;
  std::int64_t poll_interval_ms = 60'000;
  /// Poll only while the symbol's market is open (plus close_grace_ms, so
  /// the last candle of the session is picked up). Off for simulators that
  /// trade around the clock.
  bool respect_market_hours = true;
  std::int64_t close_grace_ms = 180'000;
  /// Full-day closures, local dates yyyymmdd.
  std::vector<std::int32_t> nyse_holidays;
  std::vector<std::int32_t> bist_holidays;
  /// Directory of the tz database.
  std::string zoneinfo_dir = "/usr/share/zoneinfo";
  /// Backoff after 5xx or transport errors: first delay, cap, jitter seed.
  std::int64_t backoff_base_ms = 1'000;
  std::int64_t backoff_max_ms = 300'000;
  std::uint64_t seed = 1;
  /// Metric deltas go to the metrics actor this often.
  std::int64_t metrics_flush_ms = 1'000;
  net::client_options client;
  /// The I/O thread to use; when null the poller starts its own.
  std::shared_ptr<net::io_thread> io;
};

/// Private state of a stock_poller (defined in the .cpp).
struct stock_poller_impl;

/// State of a stock_poller actor.
struct stock_poller_state {
  std::shared_ptr<stock_poller_impl> impl;
  static inline const char* name = "stock_poller";
};

/// Polls `<base_url>/v8/finance/chart/{symbol}?interval=1m&range=1d` for
/// every symbol each poll interval while its market is open, and sends each
/// newly closed 1m candle once, as a candle_batch to `sink`. Honours 429
/// Retry-After and backs off exponentially on 5xx and transport errors;
/// reports collector_events to `supervisor`; bad JSON is counted as
/// collector_errors_total and never fatal. Handles symbol_command; ignores
/// flow_control (a poller's load is too small to pause).
caf::behavior stock_poller(caf::stateful_actor<stock_poller_state>* self,
  stock_poller_options opts, caf::actor sink, caf::actor supervisor,
  caf::actor metrics);

} // namespace csp::actors
