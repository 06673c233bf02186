#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace csp::tools {

/// Fault-injection settings; every field defaults to "no fault".
struct fault_settings {
  /// Close every WebSocket connection every N seconds (0 = never).
  std::int64_t drop_every_s = 0;
  /// Stall every WebSocket connection every N seconds (0 = never)...
  std::int64_t stall_every_s = 0;
  /// ... for this many milliseconds (also used by a "stall now" request).
  std::int64_t stall_ms = 0;
  /// Probability per streamed trade of an extra malformed (truncated) frame.
  double malformed_prob = 0;
  /// Probability per streamed trade of sending it twice.
  double duplicate_prob = 0;
  /// Probability per streamed trade of swapping it with the next one.
  double reorder_prob = 0;
  /// Probability per streamed trade of withholding it from the stream.
  double skip_prob = 0;
  /// Probability per REST/chart request of HTTP 429 with Retry-After.
  double http_429_prob = 0;
  /// The next N REST/chart requests get HTTP 429.
  std::int64_t http_429_next = 0;
  /// Value of the Retry-After header, in seconds.
  std::int64_t retry_after_s = 1;
  /// Probability per REST/chart request of HTTP 503.
  double http_5xx_prob = 0;
  /// The next N REST/chart requests get HTTP 503.
  std::int64_t http_5xx_next = 0;
  /// Latency added to every HTTP response and WebSocket write (ms).
  std::int64_t latency_ms = 0;
};

/// Everything csp-exchange-sim is configured with.
struct sim_config {
  /// Listen host; must be a loopback address unless allow_non_loopback.
  std::string host = "127.0.0.1";
  /// Listen port; 0 picks an ephemeral port.
  std::uint16_t port = 0;
  /// Accept a non-loopback host.
  bool allow_non_loopback = false;
  /// Crypto symbols streamed over the Binance protocol.
  std::vector<std::string> symbols{"BTCUSDT", "ETHUSDT"};
  /// Stock symbols served by the chart API.
  std::vector<std::string> stocks{"AAPL", "MSFT"};
  /// Mean total trade rate across all crypto symbols (trades/s).
  double rate = 10;
  /// Seed of every random process.
  std::uint64_t seed = 1;
  /// Ground-truth trade log (JSON lines); empty = none.
  std::string trade_log;
  /// PEM certificate chain and private key; both set = TLS.
  std::string tls_cert;
  std::string tls_key;
  /// Interval of server WebSocket pings.
  std::int64_t ping_interval_ms = 20'000;
  /// A connection without a pong for this long is closed.
  std::int64_t pong_timeout_ms = 60'000;
  /// Period of the trade generator.
  std::int64_t tick_ms = 10;
  /// Trades kept per symbol for REST (older ones are forgotten).
  std::int64_t history = 2'000'000;
  /// Crypto trades start this many seconds before the simulator does:
  /// that past is generated at once on the first tick (and logged), so
  /// REST klines and historical trades have history to backfill from.
  std::int64_t past_s = 0;
  /// Stop after this many seconds (0 = run until a signal).
  std::int64_t duration_s = 0;
  /// Initial fault settings (the control endpoint changes them).
  fault_settings faults;

  /// Returns whether TLS is configured.
  bool tls() const noexcept { return !tls_cert.empty(); }
};

/// The outcome of parsing a command line.
struct cli_result {
  /// The configuration (valid when error is empty and !help).
  sim_config config;
  /// True when --help was given.
  bool help = false;
  /// A message for the user when the command line is invalid.
  std::string error;
};

/// Parses `args` (without the program name) into a configuration.
cli_result parse_cli(const std::vector<std::string>& args);

/// Returns the --help text.
std::string cli_help();

/// Returns whether `host` names a loopback address (127.0.0.0/8, ::1,
/// localhost).
bool is_loopback_host(const std::string& host);

} // namespace csp::tools
