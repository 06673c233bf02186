// `csp backfill`: historical klines over REST into PostgreSQL, with their
// indicators and features; resumable, rate-limited, with progress.

#include <atomic>
#include <chrono>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <future>
#include <iostream>
#include <limits>
#include <string>
#include <thread>

#include "actors/binance_klines.hpp"
#include "actors/feature_calculator.hpp"
#include "actors/indicator_series.hpp"
#include "actors/token_bucket.hpp"
#include "app/cli.hpp"
#include "app/commands.hpp"
#include "messages/calendar.hpp"
#include "net/http_client.hpp"
#include "net/io_thread.hpp"
#include "net/url.hpp"
#include "storage/copy_batch.hpp"
#include "storage/migrations.hpp"
#include "storage/pg_store.hpp"

#include <pqxx/pqxx>

namespace csp::app {

namespace {

constexpr const char* backfill_usage = R"(usage: csp backfill [options]

Fetches historical klines over Binance's REST API, stores them as candles in
PostgreSQL and computes their indicators and ML features. Resumes after the newest stored
candle of the range, so an interrupted backfill continues where it stopped.

options:
  --exchange binance          the exchange (binance only)
  --symbol SYMBOL             e.g. BTCUSDT
  --start-date YYYY-MM-DD     first day (UTC; within the 365-day retention)
  --end-date YYYY-MM-DD       last day (UTC, included; capped at now)
  --timeframe TF              1m, 5m, 15m, 1h, 4h or 1d
  --rest-url URL              REST base, e.g. the simulator http://127.0.0.1:PORT
  --live                      use the real exchange (https://api.binance.com)
  --max-weight-per-minute N   request weight budget (default 1200; Binance
                              allows 6000); also backs off on 429/418
  --config FILE               JSON config (database settings)
  --help                      this text

exit status: 0 done, 1 error (progress kept; run again to resume),
2 bad usage, 130 interrupted (progress kept)
)";

std::atomic<int> stop_signal{0};

extern "C" void on_backfill_signal(int sig) {
  stop_signal.store(sig);
}

bool parse_date(const std::string& s, std::int64_t& day) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-')
    return false;
  auto num = [&s](std::size_t at, std::size_t n, int& out) {
    auto [p, ec] = std::from_chars(s.data() + at, s.data() + at + n, out);
    return ec == std::errc{} && p == s.data() + at + n;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d) || m < 1 || m > 12
    || d < 1 || d > 31)
    return false;
  day = messages::days_from_civil(y, m, d);
  auto back = messages::civil_from_days(day);
  return back.year == y && back.month == m && back.day == d;
}

/// Sleeps `ms` unless a stop signal arrives; returns false when stopped.
bool pause_ms(std::int64_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds{ms};
  while (std::chrono::steady_clock::now() < until) {
    if (stop_signal.load() != 0)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return stop_signal.load() == 0;
}

struct options {
  std::string exchange;
  std::string symbol;
  std::string start_date;
  std::string end_date;
  std::optional<messages::timeframe> tf;
  std::string rest_url;
  bool live = false;
  std::int64_t max_weight = 1200;
  std::string config_path;
};

/// Parses the command line; returns 0 to go on, else the exit status.
int parse_args(const arg_list& args, options& o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << backfill_usage;
      return -1;
    }
    if (a == "--live") {
      o.live = true;
      continue;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "csp backfill: unknown option or missing value: " << a
                << '\n'
                << backfill_usage;
      return 2;
    }
    const auto& v = args[++i];
    if (a == "--exchange") {
      o.exchange = v;
    } else if (a == "--symbol") {
      o.symbol = v;
    } else if (a == "--start-date") {
      o.start_date = v;
    } else if (a == "--end-date") {
      o.end_date = v;
    } else if (a == "--timeframe") {
      o.tf = messages::parse_timeframe(v);
      if (!o.tf) {
        std::cerr << "csp backfill: unknown timeframe '" << v
                  << "' (1m, 5m, 15m, 1h, 4h, 1d)\n";
        return 2;
      }
    } else if (a == "--rest-url") {
      o.rest_url = v;
    } else if (a == "--max-weight-per-minute") {
      auto [p, ec]
        = std::from_chars(v.data(), v.data() + v.size(), o.max_weight);
      if (ec != std::errc{} || p != v.data() + v.size() || o.max_weight < 2
        || o.max_weight > 6000) {
        std::cerr << "csp backfill: --max-weight-per-minute must be 2..6000\n";
        return 2;
      }
    } else if (a == "--config") {
      o.config_path = v;
    } else {
      std::cerr << "csp backfill: unknown option '" << a << "'\n"
                << backfill_usage;
      return 2;
    }
  }
  return 0;
}

