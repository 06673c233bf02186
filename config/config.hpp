#pragma once

// The platform's configuration: one JSON file read into plain structs.
// Every section and key is optional (defaults below); unknown keys, wrong
// types and invalid values are errors, all reported together. Secrets come
// only from the environment.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace csp::config {

/// Which actors a node runs: "all" (one process), or one role of a
/// distributed deployment: "collector", "processor", "api".
enum class node_role { all, collector, processor, api };

/// Log severities, named as in the structured log lines: "debug", "info",
/// "warning", "error", "critical" in the file; DEBUG... in the log.
enum class log_level { debug, info, warning, error, critical };

/// Config-file spelling of a role ("all", "collector", ...).
std::string_view to_string(node_role x) noexcept;

/// Config-file spelling of a level ("debug", "info", "warning", ...).
std::string_view to_string(log_level x) noexcept;

/// Parses a config-file level name; std::nullopt if unknown.
std::optional<log_level> parse_log_level(std::string_view str) noexcept;

/// The `node` section.
struct node_config {
  node_role role = node_role::all;
  /// Node name, used in logs and as the CAF node's label.
  std::string name = "csp";
};

/// The `log` section.
struct log_config {
  log_level level = log_level::info;
  /// Directory of the daily log files `app_YYYY-MM-DD.log` (relative to
  /// the working directory unless absolute).
  std::string dir = "logs";
  /// One JSON object per line in the file sink (false: plain text).
  bool json = true;
  /// Files of days more than this many days before today are deleted
  /// (0 keeps every file).
  std::int64_t retention_days = 30;
};

/// The `metrics` section: where every node serves /metrics (the API node
/// serves it on its API port too).
struct metrics_config {
  std::uint16_t port = 9090;
  /// Address to bind, e.g. "127.0.0.1" or "0.0.0.0" in a container where
  /// Prometheus scrapes from another host (IPv6 without brackets).
  std::string bind = "127.0.0.1";
};

/// `exchanges.binance`.
struct binance_config {
  bool enabled = true;
  /// WebSocket base (combined streams are under /stream).
  std::string ws_url = "wss://stream.binance.com:9443";
  /// REST base (backfill via /api/v3/historicalTrades).
  std::string rest_url = "https://api.binance.com";
  /// Upper-case alphanumeric symbols, e.g. "BTCUSDT".
  std::vector<std::string> symbols = {"BTCUSDT", "ETHUSDT"};
  /// Streams per WebSocket connection (Binance allows 1024).
  std::int64_t streams_per_connection = 1024;
  /// Reconnect this long after connecting, before Binance's 24 h cut-off.
  std::int64_t reconnect_before_ms = std::int64_t{23} * 3'600'000;
  /// A trade_batch is sent when it holds this many trades...
  std::int64_t batch_max_trades = 512;
  /// ... or when its oldest trade is this old; 0: at the end of each
  /// drain of the collector's inbox (every socket read's trades are passed
  /// on at once, so no trade waits for a timer).
  std::int64_t batch_max_age_ms = 0;
  /// Back-pressure: a pause asked by storage stops reading the WebSocket
  /// for at most this long (the exchange's pings go unanswered meanwhile).
  std::int64_t max_pause_ms = 10'000;
  /// After a pause ended by max_pause_ms, read at least this long before
  /// pausing again.
  std::int64_t resume_window_ms = 1'000;
};

/// `exchanges.yahoo`: stock quotes by polling the chart API.
struct yahoo_config {
  bool enabled = true;
  std::string base_url = "https://query1.finance.yahoo.com";
  /// Upper-case tickers; besides A-Z and 0-9 they may contain . - ^ =
  /// (e.g. "BRK-B", "^GSPC", "EURUSD=X").
  std::vector<std::string> symbols = {"AAPL", "MSFT"};
  std::int64_t poll_interval_ms = 60'000;
};

