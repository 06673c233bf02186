#define CAF_SUITE config
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "config/config.hpp"

using namespace csp::config;

namespace {

using string_list = std::vector<std::string>;

env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto i = vars.find(std::string{name});
    if (i == vars.end())
      return std::nullopt;
    return i->second;
  };
}

load_result parse(const std::string& text) {
  return parse_config(text, empty_environment());
}

/// True if `errors` holds exactly `line`; prints all errors otherwise.
bool has_error(const string_list& errors, const std::string& line) {
  if (std::find(errors.begin(), errors.end(), line) != errors.end())
    return true;
  CAF_MESSAGE("missing error line: " << line);
  for (auto& e : errors)
    CAF_MESSAGE("  have: " << e);
  return false;
}

/// True if some error starts with `prefix`.
bool has_error_prefix(const string_list& errors, const std::string& prefix) {
  for (auto& e : errors)
    if (e.compare(0, prefix.size(), prefix) == 0)
      return true;
  CAF_MESSAGE("no error starts with: " << prefix);
  for (auto& e : errors)
    CAF_MESSAGE("  have: " << e);
  return false;
}

/// Expects exactly one error, starting with `prefix`.
void expect_single_error(const std::string& text, const std::string& prefix) {
  auto res = parse(text);
  CAF_CHECK(!res.ok());
  CAF_CHECK_EQUAL(res.errors.size(), 1u);
  CAF_CHECK(has_error_prefix(res.errors, prefix));
}

} // namespace