/// GET with the process's own I/O thread, waiting for the answer.
net::http_response fetch(net::io_thread& io, const net::url& u) {
  std::promise<net::http_response> p;
  auto f = p.get_future();
  net::client_options co;
  co.request_timeout = std::chrono::milliseconds{30'000};
  net::http_get(
    io, u, co, [&p](net::http_response r) { p.set_value(std::move(r)); });
  return f.get();
}

std::string day_text(std::int64_t ms) {
  return messages::utc_ms_text(ms).substr(0, 16) + " UTC";
}

} // namespace

int run_backfill(const arg_list& args) {
  options o;
  if (auto rc = parse_args(args, o); rc != 0)
    return rc < 0 ? 0 : rc;
  auto usage_error = [](const std::string& what) {
    std::cerr << "csp backfill: " << what << '\n';
    return 2;
  };
  if (o.exchange != "binance")
    return usage_error("--exchange must be binance, got '" + o.exchange + "'");
  if (o.symbol.empty() || o.symbol.size() > 32)
    return usage_error("--symbol is required (e.g. BTCUSDT)");
  if (config::check_symbol(o.symbol, ""))
    return usage_error(
      "invalid symbol '" + o.symbol + "' (upper-case letters and digits)");
  if (!o.tf)
    return usage_error("--timeframe is required");
  std::int64_t start_day = 0;
  std::int64_t end_day = 0;
  if (!parse_date(o.start_date, start_day))
    return usage_error(
      "--start-date must be a date YYYY-MM-DD, got '" + o.start_date + "'");
  if (!parse_date(o.end_date, end_day))
    return usage_error(
      "--end-date must be a date YYYY-MM-DD, got '" + o.end_date + "'");
  if (end_day < start_day)
    return usage_error("--end-date is before --start-date");
  // Rows older than the retention would be dropped by the writers' next
  // retention pass: fetching them is wasted work, so refuse.
  const std::int64_t day = 86'400'000;
  const auto earliest_day
    = (messages::wall_clock_ms() - storage::retention_period_ms) / day + 1;
  if (start_day < earliest_day)
    return usage_error("--start-date " + o.start_date + " is older than the "
      + std::to_string(storage::retention_period_ms / day)
      + "-day retention: stored rows before "
      + messages::utc_ms_text(earliest_day * day).substr(0, 10)
      + " are dropped within the hour; start on or after that day");
  if (o.live && !o.rest_url.empty())
    return usage_error("give either --rest-url or --live, not both");
  if (!o.live && o.rest_url.empty())
    return usage_error("say where to fetch from: --rest-url URL (e.g. the "
                       "simulator) or --live (the real exchange)");
  auto base = net::parse_url(o.live ? "https://api.binance.com" : o.rest_url);
  if (!base.value)
    return usage_error("--rest-url: " + base.error);
  auto cfg = load_platform_config(o.config_path, "backfill");
  if (!cfg)
    return 2;
  const auto tf = *o.tf;
  const auto step = messages::duration_ms(tf);
  const auto range_start = start_day * day;
  // The last bar that has closed by now, within the last requested day.
  auto range_end = std::min((end_day + 1) * day - 1,
    messages::bucket_open(messages::wall_clock_ms(), tf) - 1);
  if (range_end < range_start) {
    std::cout << "csp backfill: nothing to do: the range has no closed "
              << messages::to_string(tf) << " bar yet\n";
    return 0;
  }
  const auto total
    = (messages::bucket_open(range_end, tf) - range_start) / step + 1;

  auto db = storage::pg_settings_from(cfg->database);
  storage::pg_store store{db};
  std::int64_t from = range_start;
  actors::indicator_series series{256};
  actors::feature_series features{256};
  try {
    {
      pqxx::connection c{db.conninfo()};
      storage::migrate(c);
    }
    store.upsert_symbols({{o.exchange, o.symbol, "crypto"}});
    // Resume after the newest stored candle inside the range.
    storage::candle_query q;
    q.exchange = o.exchange;
    q.symbol = o.symbol;
    q.tf = tf;
    q.start_ms = range_start;
    q.end_ms = range_end;
    q.limit = 1;
    auto newest = store.load_candles(q);
    if (!newest.empty()) {
      from = newest.back().open_time_ms + step;
      std::cerr << "csp backfill: resuming after " << day_text(from - step)
                << " (stored before)\n";
    }
    // The indicators continue from every bar stored before `from` (EMAs
    // and Wilder averages remember their whole history, VWAP the day), so
    // a resumed backfill computes what an uninterrupted one would.
    storage::candle_query w = q;
    w.start_ms.reset();
    w.end_ms = from - 1;
    w.limit = std::numeric_limits<std::int32_t>::max();
    actors::indicator_series::output warm;
    actors::feature_series::output ignored;
    for (const auto& b : store.load_candles(w)) {
      auto x = actors::to_ohlcv(b);
      warm.clear();
      series.on_bar(x, warm);
      features.on_bar(x, warm, ignored);
    }
  } catch (const std::exception& e) {
    std::cerr << "csp backfill: database " << db.dbname << " at " << db.host
              << ":" << db.port << ": " << e.what() << '\n';
    return 1;
  }
  std::signal(SIGINT, on_backfill_signal);
  std::signal(SIGTERM, on_backfill_signal);
  net::io_thread io;
  // The weight budget: at most a quarter of it in one burst.
  actors::token_bucket_config bc;
  bc.capacity = std::max<std::int64_t>(actors::klines_weight, o.max_weight / 4);
  bc.refill_per_second = static_cast<double>(o.max_weight) / 60.0;
  actors::token_bucket bucket{bc, messages::steady_clock_ns()};
  std::int64_t stored = 0;
  std::int64_t requests = 0;
  int failures = 0;
  auto started = std::chrono::steady_clock::now();
  while (from <= range_end) {
    if (stop_signal.load() != 0)
      break;
    if (auto wait = bucket.retry_after_ns(
          actors::klines_weight, messages::steady_clock_ns());
        wait && *wait > 0 && !pause_ms(*wait / 1'000'000 + 1))
      break;
    bucket.try_acquire(actors::klines_weight, messages::steady_clock_ns());
    auto u = *base.value;
    u.target = actors::klines_target(o.symbol, tf, from, range_end, 1000);
    auto res = fetch(io, u);
    ++requests;
    if (res.status == 429 || res.status == 418) {
      auto secs = net::parse_retry_after_seconds(res.retry_after);
      if (secs < 0)
        secs = 60;
      std::cerr << "csp backfill: rate limited (HTTP " << res.status
                << "), waiting " << secs << " s\n";
      if (!pause_ms(secs * 1000))
        break;
      continue;
    }
    if (res.status != 200) {
      auto what = res.status == 0
        ? res.error
        : "HTTP " + std::to_string(res.status) + " " + res.body.substr(0, 200);
      if (res.status >= 400 && res.status < 500) {
        std::cerr << "csp backfill: the exchange refused the request: " << what
                  << '\n';
        return 1;
      }
      if (++failures > 8) {
        std::cerr << "csp backfill: giving up after " << failures
                  << " failed requests: " << what
                  << "\n(progress is kept; run again to resume)\n";
        return 1;
      }
      auto delay = std::int64_t{250} << std::min(failures, 6);
      std::cerr << "csp backfill: " << what << "; retrying in " << delay
                << " ms\n";
      if (!pause_ms(delay))
        break;
      continue;
    }
    failures = 0;
    if (!res.used_weight.empty()) {
      // The exchange's own count: stay under 90 % of its per-minute limit.
      long long used = 0;
      const auto* end = res.used_weight.data() + res.used_weight.size();
      auto [p, ec] = std::from_chars(res.used_weight.data(), end, used);
      if (ec == std::errc{} && p == end && used >= o.max_weight * 9 / 10) {
        auto to_next_minute = 60'000 - messages::wall_clock_ms() % 60'000 + 100;
        std::cerr << "csp backfill: used weight " << used << ", pausing "
                  << to_next_minute << " ms\n";
        if (!pause_ms(to_next_minute))
          break;
      }
    }
    std::string err;
    auto bars = actors::parse_klines(res.body, o.exchange, o.symbol, tf, err);
    if (!bars) {
      std::cerr << "csp backfill: bad answer from the exchange: " << err
                << '\n';
      return 1;
    }
    // Only closed bars inside the range.
    while (!bars->empty()
      && (bars->back().open_time_ms > range_end
        || bars->back().close_time_ms >= messages::wall_clock_ms()))
      bars->pop_back();
    if (bars->empty())
      break; // the exchange has nothing more in the range
    storage::copy_batch candles;
    candles.table = storage::table_kind::candles;
    storage::copy_batch indicators;
    indicators.table = storage::table_kind::indicators;
    storage::copy_batch feature_rows;
    feature_rows.table = storage::table_kind::features;
    actors::indicator_series::output out;
    actors::feature_series::output fout;
    for (const auto& b : *bars) {
      storage::append_candle(candles, b);
      auto x = actors::to_ohlcv(b);
      out.clear();
      series.on_bar(x, out);
      fout.clear();
      features.on_bar(x, out, fout);
      for (const auto& [open, values] : fout)
        storage::append_features(feature_rows,
          messages::feature_vector{
            o.exchange, o.symbol, tf, open, true, values});
      for (const auto& [open, values] : out) {
        messages::indicator_snapshot snap;
        snap.exchange = o.exchange;
        snap.symbol = o.symbol;
        snap.tf = tf;
        snap.open_time_ms = open;
        snap.closed = true;
        snap.values = values;
        storage::append_indicators(indicators, snap);
      }
    }
    try {
      // Indicators and features first: the candles mark progress, so a
      // stop in between recomputes (and upserts) them on the next run.
      store.write(indicators);
      store.write(feature_rows);
      store.write(candles);
    } catch (const std::exception& e) {
      std::cerr << "csp backfill: database: " << e.what()
                << "\n(progress is kept; run again to resume)\n";
      return 1;
    }
    stored += static_cast<std::int64_t>(bars->size());
    from = bars->back().open_time_ms + step;
    auto covered = (from - range_start) / step;
    auto secs = std::chrono::duration<double>(
      std::chrono::steady_clock::now() - started)
                  .count();
    std::fprintf(stderr,
      "csp backfill: %s %s %s up to %s: %lld/%lld periods (%.0f%%), %lld "
      "bars stored, %lld requests, %.1f req/s\n",
      o.exchange.c_str(), o.symbol.c_str(),
      std::string{messages::to_string(tf)}.c_str(),
      day_text(bars->back().open_time_ms).c_str(),
      static_cast<long long>(covered), static_cast<long long>(total),
      100.0 * static_cast<double>(covered) / static_cast<double>(total),
      static_cast<long long>(stored), static_cast<long long>(requests),
      secs > 0 ? static_cast<double>(requests) / secs : 0.0);
  }
  if (stop_signal.load() != 0) {
    std::cerr << "csp backfill: interrupted after storing " << stored
              << " bars; run the same command again to resume\n";
    return 130;
  }
  std::cout << "csp backfill: done: " << o.exchange << ' ' << o.symbol << ' '
            << messages::to_string(tf) << ' ' << o.start_date << " .. "
            << o.end_date << ": " << stored << " bars stored by this run, "
            << total << " periods in the range\n";
  return 0;
}

} // namespace csp::app
