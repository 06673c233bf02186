#include "tools/exchange_sim/http_routes.hpp"

#include <charconv>
#include <map>

#include "tools/exchange_sim/wire_format.hpp"

namespace csp::tools {

namespace http = boost::beast::http;

namespace {

using params = std::map<std::string, std::string, std::less<>>;

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0
      && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

void split_target(std::string_view target, std::string& path, params& ps) {
  auto q = target.find('?');
  path = url_decode(target.substr(0, q));
  if (q == std::string_view::npos)
    return;
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto item = query.substr(0, amp);
    auto eq = item.find('=');
    if (!item.empty())
      ps[url_decode(item.substr(0, eq))]
        = eq == std::string_view::npos ? "" : url_decode(item.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    query = query.substr(amp + 1);
  }
}

http_response make_response(
  const http_request& req, http::status status, std::string body) {
  http_response res{status, req.version()};
  res.set(http::field::server, "csp-exchange-sim");
  res.set(http::field::content_type, "application/json;charset=UTF-8");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

/// A parameter problem turned into Binance's error JSON and status 400.
struct bad_param {
  int code;
  std::string msg;
};

/// Reads an optional unsigned integer parameter; -1 when absent.
std::int64_t int_param(const params& ps, std::string_view name) {
  auto it = ps.find(name);
  if (it == ps.end())
    return -1;
  auto& v = it->second;
  std::int64_t x = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  if (v.empty() || ec != std::errc{} || ptr != v.data() + v.size() || x < 0)
    throw bad_param{-1100,
      "Illegal characters found in parameter '" + std::string{name}
        + "'; legal range is '^[0-9]{1,20}$'."};
  return x;
}

std::size_t limit_param(const params& ps, std::int64_t dflt, std::int64_t max) {
  auto limit = int_param(ps, "limit");
  if (limit < 0)
    return static_cast<std::size_t>(dflt);
  if (limit == 0 || limit > max)
    throw bad_param{-1130, "Data sent for parameter 'limit' is not valid."};
  return static_cast<std::size_t>(limit);
}

std::size_t symbol_param(const market& m, const params& ps) {
  auto it = ps.find("symbol");
  if (it == ps.end() || it->second.empty())
    throw bad_param{-1102,
      "Mandatory parameter 'symbol' was not sent, was "
      "empty/null, or malformed."};
  auto idx = m.find(it->second);
  if (idx < 0)
    throw bad_param{-1121, "Invalid symbol."};
  return static_cast<std::size_t>(idx);
}

std::string binance_route(
  sim_core& core, const std::string& path, const params& ps, bool& found) {
  found = true;
  auto& m = core.crypto;
  auto now = wall_ms();
  if (path == "/api/v3/ping")
    return "{}";
  if (path == "/api/v3/time")
    return R"({"serverTime":)" + std::to_string(now) + "}";
  if (path == "/api/v3/exchangeInfo") {
    int only = -1;
    if (ps.count("symbol") > 0)
      only = static_cast<int>(symbol_param(m, ps));
    return exchange_info_json(m, only, now);
  }
  if (path == "/api/v3/historicalTrades" || path == "/api/v3/trades") {
    auto sym = symbol_param(m, ps);
    auto limit = limit_param(ps, 500, 1000);
    auto from = path == "/api/v3/trades" ? -1 : int_param(ps, "fromId");
    return historical_trades_json(m.historical(sym, from, limit));
  }
  if (path == "/api/v3/klines") {
    auto sym = symbol_param(m, ps);
    auto it = ps.find("interval");
    if (it == ps.end() || it->second.empty())
      throw bad_param{-1102,
        "Mandatory parameter 'interval' was not sent, "
        "was empty/null, or malformed."};
    auto iv = kline_interval_ms(it->second);
    if (iv == 0)
      throw bad_param{-1120, "Invalid interval."};
    auto start = int_param(ps, "startTime");
    auto end = int_param(ps, "endTime");
    auto limit = limit_param(ps, 500, 1000);
    if (start >= 0 && end >= 0 && start > end)
      throw bad_param{-1023, "Start time is greater than end time."};
    return klines_json(m.klines(sym, iv, start, end, limit, now));
  }
  found = false;
  return {};
}

http_response chart_route(sim_core& core, const http_request& req,
  const std::string& symbol, const params& ps) {
  auto idx = core.stocks.find(symbol);
  if (idx < 0)
    return make_response(req, http::status::not_found,
      chart_error("Not Found", "No data found, symbol may be delisted"));
  auto interval = ps.count("interval") ? ps.at("interval") : "1m";
  if (interval != "1m")
    return make_response(req, http::status::unprocessable_entity,
      chart_error("Unprocessable Entity",
        "Invalid input - interval=" + interval
          + " is not supported. Valid intervals: [1m]"));
  auto now = wall_ms();
  std::int64_t from = 0;
  std::int64_t to = now / 1000 + 1;
  std::string range = ps.count("range") ? ps.at("range") : "1d";
  if (ps.count("period1") > 0) {
    from = int_param(ps, "period1");
    if (ps.count("period2") > 0)
      to = int_param(ps, "period2");
    range.clear();
  } else if (range == "1d" || range == "5d") {
    from = now / 1000 - std::int64_t{range == "1d" ? 1 : 5} * 86'400;
  } else {
    return make_response(req, http::status::unprocessable_entity,
      chart_error("Unprocessable Entity",
        "Invalid input - range=" + range
          + " is not supported. Valid ranges: [1d, 5d]"));
  }
  auto i = static_cast<std::size_t>(idx);
  chart_meta meta{symbol, range, now, core.stocks.previous_close(i)};
  auto candles = core.stocks.candles(i, from, to, now);
  return make_response(req, http::status::ok, chart_json(meta, candles));
}

http_response control_route(
  sim_core& core, const http_request& req, const std::string& path) {
  if (path == "/control/stats")
    return make_response(req, http::status::ok, to_json(core.snapshot()));
  if (path != "/control/faults")
    return make_response(
      req, http::status::not_found, R"({"error":"not found"})");
  auto& settings = core.faults.settings();
  if (req.method() == http::verb::post || req.method() == http::verb::put) {
    control_actions acts;
    auto err = apply_control(req.body(), settings, acts);
    if (!err.empty())
      return make_response(
        req, http::status::bad_request, binance_error(-1130, err));
    core.run_actions(acts);
  }
  return make_response(req, http::status::ok, to_json(settings));
}

} // namespace

http_response route_request(sim_core& core, const http_request& req) {
  std::string path;
  params ps;
  auto target = req.target();
  split_target(std::string_view{target.data(), target.size()}, path, ps);
  if (path.rfind("/control/", 0) == 0)
    return control_route(core, req, path);
  ++core.http_requests;
  bool chart = path.rfind("/v8/finance/chart/", 0) == 0;
  switch (core.faults.next_http()) {
    case fault_injector::http_fault::too_many_requests: {
      auto body = chart ? chart_error("Too Many Requests", "Rate limited")
                        : binance_error(-1003,
                          "Too many requests; current "
                          "limit is 6000 requests per "
                          "minute.");
      auto res = make_response(req, http::status::too_many_requests, body);
      res.set(http::field::retry_after,
        std::to_string(core.faults.settings().retry_after_s));
      return res;
    }
    case fault_injector::http_fault::unavailable:
      return make_response(req, http::status::service_unavailable,
        chart ? chart_error("Service Unavailable", "Try again later")
              : binance_error(-1001,
                "Internal error; unable to process "
                "your request. Please try again."));
    case fault_injector::http_fault::none:
      break;
  }
  try {
    if (chart)
      return chart_route(core, req, path.substr(18), ps);
    if (req.method() != http::verb::get)
      return make_response(req, http::status::method_not_allowed,
        binance_error(-1000, "Method not allowed."));
    bool found = false;
    auto body = binance_route(core, path, ps, found);
    if (!found)
      return make_response(req, http::status::not_found,
        binance_error(-1000, "Unknown endpoint."));
    return make_response(req, http::status::ok, std::move(body));
  } catch (const bad_param& e) {
    return make_response(
      req, http::status::bad_request, binance_error(e.code, e.msg));
  }
}

} // namespace csp::tools
