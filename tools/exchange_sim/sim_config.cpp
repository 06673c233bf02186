#include "tools/exchange_sim/sim_config.hpp"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>

#include "config/config.hpp"

namespace csp::tools {

namespace {

bool parse_int(const std::string& str, std::int64_t& out) {
  auto* first = str.data();
  auto* last = first + str.size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc{} && ptr == last;
}

bool parse_double(const std::string& str, double& out) {
  if (str.empty())
    return false;
  char* end = nullptr;
  out = std::strtod(str.c_str(), &end);
  return end == str.c_str() + str.size();
}

bool valid_symbol(const std::string& sym) {
  if (sym.empty() || sym.size() > 20)
    return false;
  for (char c : sym)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
          || c == '-' || c == '^'))
      return false;
  return true;
}

} // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]")
    return true;
  return host.rfind("127.", 0) == 0;
}

std::string cli_help() {
  return R"(csp-exchange-sim: a loopback exchange speaking Binance's spot protocol
(WebSocket trade streams and REST) and a Yahoo-style chart API, with a seeded
price process, a ground-truth trade log and fault injection.

Usage: csp-exchange-sim [options]

Options:
  --listen HOST:PORT      listen address (default 127.0.0.1:0; port 0 picks a
                          free port). Prints "listening on HOST:PORT".
  --allow-non-loopback    accept a HOST that is not a loopback address
  --symbols LIST          crypto symbols, comma separated (BTCUSDT,ETHUSDT)
  --stocks LIST           stock symbols for the chart API (AAPL,MSFT)
  --rate N                mean total trades/s across all symbols (10)
  --seed N                seed of every random process (1)
  --trade-log FILE        append every trade as a Binance trade event (one
                          JSON object per line), including withheld trades
  --tls-cert FILE         PEM certificate chain: serve wss:// and https://
  --tls-key FILE          PEM private key for --tls-cert
  --ping-interval-ms N    WebSocket ping interval (20000)
  --pong-timeout-ms N     close a connection without a pong for N ms (60000)
  --tick-ms N             trade generator period (10)
  --history N             trades kept per symbol for REST (2000000)
  --past-s N              start the crypto trade history N s in the past
                          (generated at once; for backfills) (0)
  --duration-s N          stop after N seconds (0 = until SIGINT/SIGTERM)
  --help                  show this text

Fault injection (also settable at run time, see below):
  --drop-every-s N        close every WebSocket connection every N s
  --stall-every-s N       stall every WebSocket connection every N s ...
  --stall-ms D            ... for D ms (no data, no pings, socket open)
  --malformed-prob P      per trade: send an extra truncated JSON frame
  --duplicate-prob P      per trade: send the trade twice
  --reorder-prob P        per trade: swap it with the next trade
  --skip-prob P           per trade: withhold it from the stream (it stays
                          in the trade log and in /api/v3/historicalTrades)
  --http-429-prob P       per REST/chart request: HTTP 429 + Retry-After
  --http-429-next N       the next N REST/chart requests get HTTP 429
  --retry-after-s N       Retry-After value (1)
  --http-5xx-prob P       per REST/chart request: HTTP 503
  --http-5xx-next N       the next N REST/chart requests get HTTP 503
  --latency-ms N          delay every HTTP response and WebSocket write

Endpoints:
  WebSocket  /stream?streams=btcusdt@trade/ethusdt@trade   combined streams
             /ws/btcusdt@trade                             raw streams
             {"method":"SUBSCRIBE"|"UNSUBSCRIBE"|"LIST_SUBSCRIPTIONS",
              "params":[...],"id":N} on either
  REST       /api/v3/ping, /api/v3/time, /api/v3/exchangeInfo,
             /api/v3/historicalTrades?symbol=&fromId=&limit=,
             /api/v3/klines?symbol=&interval=&startTime=&endTime=&limit=
  Chart      /v8/finance/chart/{symbol}?interval=1m&range=1d
  Control    POST /control/faults  JSON with any fault field above in
             snake_case (drop_every_s, stall_ms, malformed_prob, ...) plus
             "drop_now":true and "stall_now":true; replaces only the fields
             given. GET /control/faults returns the settings and
             GET /control/stats the counters (trades generated, trades sent
             per connection, faults injected).
)";
}

