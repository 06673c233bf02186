#include "tools/exchange_sim/market.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace csp::tools {

namespace {

/// Calm/burst regimes: rate multipliers and mean durations chosen so the
/// long-run mean rate equals the configured rate (0.8*0.625 + 0.2*2.5 = 1).
constexpr double calm_factor = 0.625;
constexpr double burst_factor = 2.5;
constexpr double calm_mean_ms = 4000;
constexpr double burst_mean_ms = 1000;
/// Diffusion per sqrt(second) of the log price, and jumps.
constexpr double volatility = 3e-4;
constexpr double jumps_per_s = 0.02;
constexpr double jump_size = 3e-3;

std::uint64_t mix(std::uint64_t seed, std::string_view name) {
  auto h = static_cast<std::uint64_t>(std::hash<std::string_view>{}(name));
  // splitmix64 finaliser over the combination.
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + h;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::int64_t round_to(double value, std::int64_t grid) {
  auto steps = std::llround(value / static_cast<double>(grid));
  return std::max<std::int64_t>(1, steps) * grid;
}

} // namespace

symbol_spec make_symbol_spec(std::string_view symbol) {
  symbol_spec s;
  s.symbol = std::string{symbol};
  s.base_asset = s.symbol;
  s.quote_asset = "USDT";
  for (std::string_view q :
    {"USDT", "USDC", "FDUSD", "BUSD", "TRY", "EUR", "BTC", "ETH", "BNB"}) {
    if (symbol.size() > q.size()
      && symbol.substr(symbol.size() - q.size()) == q) {
      s.base_asset = std::string{symbol.substr(0, symbol.size() - q.size())};
      s.quote_asset = std::string{q};
      break;
    }
  }
  if (s.base_asset == "BTC") {
    s.start_price = 42000;
    s.tick = 1'000'000; // 0.01
    s.step = 1000;      // 0.00001
  } else if (s.base_asset == "ETH") {
    s.start_price = 2500;
    s.tick = 1'000'000;
    s.step = 10'000; // 0.0001
  } else {
    s.start_price = 100;
    s.tick = 1'000'000;
    s.step = 100'000; // 0.001
  }
  return s;
}

price_process::price_process(const symbol_spec& spec, double rate,
  std::uint64_t seed, std::int64_t start_ms)
    : spec_(spec), rng_(mix(seed, spec.symbol)), rate_per_ms_(rate / 1000.0),
      log_price_(std::log(spec.start_price)),
      next_arrival_ms_(static_cast<double>(start_ms)),
      last_arrival_ms_(static_cast<double>(start_ms)),
      regime_end_ms_(static_cast<double>(start_ms)) {
  regime_end_ms_ += expo_(rng_) * calm_mean_ms;
  next_arrival_ms_ = draw_arrival();
}

double price_process::draw_arrival() {
  // Memoryless arrivals: when the next arrival would fall after a regime
  // switch, restart from the switch with the new regime's rate.
  double t = next_arrival_ms_;
  for (;;) {
    double rate = rate_per_ms_ * (burst_ ? burst_factor : calm_factor);
    double candidate = t + expo_(rng_) / rate;
    if (candidate < regime_end_ms_)
      return candidate;
    t = regime_end_ms_;
    burst_ = !burst_;
    regime_end_ms_ += expo_(rng_) * (burst_ ? burst_mean_ms : calm_mean_ms);
  }
}

void price_process::generate(
  std::int64_t now_ms, std::int64_t& next_id, std::deque<sim_trade>& out) {
  auto now = static_cast<double>(now_ms);
  while (next_arrival_ms_ < now) {
    double dt_s = (next_arrival_ms_ - last_arrival_ms_) / 1000.0;
    last_arrival_ms_ = next_arrival_ms_;
    double step = volatility * std::sqrt(dt_s) * normal_(rng_);
    // Occasional jumps: a Bernoulli approximation of a Poisson count.
    if (std::generate_canonical<double, 32>(rng_) < jumps_per_s * dt_s)
      step += jump_size * normal_(rng_);
    // A weak pull back to the start keeps long runs on a sane scale.
    step -= 1e-4 * dt_s * (log_price_ - std::log(spec_.start_price));
    log_price_ += step;
    sim_trade t;
    t.id = next_id++;
    t.price = round_to(std::exp(log_price_) * 1e8, spec_.tick);
    double qty
      = std::exp(normal_(rng_)) * 2e3 * static_cast<double>(spec_.step);
    t.qty = round_to(qty, spec_.step);
    t.time_ms = static_cast<std::int64_t>(next_arrival_ms_);
    t.event_ms = now_ms;
    t.buyer_maker = step < 0;
    out.push_back(t);
    next_arrival_ms_ = draw_arrival();
  }
}

std::int64_t kline_interval_ms(std::string_view iv) {
  constexpr std::int64_t s = 1000;
  constexpr std::int64_t m = 60 * s;
  constexpr std::int64_t h = 60 * m;
  constexpr std::int64_t d = 24 * h;
  struct entry {
    std::string_view name;
    std::int64_t ms;
  };
  static constexpr entry table[] = {
    {"1s", s},
    {"1m", m},
    {"3m", 3 * m},
    {"5m", 5 * m},
    {"15m", 15 * m},
    {"30m", 30 * m},
    {"1h", h},
    {"2h", 2 * h},
    {"4h", 4 * h},
    {"6h", 6 * h},
    {"8h", 8 * h},
    {"12h", 12 * h},
    {"1d", d},
    {"3d", 3 * d},
    {"1w", 7 * d},
  };
  for (auto& e : table)
    if (e.name == iv)
      return e.ms;
  return 0;
}

market::market(const std::vector<std::string>& symbols, double total_rate,
  std::uint64_t seed, std::int64_t history, std::int64_t start_ms)
    : history_(static_cast<std::size_t>(history)) {
  double rate = total_rate / static_cast<double>(symbols.size());
  books_.reserve(symbols.size());
  for (auto& sym : symbols) {
    auto spec = make_symbol_spec(sym);
    books_.push_back(
      book{spec, price_process{spec, rate, seed, start_ms}, {}, 1});
  }
}

int market::find(std::string_view symbol) const noexcept {
  for (std::size_t i = 0; i < books_.size(); ++i)
    if (books_[i].spec.symbol == symbol)
      return static_cast<int>(i);
  return -1;
}

std::size_t market::generate(std::int64_t now_ms) {
  std::size_t n = 0;
  for (auto& b : books_) {
    auto before = b.trades.size();
    b.process.generate(now_ms, b.next_id, b.trades);
    n += b.trades.size() - before;
    while (b.trades.size() > history_)
      b.trades.pop_front();
  }
  generated_ += static_cast<std::int64_t>(n);
  return n;
}

std::vector<sim_trade> market::historical(
  std::size_t i, std::int64_t from_id, std::size_t limit) const {
  auto& ts = books_[i].trades;
  std::vector<sim_trade> out;
  if (ts.empty())
    return out;
  std::size_t first = 0;
  if (from_id < 0) {
    first = ts.size() > limit ? ts.size() - limit : 0;
  } else if (from_id > ts.front().id) {
    first = static_cast<std::size_t>(from_id - ts.front().id);
  }
  for (auto k = first; k < ts.size() && out.size() < limit; ++k)
    out.push_back(ts[k]);
  return out;
}

std::vector<kline> market::klines(std::size_t i, std::int64_t iv,
  std::int64_t start, std::int64_t end, std::size_t limit,
  std::int64_t now_ms) const {
  std::vector<kline> out;
  auto& ts = books_[i].trades;
  if (ts.empty() || limit == 0)
    return out;
  auto floor_to = [iv](std::int64_t t) { return t - t % iv; };
  std::int64_t first_open = floor_to(ts.front().time_ms);
  std::int64_t last_open = floor_to(std::max(now_ms, ts.back().time_ms));
  std::int64_t lo = first_open;
  if (start >= 0)
    lo = std::max(lo, start % iv == 0 ? start : floor_to(start) + iv);
  std::int64_t hi = last_open;
  if (end >= 0)
    hi = std::min(hi, floor_to(end));
  if (lo > hi)
    return out;
  auto count = static_cast<std::size_t>((hi - lo) / iv + 1);
  if (count > limit) {
    if (start >= 0)
      hi = lo + static_cast<std::int64_t>(limit - 1) * iv;
    else
      lo = hi - static_cast<std::int64_t>(limit - 1) * iv;
  }
  // First trade at or after lo; the previous close comes from the trade
  // before it.
  auto it = std::lower_bound(ts.begin(), ts.end(), lo,
    [](const sim_trade& t, std::int64_t x) { return t.time_ms < x; });
  std::int64_t prev_close = it == ts.begin() ? it->price : std::prev(it)->price;
  for (std::int64_t open = lo; open <= hi; open += iv) {
    kline k;
    k.open_time = open;
    k.close_time = open + iv - 1;
    k.open = k.high = k.low = k.close = prev_close;
    bool any = false;
    for (; it != ts.end() && it->time_ms < open + iv; ++it) {
      if (!any) {
        k.open = k.high = k.low = it->price;
        any = true;
      }
      k.high = std::max(k.high, it->price);
      k.low = std::min(k.low, it->price);
      k.close = it->price;
      auto quote = messages::multiply(
        messages::decimal{it->price}, messages::decimal{it->qty})
                     .units;
      k.volume += it->qty;
      k.quote_volume += quote;
      ++k.trades;
      if (!it->buyer_maker) {
        k.taker_buy_volume += it->qty;
        k.taker_buy_quote_volume += quote;
      }
    }
    prev_close = k.close;
    out.push_back(k);
  }
  return out;
}

stock_market::stock_market(const std::vector<std::string>& symbols,
  std::uint64_t seed, std::int64_t start_ms)
    : origin_s_(start_ms / 60'000 * 60 - std::int64_t{5} * 86'400) {
  for (auto& sym : symbols) {
    std::mt19937_64 rng{mix(seed ^ 0x5709C4ULL, sym)};
    double price = 50 + static_cast<double>(rng() % 40'000) / 100.0;
    auto cents = std::llround(price * 100);
    series_.push_back(series{sym, rng, price, cents, {}});
  }
}

int stock_market::find(std::string_view symbol) const noexcept {
  for (std::size_t i = 0; i < series_.size(); ++i)
    if (series_[i].symbol == symbol)
      return static_cast<int>(i);
  return -1;
}

std::vector<stock_candle> stock_market::candles(
  std::size_t i, std::int64_t from_s, std::int64_t to_s, std::int64_t now_ms) {
  auto& s = series_[i];
  std::int64_t current_minute = now_ms / 60'000 * 60;
  std::normal_distribution<double> normal{0.0, 1.0};
  for (auto t = origin_s_ + static_cast<std::int64_t>(s.candles.size()) * 60;
       t < current_minute; t += 60) {
    stock_candle c;
    c.time_s = t;
    c.open = std::llround(s.price * 100);
    c.high = c.low = c.open;
    for (int k = 0; k < 4; ++k) {
      s.price *= std::exp(4e-4 * normal(s.rng));
      auto p = static_cast<std::int64_t>(std::llround(s.price * 100));
      c.high = std::max(c.high, p);
      c.low = std::min(c.low, p);
    }
    c.close = std::llround(s.price * 100);
    c.volume = std::llround(std::exp(8.5 + 0.8 * normal(s.rng)));
    s.candles.push_back(c);
  }
  std::vector<stock_candle> out;
  for (auto& c : s.candles)
    if (c.time_s >= from_s && c.time_s < to_s)
      out.push_back(c);
  return out;
}

} // namespace csp::tools
