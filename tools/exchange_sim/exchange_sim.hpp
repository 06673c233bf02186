#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tools/exchange_sim/faults.hpp"
#include "tools/exchange_sim/sim_config.hpp"

namespace csp::tools {

/// The loopback exchange: one listening port serving Binance REST and
/// WebSocket streams, the chart API and the control endpoint, with its own
/// I/O thread. Usable in process (tests) and by the csp-exchange-sim
/// executable.
class exchange_sim {
public:
  /// Creates a stopped simulator for `cfg`.
  explicit exchange_sim(sim_config cfg);

  /// Stops the simulator (see stop()).
  ~exchange_sim();

  exchange_sim(const exchange_sim&) = delete;

  exchange_sim& operator=(const exchange_sim&) = delete;

  /// Binds, opens the trade log and starts the I/O thread. Returns an error
  /// message, or an empty string on success.
  std::string start();

  /// Returns the bound port (valid after a successful start()).
  std::uint16_t port() const noexcept;

  /// Returns "ws" or "wss" prefixed URL base, e.g. "ws://127.0.0.1:1234".
  std::string ws_base() const;

  /// Returns the HTTP base URL, e.g. "http://127.0.0.1:1234".
  std::string http_base() const;

  /// Closes every connection, flushes and closes the trade log and joins
  /// the I/O thread. Idempotent.
  void stop();

  /// Returns a snapshot of the counters (thread-safe).
  sim_stats stats();

  /// Applies a control request body (as POST /control/faults would);
  /// returns an error message or an empty string (thread-safe).
  std::string control(const std::string& json);

  /// Generates trades up to now, writes the log and flushes it
  /// (thread-safe; the I/O thread also does this every tick).
  void flush();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace csp::tools
