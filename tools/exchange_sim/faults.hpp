#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tools/exchange_sim/sim_config.hpp"

namespace csp::tools {

/// How many faults of each kind were injected.
struct fault_counters {
  std::int64_t drops = 0;
  std::int64_t stalls = 0;
  std::int64_t malformed = 0;
  std::int64_t duplicates = 0;
  std::int64_t reorders = 0;
  std::int64_t skips = 0;
  std::int64_t http_429 = 0;
  std::int64_t http_5xx = 0;
  std::int64_t delayed = 0;
};

/// Counters of one WebSocket connection.
struct connection_stats {
  std::int64_t id = 0;
  /// Request target of the upgrade, e.g. "/ws/btcusdt@trade".
  std::string target;
  bool open = true;
  /// Trade events written (duplicates count twice).
  std::int64_t trades_sent = 0;
  /// Data frames written (trades, replies, malformed frames).
  std::int64_t frames_sent = 0;
  std::int64_t bytes_sent = 0;
  std::int64_t pings_sent = 0;
  std::int64_t pongs_received = 0;
};

/// A snapshot of the simulator's counters (GET /control/stats).
struct sim_stats {
  std::int64_t trades_generated = 0;
  std::int64_t http_requests = 0;
  fault_counters faults;
  std::vector<connection_stats> connections;
};

/// Returns `s` as the JSON of GET /control/stats.
std::string to_json(const sim_stats& s);

/// Returns `f` as the JSON of GET /control/faults.
std::string to_json(const fault_settings& f);

/// What a POST /control/faults asked for besides new settings.
struct control_actions {
  bool drop_now = false;
  bool stall_now = false;
};

/// Applies the fields present in the JSON object `body` to `f`. Returns an
/// error message (and leaves `f` unchanged) when the body is invalid.
std::string apply_control(
  std::string_view body, fault_settings& f, control_actions& actions);

/// The current fault settings plus the random source deciding each fault.
/// Not thread-safe: owned by the server's I/O thread.
class fault_injector {
public:
  /// The outcome of asking whether an HTTP request fails.
  enum class http_fault { none, too_many_requests, unavailable };

  /// Creates an injector with `settings` and a seeded random source.
  fault_injector(const fault_settings& settings, std::uint64_t seed);

  /// Returns the current settings (mutable: the control endpoint edits
  /// them).
  fault_settings& settings() noexcept { return settings_; }

  /// Returns true with probability `p` (never draws for p == 0).
  bool chance(double p) {
    return p > 0 && std::generate_canonical<double, 32>(rng_) < p;
  }

  /// Decides (and counts) the fault of the next REST/chart request.
  http_fault next_http();

  /// Counters of injected faults.
  fault_counters counters;

private:
  fault_settings settings_;
  std::mt19937_64 rng_;
};

} // namespace csp::tools