/// The `exchanges` section.
struct exchanges_config {
  binance_config binance;
  yahoo_config yahoo;
};

/// The `bars` section.
struct bars_config {
  /// A bar closes this long after its boundary.
  std::int64_t grace_ms = 2'000;
  /// Later trades re-open the bar as a revision up to this age; older ones
  /// are recorded as late trades.
  std::int64_t allowed_lateness_ms = 300'000;
  /// Labels "1m", "5m", "15m", "1h", "4h", "1d" (no duplicates).
  std::vector<std::string> timeframes = {"1m", "5m", "15m", "1h", "4h", "1d"};
  /// Processing shards under the processing supervisor; every instrument
  /// always maps to the same one (a stable hash of exchange and symbol).
  std::int64_t shards = 1;
};

/// The `quality` section: data-quality scoring.
struct quality_config {
  /// Length of the sliding window of the score.
  std::int64_t window_ms = 300'000;
  /// A feed without data for this long is stale.
  std::int64_t stale_after_ms = 60'000;
  /// A price further than this from the recent mean is an anomaly (percent).
  double price_anomaly_pct = 10.0;
  /// A quantity this many times the recent mean is an anomaly.
  double volume_anomaly_factor = 10.0;
  /// Trade time further than this from the receive time is skewed.
  std::int64_t max_timestamp_skew_ms = 5'000;
  /// Issues kept in a quality_report.
  std::int64_t max_recent_issues = 50;
};

/// The `circuit_breaker` section (collectors).
struct circuit_breaker_config {
  /// Consecutive failures that open the circuit.
  std::int64_t failure_threshold = 5;
  /// First open period; doubled on every re-open up to the maximum.
  std::int64_t open_timeout_ms = 60'000;
  /// Successes in half-open that close the circuit.
  std::int64_t success_threshold = 2;
  std::int64_t max_open_timeout_ms = 300'000;
};

/// The `database` section (PostgreSQL).
struct database_config {
  /// Store bars, indicators, quality reports and trades.
  bool enabled = true;
  /// Apply pending migrations when a node starts.
  bool migrate_on_start = true;
  /// Keep every raw trade (the `trades` table).
  bool archive_trades = true;
  /// Folder of the writers' spool files (batches kept during outages).
  std::string spool_dir = ".data/spool";
  /// A writer flushes when it buffers this many rows...
  std::int64_t flush_rows = 20'000;
  /// ... or when its oldest buffered row is this old.
  std::int64_t flush_age_ms = 500;
  /// Back-pressure: rows handed to the writers and not yet written or
  /// spooled at which the collectors are asked to pause (they may go on at
  /// half of it); 0 turns back-pressure off.
  std::int64_t max_inflight_rows = 200'000;
  /// Overridden by DB_HOST.
  std::string host = "127.0.0.1";
  /// Overridden by DB_PORT.
  std::uint16_t port = 5432;
  /// Overridden by DB_NAME.
  std::string name = "csp";
  /// Overridden by DB_USER.
  std::string user = "csp";
  /// Writer connections.
  std::int64_t pool_size = 4;
  /// Only from DB_PASSWORD; never read from the file.
  std::string password;
};

/// The `redis` section.
struct redis_config {
  /// Cache recent data in Redis.
  bool enabled = true;
  /// redis://[:password@]host[:port][/db]; overridden by REDIS_URL.
  /// (rediss:// is refused: hiredis 0.14 has no TLS.)
  std::string url = "redis://127.0.0.1:6379";
};

