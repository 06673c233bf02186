#pragma once

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "messages/decimal.hpp"

namespace csp::tools {

/// One trade of the simulated exchange; prices and quantities in 1e-8 units.
struct sim_trade {
  std::int64_t id = 0;
  std::int64_t price = 0;
  std::int64_t qty = 0;
  /// Trade time (Binance `T`), ms since the epoch.
  std::int64_t time_ms = 0;
  /// Event time (Binance `E`), ms since the epoch; >= time_ms.
  std::int64_t event_ms = 0;
  /// Binance `m`: the buyer was the maker.
  bool buyer_maker = false;
};

/// Static facts about one crypto symbol (what exchangeInfo reports).
struct symbol_spec {
  std::string symbol;
  std::string base_asset;
  std::string quote_asset;
  /// Price grid and quantity grid, in 1e-8 units.
  std::int64_t tick = 1'000'000;
  std::int64_t step = 1000;
  /// Price the process starts at (in quote units).
  double start_price = 100;
};

/// Returns plausible specs for `symbol` (known quote suffixes are split off;
/// BTC and ETH get their usual price levels and grids).
symbol_spec make_symbol_spec(std::string_view symbol);

/// A seeded, bursty trade process for one symbol: Poisson arrivals whose
/// rate switches between a calm and a burst regime (mean = the configured
/// rate), a diffusive log price with occasional jumps, prices on the tick
/// grid and log-normal quantities on the step grid.
class price_process {
public:
  /// Creates the process starting at `start_ms` with `rate` trades/s.
  price_process(const symbol_spec& spec, double rate, std::uint64_t seed,
    std::int64_t start_ms);

  /// Appends every trade with trade time < `now_ms` to `out`, stamping them
  /// with event time `now_ms` and ids from `next_id` upwards.
  void generate(
    std::int64_t now_ms, std::int64_t& next_id, std::deque<sim_trade>& out);

private:
  double draw_arrival();

  symbol_spec spec_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::exponential_distribution<double> expo_{1.0};
  double rate_per_ms_;
  double log_price_;
  double next_arrival_ms_;
  double last_arrival_ms_;
  double regime_end_ms_;
  bool burst_ = false;
};

/// One OHLCV aggregate in 1e-8 units (quote volume in 1e-8 units, 128-bit).
struct kline {
  std::int64_t open_time = 0;
  std::int64_t close_time = 0;
  std::int64_t open = 0;
  std::int64_t high = 0;
  std::int64_t low = 0;
  std::int64_t close = 0;
  messages::int128 volume = 0;
  messages::int128 quote_volume = 0;
  std::int64_t trades = 0;
  messages::int128 taker_buy_volume = 0;
  messages::int128 taker_buy_quote_volume = 0;
};

/// Returns the length of a Binance kline interval ("1m", "4h", ...) in ms,
/// or 0 when `interval` is not one of Binance's (months are not supported).
std::int64_t kline_interval_ms(std::string_view interval);

/// Every crypto symbol's process and retained trades. Not thread-safe: owned
/// by the server's I/O thread.
class market {
public:
  /// Creates the market for `symbols` sharing `total_rate` equally.
  market(const std::vector<std::string>& symbols, double total_rate,
    std::uint64_t seed, std::int64_t history, std::int64_t start_ms);

  /// Number of symbols.
  std::size_t size() const noexcept { return books_.size(); }

  /// Returns the index of `symbol` (upper case) or -1.
  int find(std::string_view symbol) const noexcept;

  /// Returns the spec of symbol `i`.
  const symbol_spec& spec(std::size_t i) const { return books_[i].spec; }

  /// Generates every symbol's trades up to `now_ms`; returns how many.
  std::size_t generate(std::int64_t now_ms);

  /// Returns the retained trades of symbol `i` (oldest first, ids
  /// contiguous).
  const std::deque<sim_trade>& trades(std::size_t i) const {
    return books_[i].trades;
  }

  /// Returns the id the next trade of symbol `i` gets.
  std::int64_t next_id(std::size_t i) const { return books_[i].next_id; }

  /// Returns the total number of trades generated so far.
  std::int64_t generated() const noexcept { return generated_; }

  /// Returns `limit` trades of symbol `i` from id `from_id` (or the most
  /// recent `limit` when from_id < 0).
  std::vector<sim_trade> historical(
    std::size_t i, std::int64_t from_id, std::size_t limit) const;

  /// Computes Binance klines of symbol `i` from its trades: buckets of
  /// `interval_ms` with open time in [start, end] (-1 = unbounded), at most
  /// `limit`; the latest ones when no start is given. Buckets without
  /// trades carry the previous close and zero volume.
  std::vector<kline> klines(std::size_t i, std::int64_t interval_ms,
    std::int64_t start, std::int64_t end, std::size_t limit,
    std::int64_t now_ms) const;

private:
  struct book {
    symbol_spec spec;
    price_process process;
    std::deque<sim_trade> trades;
    std::int64_t next_id = 1;
  };
  std::vector<book> books_;
  std::size_t history_;
  std::int64_t generated_ = 0;
};

/// One 1m stock candle (Yahoo chart API); prices in cents.
struct stock_candle {
  std::int64_t time_s = 0;
  std::int64_t open = 0;
  std::int64_t high = 0;
  std::int64_t low = 0;
  std::int64_t close = 0;
  std::int64_t volume = 0;
};

/// Seeded 1m candles for stock symbols, generated lazily minute by minute
/// from five days before the start, so every poll sees the same history.
class stock_market {
public:
  /// Creates the series for `symbols`.
  stock_market(const std::vector<std::string>& symbols, std::uint64_t seed,
    std::int64_t start_ms);

  /// Returns the index of `symbol` or -1.
  int find(std::string_view symbol) const noexcept;

  /// Returns the completed candles of stock `i` with open time in
  /// [from_s, to_s), generating up to the minute before `now_ms`.
  std::vector<stock_candle> candles(
    std::size_t i, std::int64_t from_s, std::int64_t to_s, std::int64_t now_ms);

  /// Returns the symbol name of stock `i`.
  const std::string& symbol(std::size_t i) const { return series_[i].symbol; }

  /// Returns the close before the first candle of the series (cents).
  std::int64_t previous_close(std::size_t i) const {
    return series_[i].first_open;
  }

private:
  struct series {
    std::string symbol;
    std::mt19937_64 rng;
    double price;
    std::int64_t first_open;
    std::vector<stock_candle> candles;
  };
  std::vector<series> series_;
  std::int64_t origin_s_;
};

} // namespace csp::tools
