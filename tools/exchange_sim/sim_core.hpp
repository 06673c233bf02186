#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tools/exchange_sim/faults.hpp"
#include "tools/exchange_sim/market.hpp"
#include "tools/exchange_sim/sim_config.hpp"
#include "tools/exchange_sim/trade_log.hpp"

namespace csp::tools {

/// Returns the wall clock in ms since the epoch.
inline std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

/// What the server can ask of a live WebSocket session.
class ws_session_base {
public:
  virtual ~ws_session_base() = default;

  /// New trades exist: write what the subscriptions ask for.
  virtual void on_trades() = 0;

  /// Close the connection abruptly (fault injection or shutdown).
  virtual void drop() = 0;

  /// Stop writing anything (data and pings) for `ms` milliseconds.
  virtual void stall(std::int64_t ms) = 0;
};

/// The simulator's shared state. Owned by and only touched on the I/O
/// thread.
struct sim_core {
  /// Creates the state for `cfg` at wall time `start_ms`.
  sim_core(const sim_config& cfg, std::int64_t start_ms)
      : config(cfg), crypto(cfg.symbols, cfg.rate, cfg.seed, cfg.history,
                       start_ms - cfg.past_s * 1000),
        stocks(cfg.stocks, cfg.seed, start_ms), faults(cfg.faults, cfg.seed) {
    // nop
  }

  sim_config config;
  market crypto;
  stock_market stocks;
  fault_injector faults;
  trade_log log;
  std::int64_t http_requests = 0;
  std::int64_t next_connection_id = 1;
  std::vector<std::weak_ptr<ws_session_base>> sessions;
  std::vector<std::shared_ptr<connection_stats>> connections;

  /// Calls `f` on every live session (and forgets dead ones).
  template <class F>
  void for_each_session(F f) {
    auto live = sessions.begin();
    for (auto& w : sessions) {
      if (auto s = w.lock()) {
        *live++ = w;
        f(*s);
      }
    }
    sessions.erase(live, sessions.end());
  }

  /// Performs the one-off actions of a control request (drop every
  /// connection now, stall every connection now for the configured time).
  void run_actions(const control_actions& acts) {
    if (acts.drop_now) {
      ++faults.counters.drops;
      for_each_session([](ws_session_base& s) { s.drop(); });
    }
    auto ms = faults.settings().stall_ms;
    if (acts.stall_now && ms > 0) {
      ++faults.counters.stalls;
      for_each_session([ms](ws_session_base& s) { s.stall(ms); });
    }
  }

  /// Registers a new connection's counters and returns them.
  std::shared_ptr<connection_stats> add_connection(std::string target) {
    auto st = std::make_shared<connection_stats>();
    st->id = next_connection_id++;
    st->target = std::move(target);
    connections.push_back(st);
    return st;
  }

  /// Returns a snapshot of every counter.
  sim_stats snapshot() const {
    sim_stats s;
    s.trades_generated = crypto.generated();
    s.http_requests = http_requests;
    s.faults = faults.counters;
    for (auto& c : connections)
      s.connections.push_back(*c);
    return s;
  }
};

} // namespace csp::tools