/// The `api` section (REST + WebSocket).
struct api_config {
  std::uint16_t port = 8000;
  std::string bind = "127.0.0.1";
  /// Only from JWT_SECRET; never read from the file.
  std::string jwt_secret;
  /// I/O threads of the HTTP/WebSocket server (1..64): requests and
  /// WebSocket upgrades.
  std::int64_t threads = 2;
  /// Threads of the WebSocket connections (0..64; 0 = one per core).
  std::int64_t ws_threads = 0;
  /// Largest request body accepted.
  std::int64_t max_body_bytes = 1'048'576;
  /// Largest request line plus header fields accepted.
  std::int64_t max_header_bytes = 16'384;
  /// A request must arrive completely within this time.
  std::int64_t read_timeout_ms = 10'000;
  /// A keep-alive connection without a request for this long is closed.
  std::int64_t idle_timeout_ms = 60'000;
  /// Reads (GET, WebSocket subscriptions) need a viewer token too; writes
  /// always need an admin token.
  bool reads_require_auth = false;
  /// Browser origins allowed by CORS: exact "scheme://host[:port]" (http or
  /// https, lower-case, no path, no default port) or the single entry "*".
  /// Empty: no CORS headers at all.
  std::vector<std::string> cors_origins;
  /// Requests per second each client regains (a token bucket per client).
  double rate_limit_per_second = 100;
  /// Requests a client may make at once.
  std::int64_t rate_limit_burst = 200;
  /// Most clients the rate limiter tracks at once (memory bound).
  std::int64_t rate_limit_clients = 100'000;
  /// WebSocket: updates of a forming (open) bar are sent at most this often
  /// per subscription; closed bars are sent at once.
  std::int64_t ws_forming_interval_ms = 1'000;
  /// WebSocket: messages queued per connection before it counts as slow.
  std::int64_t ws_queue_limit = 256;
  /// WebSocket: a ping is sent after this long without traffic.
  std::int64_t ws_ping_interval_ms = 20'000;
  /// WebSocket: most subscriptions per connection.
  std::int64_t ws_max_subscriptions = 100;
  /// WebSocket: closed bars sent as the snapshot of a new subscription.
  std::int64_t ws_snapshot_bars = 500;
};

/// The whole configuration of one node.
struct platform_config {
  node_config node;
  log_config log;
  metrics_config metrics;
  exchanges_config exchanges;
  bars_config bars;
  quality_config quality;
  circuit_breaker_config circuit_breaker;
  database_config database;
  redis_config redis;
  api_config api;
};

/// Looks up an environment variable; std::nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(std::string_view)>;

/// The process environment (getenv).
env_lookup process_environment();

/// An environment with no variables (for tests and defaults).
env_lookup empty_environment();

/// Outcome of loading a configuration: a config, or every problem found.
struct load_result {
  /// Set if and only if `errors` is empty.
  std::optional<platform_config> config;
  /// One line per problem, each starting with the JSON path of the key
  /// (e.g. "exchanges.binance.symbol: unknown key") or "env VAR:".
  std::vector<std::string> errors;

  bool ok() const noexcept { return config.has_value(); }
};

/// Returns an error text when `str` is not a non-empty symbol of upper-case
/// letters and digits (plus the characters in `extra`, e.g. ".-^=" for
/// stock tickers), else nullopt. Used for config values and command lines.
std::optional<std::string> check_symbol(
  const std::string& str, std::string_view extra);

/// Returns an error text when `origin` is not a CORS origin the API can
/// match: "*", or "http://" or "https://" followed by a lower-case host
/// name, IPv4 address or bracketed IPv6 address and an optional port
/// 1..65535 that is not the scheme's default, with nothing after it (no
/// path, not even "/"), exactly as browsers send the Origin header; else
/// nullopt. Used for `api.cors_origins` and by api/cors.
std::optional<std::string> check_cors_origin(std::string_view origin);

/// Splits a comma-separated list ("a,b,,c" gives {"a", "b", "c"}), as the
/// command lines take symbol lists.
std::vector<std::string> split_list(std::string_view s);

/// Parses a configuration from JSON text and applies the environment.
load_result parse_config(std::string_view json_text, const env_lookup& env);

/// Reads `path` and calls parse_config.
load_result load_config_file(const std::string& path, const env_lookup& env);

} // namespace csp::config