cli_result parse_cli(const std::vector<std::string>& args) {
  cli_result res;
  auto& cfg = res.config;
  auto& f = cfg.faults;
  using setter = std::function<bool(const std::string&)>;
  auto int_opt = [](std::int64_t& dst, std::int64_t min) -> setter {
    return [&dst, min](const std::string& v) {
      std::int64_t x = 0;
      if (!parse_int(v, x) || x < min)
        return false;
      dst = x;
      return true;
    };
  };
  auto prob_opt = [](double& dst) -> setter {
    return [&dst](const std::string& v) {
      double x = 0;
      if (!parse_double(v, x) || !(x >= 0 && x <= 1))
        return false;
      dst = x;
      return true;
    };
  };
  auto str_opt = [](std::string& dst) -> setter {
    return [&dst](const std::string& v) {
      dst = v;
      return !v.empty();
    };
  };
  auto list_opt = [](std::vector<std::string>& dst, bool allow_empty) {
    return setter{[&dst, allow_empty](const std::string& v) {
      dst = config::split_list(v);
      for (auto& s : dst)
        if (!valid_symbol(s))
          return false;
      return allow_empty || !dst.empty();
    }};
  };
  std::int64_t seed = 1;
  std::map<std::string, setter> opts{
    {"--listen",
      [&cfg](const std::string& v) {
        auto pos = v.rfind(':');
        if (pos == std::string::npos || pos == 0)
          return false;
        std::int64_t port = 0;
        if (!parse_int(v.substr(pos + 1), port) || port < 0 || port > 65535)
          return false;
        cfg.host = v.substr(0, pos);
        if (cfg.host.size() > 2 && cfg.host.front() == '['
          && cfg.host.back() == ']')
          cfg.host = cfg.host.substr(1, cfg.host.size() - 2);
        cfg.port = static_cast<std::uint16_t>(port);
        return true;
      }},
    {"--symbols", list_opt(cfg.symbols, false)},
    {"--stocks", list_opt(cfg.stocks, true)},
    {"--rate",
      [&cfg](const std::string& v) {
        return parse_double(v, cfg.rate) && cfg.rate > 0 && cfg.rate <= 1e8;
      }},
    {"--seed", int_opt(seed, 0)},
    {"--trade-log", str_opt(cfg.trade_log)},
    {"--tls-cert", str_opt(cfg.tls_cert)},
    {"--tls-key", str_opt(cfg.tls_key)},
    {"--ping-interval-ms", int_opt(cfg.ping_interval_ms, 1)},
    {"--pong-timeout-ms", int_opt(cfg.pong_timeout_ms, 1)},
    {"--tick-ms", int_opt(cfg.tick_ms, 1)},
    {"--history", int_opt(cfg.history, 1)},
    {"--past-s", int_opt(cfg.past_s, 0)},
    {"--duration-s", int_opt(cfg.duration_s, 0)},
    {"--drop-every-s", int_opt(f.drop_every_s, 0)},
    {"--stall-every-s", int_opt(f.stall_every_s, 0)},
    {"--stall-ms", int_opt(f.stall_ms, 0)},
    {"--malformed-prob", prob_opt(f.malformed_prob)},
    {"--duplicate-prob", prob_opt(f.duplicate_prob)},
    {"--reorder-prob", prob_opt(f.reorder_prob)},
    {"--skip-prob", prob_opt(f.skip_prob)},
    {"--http-429-prob", prob_opt(f.http_429_prob)},
    {"--http-429-next", int_opt(f.http_429_next, 0)},
    {"--retry-after-s", int_opt(f.retry_after_s, 0)},
    {"--http-5xx-prob", prob_opt(f.http_5xx_prob)},
    {"--http-5xx-next", int_opt(f.http_5xx_next, 0)},
    {"--latency-ms", int_opt(f.latency_ms, 0)},
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto arg = args[i];
    if (arg == "--help" || arg == "-h") {
      res.help = true;
      return res;
    }
    if (arg == "--allow-non-loopback") {
      cfg.allow_non_loopback = true;
      continue;
    }
    std::string value;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      res.error = "missing value for " + arg;
      return res;
    }
    auto it = opts.find(arg);
    if (it == opts.end()) {
      res.error = "unknown option " + arg;
      return res;
    }
    if (!it->second(value)) {
      res.error = "invalid value for ";
      res.error += arg;
      res.error += ": ";
      res.error += value;
      return res;
    }
  }
  cfg.seed = static_cast<std::uint64_t>(seed);
  if (cfg.tls_cert.empty() != cfg.tls_key.empty())
    res.error = "--tls-cert and --tls-key go together";
  else if (!cfg.allow_non_loopback && !is_loopback_host(cfg.host))
    res.error = "refusing to listen on non-loopback address " + cfg.host
      + " (pass --allow-non-loopback)";
  return res;
}

} // namespace csp::tools