CAF_TEST(an empty object yields the documented defaults) {
  auto res = parse("{}");
  CAF_REQUIRE(res.ok());
  CAF_CHECK(res.errors.empty());
  auto& c = *res.config;
  CAF_CHECK(c.node.role == node_role::all);
  CAF_CHECK_EQUAL(c.node.name, "csp");
  CAF_CHECK(c.log.level == log_level::info);
  CAF_CHECK_EQUAL(c.log.dir, "logs");
  CAF_CHECK_EQUAL(c.log.json, true);
  CAF_CHECK_EQUAL(c.log.retention_days, 30);
  CAF_CHECK_EQUAL(c.metrics.port, 9090);
  CAF_CHECK_EQUAL(c.metrics.bind, "127.0.0.1");
  CAF_CHECK_EQUAL(c.exchanges.binance.enabled, true);
  CAF_CHECK_EQUAL(c.exchanges.binance.ws_url, "wss://stream.binance.com:9443");
  CAF_CHECK_EQUAL(c.exchanges.binance.rest_url, "https://api.binance.com");
  CAF_CHECK(c.exchanges.binance.symbols == (string_list{"BTCUSDT", "ETHUSDT"}));
  CAF_CHECK_EQUAL(c.exchanges.binance.streams_per_connection, 1024);
  CAF_CHECK_EQUAL(c.exchanges.binance.reconnect_before_ms, 82'800'000);
  CAF_CHECK_EQUAL(c.exchanges.binance.max_pause_ms, 10'000);
  CAF_CHECK_EQUAL(c.exchanges.binance.resume_window_ms, 1'000);
  CAF_CHECK_EQUAL(c.exchanges.yahoo.poll_interval_ms, 60'000);
  CAF_CHECK_EQUAL(c.bars.grace_ms, 2000);
  CAF_CHECK_EQUAL(c.bars.allowed_lateness_ms, 300'000);
  CAF_CHECK_EQUAL(c.bars.shards, 1);
  CAF_CHECK(
    c.bars.timeframes == (string_list{"1m", "5m", "15m", "1h", "4h", "1d"}));
  CAF_CHECK_EQUAL(c.circuit_breaker.failure_threshold, 5);
  CAF_CHECK_EQUAL(c.circuit_breaker.open_timeout_ms, 60'000);
  CAF_CHECK_EQUAL(c.circuit_breaker.success_threshold, 2);
  CAF_CHECK_EQUAL(c.circuit_breaker.max_open_timeout_ms, 300'000);
  CAF_CHECK_EQUAL(c.database.host, "127.0.0.1");
  CAF_CHECK_EQUAL(c.database.port, 5432);
  CAF_CHECK_EQUAL(c.database.name, "csp");
  CAF_CHECK_EQUAL(c.database.user, "csp");
  CAF_CHECK_EQUAL(c.database.pool_size, 4);
  CAF_CHECK_EQUAL(c.database.max_inflight_rows, 200'000);
  CAF_CHECK_EQUAL(c.database.password, "");
  CAF_CHECK_EQUAL(c.redis.url, "redis://127.0.0.1:6379");
  CAF_CHECK_EQUAL(c.api.port, 8000);
  CAF_CHECK_EQUAL(c.api.bind, "127.0.0.1");
  CAF_CHECK_EQUAL(c.api.jwt_secret, "");
  CAF_CHECK_EQUAL(c.api.threads, 2);
  CAF_CHECK_EQUAL(c.api.ws_threads, 0);
  CAF_CHECK_EQUAL(c.api.max_body_bytes, 1'048'576);
  CAF_CHECK_EQUAL(c.api.max_header_bytes, 16'384);
  CAF_CHECK_EQUAL(c.api.read_timeout_ms, 10'000);
  CAF_CHECK_EQUAL(c.api.idle_timeout_ms, 60'000);
  CAF_CHECK_EQUAL(c.api.reads_require_auth, false);
  CAF_CHECK(c.api.cors_origins.empty());
  CAF_CHECK_EQUAL(c.api.rate_limit_per_second, 100.0);
  CAF_CHECK_EQUAL(c.api.rate_limit_burst, 200);
  CAF_CHECK_EQUAL(c.api.rate_limit_clients, 100'000);
  CAF_CHECK_EQUAL(c.api.ws_forming_interval_ms, 1'000);
  CAF_CHECK_EQUAL(c.api.ws_queue_limit, 256);
  CAF_CHECK_EQUAL(c.api.ws_ping_interval_ms, 20'000);
  CAF_CHECK_EQUAL(c.api.ws_max_subscriptions, 100);
  CAF_CHECK_EQUAL(c.api.ws_snapshot_bars, 500);
}

CAF_TEST(a full file sets every key) {
  auto res = parse(R"({
    "node": {"role": "processor", "name": "proc-1"},
    "log": {"level": "warning", "dir": "/var/log/csp", "json": false,
            "retention_days": 7},
    "metrics": {"port": 9191, "bind": "0.0.0.0"},
    "exchanges": {
      "binance": {"enabled": false, "ws_url": "ws://127.0.0.1:9443",
                  "rest_url": "http://127.0.0.1:8080", "symbols": ["BNBBTC"],
                  "streams_per_connection": 200, "reconnect_before_ms": 1000,
                  "batch_max_trades": 64, "batch_max_age_ms": 0,
                  "max_pause_ms": 2500, "resume_window_ms": 300},
      "yahoo": {"enabled": false, "base_url": "http://127.0.0.1:8081",
                "symbols": ["BRK-B", "^GSPC", "EURUSD=X"],
                "poll_interval_ms": 5000}
    },
    "bars": {"grace_ms": 500, "allowed_lateness_ms": 600000,
             "timeframes": ["1m", "1h"], "shards": 4},
    "quality": {"window_ms": 60000, "stale_after_ms": 30000,
                "price_anomaly_pct": 2.5, "volume_anomaly_factor": 20,
                "max_timestamp_skew_ms": 100, "max_recent_issues": 10},
    "circuit_breaker": {"failure_threshold": 3, "open_timeout_ms": 1000,
                        "success_threshold": 1, "max_open_timeout_ms": 8000},
    "database": {"host": "db", "port": 6543, "name": "market", "user": "ingest",
                 "pool_size": 8, "enabled": false, "migrate_on_start": false,
                 "archive_trades": false, "spool_dir": "/var/spool/csp",
                 "flush_rows": 500, "flush_age_ms": 50,
                 "max_inflight_rows": 0},
    "redis": {"url": "redis://cache:6380/2", "enabled": false},
    "api": {"port": 8443, "bind": "0.0.0.0", "threads": 4, "ws_threads": 3,
            "max_body_bytes": 4096, "max_header_bytes": 8192,
            "read_timeout_ms": 5000, "idle_timeout_ms": 30000,
            "reads_require_auth": true,
            "cors_origins": ["https://app.example.com", "http://localhost:3000"],
            "rate_limit_per_second": 2.5, "rate_limit_burst": 10,
            "rate_limit_clients": 5000, "ws_forming_interval_ms": 250,
            "ws_queue_limit": 64, "ws_ping_interval_ms": 15000,
            "ws_max_subscriptions": 20, "ws_snapshot_bars": 0}
  })");
  for (auto& e : res.errors)
    CAF_MESSAGE("unexpected error: " << e);
  CAF_REQUIRE(res.ok());
  auto& c = *res.config;
  CAF_CHECK(c.node.role == node_role::processor);
  CAF_CHECK_EQUAL(c.node.name, "proc-1");
  CAF_CHECK(c.log.level == log_level::warning);
  CAF_CHECK_EQUAL(c.log.dir, "/var/log/csp");
  CAF_CHECK_EQUAL(c.log.json, false);
  CAF_CHECK_EQUAL(c.log.retention_days, 7);
  CAF_CHECK_EQUAL(c.metrics.port, 9191);
  CAF_CHECK_EQUAL(c.metrics.bind, "0.0.0.0");
  auto& b = c.exchanges.binance;
  CAF_CHECK_EQUAL(b.enabled, false);
  CAF_CHECK_EQUAL(b.ws_url, "ws://127.0.0.1:9443");
  CAF_CHECK_EQUAL(b.rest_url, "http://127.0.0.1:8080");
  CAF_CHECK(b.symbols == string_list{"BNBBTC"});
  CAF_CHECK_EQUAL(b.streams_per_connection, 200);
  CAF_CHECK_EQUAL(b.reconnect_before_ms, 1000);
  CAF_CHECK_EQUAL(b.batch_max_trades, 64);
  CAF_CHECK_EQUAL(b.batch_max_age_ms, 0);
  CAF_CHECK_EQUAL(b.max_pause_ms, 2500);
  CAF_CHECK_EQUAL(b.resume_window_ms, 300);
  auto& y = c.exchanges.yahoo;
  CAF_CHECK_EQUAL(y.enabled, false);
  CAF_CHECK_EQUAL(y.base_url, "http://127.0.0.1:8081");
  CAF_CHECK(y.symbols == (string_list{"BRK-B", "^GSPC", "EURUSD=X"}));
  CAF_CHECK_EQUAL(y.poll_interval_ms, 5000);
  CAF_CHECK_EQUAL(c.bars.grace_ms, 500);
  CAF_CHECK_EQUAL(c.bars.allowed_lateness_ms, 600'000);
  CAF_CHECK(c.bars.timeframes == (string_list{"1m", "1h"}));
  CAF_CHECK_EQUAL(c.bars.shards, 4);
  CAF_CHECK_EQUAL(c.quality.window_ms, 60'000);
  CAF_CHECK_EQUAL(c.quality.stale_after_ms, 30'000);
  CAF_CHECK_EQUAL(c.quality.price_anomaly_pct, 2.5);
  CAF_CHECK_EQUAL(c.quality.volume_anomaly_factor, 20.0);
  CAF_CHECK_EQUAL(c.quality.max_timestamp_skew_ms, 100);
  CAF_CHECK_EQUAL(c.quality.max_recent_issues, 10);
  CAF_CHECK_EQUAL(c.circuit_breaker.failure_threshold, 3);
  CAF_CHECK_EQUAL(c.circuit_breaker.open_timeout_ms, 1000);
  CAF_CHECK_EQUAL(c.circuit_breaker.success_threshold, 1);
  CAF_CHECK_EQUAL(c.circuit_breaker.max_open_timeout_ms, 8000);
  CAF_CHECK_EQUAL(c.database.host, "db");
  CAF_CHECK_EQUAL(c.database.port, 6543);
  CAF_CHECK_EQUAL(c.database.name, "market");
  CAF_CHECK_EQUAL(c.database.user, "ingest");
  CAF_CHECK_EQUAL(c.database.pool_size, 8);
  CAF_CHECK(!c.database.enabled);
  CAF_CHECK(!c.database.migrate_on_start);
  CAF_CHECK(!c.database.archive_trades);
  CAF_CHECK_EQUAL(c.database.spool_dir, "/var/spool/csp");
  CAF_CHECK_EQUAL(c.database.flush_rows, 500);
  CAF_CHECK_EQUAL(c.database.flush_age_ms, 50);
  CAF_CHECK_EQUAL(c.database.max_inflight_rows, 0);
  CAF_CHECK_EQUAL(c.redis.url, "redis://cache:6380/2");
  CAF_CHECK(!c.redis.enabled);
  CAF_CHECK_EQUAL(c.api.port, 8443);
  CAF_CHECK_EQUAL(c.api.bind, "0.0.0.0");
  CAF_CHECK_EQUAL(c.api.threads, 4);
  CAF_CHECK_EQUAL(c.api.ws_threads, 3);
  CAF_CHECK_EQUAL(c.api.max_body_bytes, 4096);
  CAF_CHECK_EQUAL(c.api.max_header_bytes, 8192);
  CAF_CHECK_EQUAL(c.api.read_timeout_ms, 5000);
  CAF_CHECK_EQUAL(c.api.idle_timeout_ms, 30'000);
  CAF_CHECK_EQUAL(c.api.reads_require_auth, true);
  CAF_CHECK(c.api.cors_origins
    == (string_list{"https://app.example.com", "http://localhost:3000"}));
  CAF_CHECK_EQUAL(c.api.rate_limit_per_second, 2.5);
  CAF_CHECK_EQUAL(c.api.rate_limit_burst, 10);
  CAF_CHECK_EQUAL(c.api.rate_limit_clients, 5000);
  CAF_CHECK_EQUAL(c.api.ws_forming_interval_ms, 250);
  CAF_CHECK_EQUAL(c.api.ws_queue_limit, 64);
  CAF_CHECK_EQUAL(c.api.ws_ping_interval_ms, 15'000);
  CAF_CHECK_EQUAL(c.api.ws_max_subscriptions, 20);
  CAF_CHECK_EQUAL(c.api.ws_snapshot_bars, 0);
}

CAF_TEST(the example file is valid) {
  auto res = load_config_file(CSP_EXAMPLE_CONFIG, empty_environment());
  for (auto& e : res.errors)
    CAF_MESSAGE("unexpected error: " << e);
  CAF_REQUIRE(res.ok());
  CAF_CHECK_EQUAL(res.config->node.name, "csp-laptop");
  CAF_CHECK_EQUAL(res.config->exchanges.binance.symbols.size(), 5u);
  CAF_CHECK_EQUAL(res.config->exchanges.yahoo.symbols.size(), 5u);
}

CAF_TEST(unknown keys are reported with their path) {
  expect_single_error(R"({"exchanges": {"binance": {"symbol": ["BTCUSDT"]}}})",
    "exchanges.binance.symbol: unknown key");
  expect_single_error(R"({"bar": {}})", "bar: unknown key");
  expect_single_error(
    R"({"api": {"port": 1, "host": "x"}})", "api.host: unknown key");
}

CAF_TEST(wrong types are reported) {
  expect_single_error(R"({"bars": {"grace_ms": "2000"}})",
    "bars.grace_ms: expected an integer, got string");
  expect_single_error(R"({"bars": {"grace_ms": 1.5}})",
    "bars.grace_ms: expected an integer, got number");
  expect_single_error(
    R"({"log": {"json": 1}})", "log.json: expected a boolean, got number");
  expect_single_error(
    R"({"database": []})", "database: expected an object, got array");
  expect_single_error(R"({"exchanges": {"binance": {"symbols": "BTCUSDT"}}})",
    "exchanges.binance.symbols: expected an array");
  expect_single_error(R"({"exchanges": {"binance": {"symbols": [1]}}})",
    "exchanges.binance.symbols[0]: expected a string");
  expect_single_error(R"({"quality": {"price_anomaly_pct": "5"}})",
    "quality.price_anomaly_pct: expected a number");
  expect_single_error("[]", "(root): expected an object, got array");
}

CAF_TEST(invalid values are reported) {
  expect_single_error(R"({"circuit_breaker": {"open_timeout_ms": -5}})",
    "circuit_breaker.open_timeout_ms: must be >= 1, got -5");
  expect_single_error(
    R"({"bars": {"grace_ms": -1}})", "bars.grace_ms: must be >= 0, got -1");
  expect_single_error(R"({"bars": {"timeframes": ["1m", "2m"]}})",
    "bars.timeframes[1]: unknown timeframe \"2m\"");
  expect_single_error(R"({"bars": {"timeframes": ["1m", "1m"]}})",
    "bars.timeframes[1]: duplicate \"1m\"");
  expect_single_error(
    R"({"node": {"role": "worker"}})", "node.role: unknown value \"worker\"");
  expect_single_error(
    R"({"log": {"level": "verbose"}})", "log.level: unknown value \"verbose\"");
  expect_single_error(R"({"log": {"retention_days": -1}})",
    "log.retention_days: must be between 0 and 36500, got -1");
  expect_single_error(R"({"log": {"dir": ""}})", "log.dir: must not be empty");
  expect_single_error(R"({"exchanges": {"binance": {"symbols": [""]}}})",
    "exchanges.binance.symbols[0]: empty symbol");
  expect_single_error(R"({"exchanges": {"binance": {"symbols": ["btcusdt"]}}})",
    "exchanges.binance.symbols[0]: symbol \"btcusdt\"");
  expect_single_error(
    R"({"exchanges": {"binance": {"symbols": ["BTC-USDT"]}}})",
    "exchanges.binance.symbols[0]: symbol \"BTC-USDT\"");
  expect_single_error(R"({"api": {"port": 70000}})",
    "api.port: must be between 0 and 65535, got 70000");
  expect_single_error(R"({"database": {"port": 0}})",
    "database.port: must be between 1 and 65535, got 0");
  expect_single_error(R"({"metrics": {"port": -1}})",
    "metrics.port: must be between 0 and 65535, got -1");
  expect_single_error(R"({"metrics": {"bind": ""}})", "metrics.bind: ");
  expect_single_error(R"({"exchanges": {"binance": {"ws_url": "http://x"}}})",
    "exchanges.binance.ws_url: \"http://x\" must start with");
  expect_single_error(R"({"redis": {"url": "127.0.0.1:6379"}})", "redis.url: ");
  expect_single_error(
    R"({"redis": {"url": "rediss://cache:6380"}})", "redis.url: ");
  expect_single_error(
    R"({"node": {"name": ""}})", "node.name: must not be empty");
  expect_single_error(R"({"database": {"pool_size": 0}})",
    "database.pool_size: must be between 1 and 64, got 0");
  expect_single_error(R"({"database": {"flush_rows": 0}})",
    "database.flush_rows: must be between 1 and");
  expect_single_error(
    R"({"database": {"enabled": "yes"}})", "database.enabled: ");
  expect_single_error(R"({"database": {"spool_dir": ""}})",
    "database.spool_dir: must not be empty");
  expect_single_error(R"({"bars": {"grace_ms": 5000,
                                   "allowed_lateness_ms": 1000}})",
    "bars.allowed_lateness_ms: must be >= grace_ms");
  expect_single_error(R"({"circuit_breaker": {"max_open_timeout_ms": 10}})",
    "circuit_breaker.max_open_timeout_ms: must be >= "
    "open_timeout_ms");
  expect_single_error(R"({"quality": {"volume_anomaly_factor": 1}})",
    "quality.volume_anomaly_factor: must be greater than 1");
  expect_single_error(R"({"metrics": {"port": 18446744073709551615}})",
    "metrics.port: must be between 0 and 65535");
}

CAF_TEST(invalid api values are reported) {
  expect_single_error(R"({"api": {"threads": 0}})",
    "api.threads: must be between 1 and 64, got 0");
  expect_single_error(R"({"api": {"threads": 65}})",
    "api.threads: must be between 1 and 64, got 65");
  expect_single_error(R"({"api": {"ws_threads": -1}})",
    "api.ws_threads: must be between 0 and 64, got -1");
  expect_single_error(R"({"api": {"ws_threads": 65}})",
    "api.ws_threads: must be between 0 and 64, got 65");
  expect_single_error(R"({"api": {"max_body_bytes": -1}})",
    "api.max_body_bytes: must be between 0 and");
  expect_single_error(R"({"api": {"max_header_bytes": 100}})",
    "api.max_header_bytes: must be between 1024 and");
  expect_single_error(R"({"api": {"read_timeout_ms": 0}})",
    "api.read_timeout_ms: must be between 1 and");
  expect_single_error(R"({"api": {"idle_timeout_ms": "60s"}})",
    "api.idle_timeout_ms: expected an integer, got string");
  expect_single_error(R"({"api": {"reads_require_auth": "yes"}})",
    "api.reads_require_auth: expected a boolean, got string");
  expect_single_error(R"({"api": {"cors_origins": "https://x.com"}})",
    "api.cors_origins: expected an array");
  expect_single_error(R"({"api": {"cors_origins": ["https://x.com/"]}})",
    "api.cors_origins[0]: \"https://x.com/\" must not have a path");
  expect_single_error(R"({"api": {"cors_origins": ["https://x.com", 1]}})",
    "api.cors_origins[1]: expected a string");
  expect_single_error(
    R"({"api": {"cors_origins": ["https://x.com", "https://x.com"]}})",
    "api.cors_origins[1]: duplicate");
  expect_single_error(R"({"api": {"cors_origins": ["https://X.com"]}})",
    "api.cors_origins[0]: \"https://X.com\" must be lower-case");
  expect_single_error(R"({"api": {"cors_origins": ["https://x.com:443"]}})",
    "api.cors_origins[0]: \"https://x.com:443\" must not name the default "
    "port");
  expect_single_error(R"({"api": {"cors_origins": ["*", "https://x.com"]}})",
    "api.cors_origins: \"*\" allows every origin and must be the only entry");
  expect_single_error(R"({"api": {"rate_limit_per_second": 0}})",
    "api.rate_limit_per_second: must be greater than 0");
  expect_single_error(R"({"api": {"rate_limit_per_second": 0.0001}})",
    "api.rate_limit_per_second: must be between 0.001 and 1e9");
  expect_single_error(R"({"api": {"rate_limit_burst": 0}})",
    "api.rate_limit_burst: must be between 1 and");
  expect_single_error(R"({"api": {"rate_limit_clients": 0}})",
    "api.rate_limit_clients: must be between 1 and");
  expect_single_error(R"({"api": {"ws_forming_interval_ms": 0}})",
    "api.ws_forming_interval_ms: must be between 1 and");
  expect_single_error(R"({"api": {"ws_queue_limit": 0}})",
    "api.ws_queue_limit: must be between 1 and");
  expect_single_error(R"({"api": {"ws_ping_interval_ms": -5}})",
    "api.ws_ping_interval_ms: must be between 1 and");
  expect_single_error(R"({"api": {"ws_max_subscriptions": 0}})",
    "api.ws_max_subscriptions: must be between 1 and");
  expect_single_error(R"({"api": {"ws_snapshot_bars": -1}})",
    "api.ws_snapshot_bars: must be between 0 and");
  expect_single_error(
    R"({"api": {"ws_snapshot": 5}})", "api.ws_snapshot: unknown key");
}

CAF_TEST(cors origins) {
  CAF_CHECK(!check_cors_origin("*"));
  CAF_CHECK(!check_cors_origin("https://app.example.com"));
  CAF_CHECK(!check_cors_origin("http://[::1]:8080"));
  CAF_CHECK(check_cors_origin("https://app.example.com/"));
  CAF_CHECK(check_cors_origin("http://x.com:80"));
  CAF_CHECK(check_cors_origin("ws://x.com"));
}

CAF_TEST(every problem is reported at once) {
  auto res = parse(R"({
    "node": {"role": "boss"},
    "log": {"level": "loud", "colour": true},
    "exchanges": {"binance": {"symbols": ["BTCUSDT", "eth"],
                              "batch_max_age_ms": "fast"}},
    "bars": {"timeframes": ["3m"]},
    "database": {"port": 99999, "password": "hunter2"},
    "api": {"jwt_secret": "abc"}
  })");
  CAF_CHECK(!res.ok());
  CAF_CHECK(!res.config.has_value());
  CAF_CHECK_EQUAL(res.errors.size(), 9u);
  CAF_CHECK(has_error_prefix(res.errors, "node.role: unknown value \"boss\""));
  CAF_CHECK(has_error_prefix(res.errors, "log.level: unknown value \"loud\""));
  CAF_CHECK(has_error(res.errors, "log.colour: unknown key"));
  CAF_CHECK(has_error_prefix(
    res.errors, "exchanges.binance.symbols[1]: symbol \"eth\""));
  CAF_CHECK(has_error(res.errors,
    "exchanges.binance.batch_max_age_ms: "
    "expected an integer, got string"));
  CAF_CHECK(has_error_prefix(res.errors,
    "bars.timeframes[0]: unknown "
    "timeframe \"3m\""));
  CAF_CHECK(has_error(res.errors,
    "database.port: must be between 1 and "
    "65535, got 99999"));
  CAF_CHECK(has_error_prefix(res.errors,
    "database.password: secrets are not "
    "read from the config file"));
  CAF_CHECK(has_error_prefix(res.errors,
    "api.jwt_secret: secrets are not "
    "read from the config file"));
}

CAF_TEST(secrets and overrides come from the environment) {
  auto env = fake_env({{"DB_PASSWORD", "s3cret"}, {"DB_HOST", "10.0.0.5"},
    {"DB_PORT", "6432"}, {"DB_USER", "writer"}, {"DB_NAME", "marketdata"},
    {"REDIS_URL", "redis://cache:6379/1"}, {"JWT_SECRET", "jwt-key"}});
  auto res = parse_config(R"({"database": {"host": "file-host"}})", env);
  CAF_REQUIRE(res.ok());
  auto& c = *res.config;
  CAF_CHECK_EQUAL(c.database.password, "s3cret");
  CAF_CHECK_EQUAL(c.database.host, "10.0.0.5");
  CAF_CHECK_EQUAL(c.database.port, 6432);
  CAF_CHECK_EQUAL(c.database.user, "writer");
  CAF_CHECK_EQUAL(c.database.name, "marketdata");
  CAF_CHECK_EQUAL(c.redis.url, "redis://cache:6379/1");
  CAF_CHECK_EQUAL(c.api.jwt_secret, "jwt-key");
  // Without the environment the file's value stays.
  auto plain = parse(R"({"database": {"host": "file-host"}})");
  CAF_REQUIRE(plain.ok());
  CAF_CHECK_EQUAL(plain.config->database.host, "file-host");
  CAF_CHECK_EQUAL(plain.config->database.password, "");
}

CAF_TEST(invalid environment values are reported) {
  auto env = fake_env(
    {{"DB_PORT", "54x"}, {"REDIS_URL", "localhost:6379"}, {"DB_HOST", ""}});
  auto res = parse_config("{}", env);
  CAF_CHECK(!res.ok());
  CAF_CHECK_EQUAL(res.errors.size(), 3u);
  CAF_CHECK(has_error_prefix(res.errors, "env DB_PORT: must be a port"));
  CAF_CHECK(has_error_prefix(res.errors, "env REDIS_URL: "));
  CAF_CHECK(has_error(res.errors, "env DB_HOST: must not be empty"));
  auto far = parse_config("{}", fake_env({{"DB_PORT", "65536"}}));
  CAF_CHECK(has_error_prefix(far.errors, "env DB_PORT: "));
}

CAF_TEST(unreadable and malformed input) {
  expect_single_error(R"({"node": )", "invalid JSON: ");
  expect_single_error("", "invalid JSON: ");
  auto res = load_config_file("/nonexistent/csp.json", empty_environment());
  CAF_CHECK(!res.ok());
  CAF_CHECK(has_error(
    res.errors, "/nonexistent/csp.json: cannot open the config file"));
}

CAF_TEST(level and role names) {
  CAF_CHECK_EQUAL(to_string(log_level::warning), "warning");
  CAF_CHECK_EQUAL(to_string(node_role::collector), "collector");
  CAF_CHECK(parse_log_level("critical") == log_level::critical);
  CAF_CHECK(!parse_log_level("CRITICAL").has_value());
}

CAF_TEST(comma lists drop empty items) {
  using csp::config::split_list;
  CAF_CHECK_EQUAL(
    split_list("a,b,,c,"), (std::vector<std::string>{"a", "b", "c"}));
  CAF_CHECK(split_list("").empty());
  CAF_CHECK(split_list(",,").empty());
}
