// `csp bars`: Binance trade events (JSON lines) to OHLCV bars (CSV).

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "actors/bar_aggregator.hpp"
#include "actors/bar_csv_writer.hpp"
#include "actors/binance_parser.hpp"
#include "app/commands.hpp"
#include "messages/timeframe.hpp"

namespace csp::app {

namespace {

constexpr const char* bars_usage
  = "usage: csp bars --timeframe 1m|5m|15m|1h|4h|1d --input FILE|- "
    "[--allowed-lateness-ms N] [--grace-ms N]\n";

/// Keeps the final version of every bar of one timeframe; counts the rest.
class final_bars : public actors::bar_sink {
public:
  final_bars(messages::timeframe tf, const std::int64_t& line)
      : tf_(tf), line_(line) {}

  void on_bar(const messages::bar& b) override {
    if (b.tf == tf_)
      bars_[b.open_time_ms] = b;
  }

  void on_late_trade(const messages::trade& t) override {
    std::cerr << "line " << line_ << ": late trade " << t.id << " (trade time "
              << t.trade_time_ms
              << " ms) beyond the allowed lateness, not counted\n";
  }

  const std::map<std::int64_t, messages::bar>& bars() const noexcept {
    return bars_;
  }

private:
  messages::timeframe tf_;
  const std::int64_t& line_;
  std::map<std::int64_t, messages::bar> bars_;
};

struct instrument {
  explicit instrument(const std::string& symbol, messages::timeframe tf,
    const actors::bar_aggregator_config& cfg, const std::int64_t& line)
      : sink(tf, line), agg("binance", symbol, cfg, sink) {}
  final_bars sink;
  actors::bar_aggregator agg;
};

bool parse_int(const std::string& s, std::int64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

} // namespace

int run_bars(const arg_list& args) {
  std::string tf_arg;
  std::string input;
  actors::bar_aggregator_config cfg;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) {
        std::cerr << "csp bars: " << a << " needs a value\n" << bars_usage;
        return false;
      }
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--timeframe") {
      if (!value(tf_arg))
        return 2;
    } else if (a == "--input") {
      if (!value(input))
        return 2;
    } else if (a == "--allowed-lateness-ms" || a == "--grace-ms") {
      std::int64_t n = 0;
      if (!value(v))
        return 2;
      if (!parse_int(v, n) || n < 0) {
        std::cerr << "csp bars: " << a
                  << " must be a non-negative integer, got '" << v << "'\n";
        return 2;
      }
      (a == "--grace-ms" ? cfg.grace_ms : cfg.allowed_lateness_ms) = n;
    } else {
      std::cerr << "csp bars: unknown option '" << a << "'\n" << bars_usage;
      return 2;
    }
  }
  if (tf_arg.empty() || input.empty()) {
    std::cerr << "csp bars: --timeframe and --input are required\n"
              << bars_usage;
    return 2;
  }
  auto tf = messages::parse_timeframe(tf_arg);
  if (!tf) {
    std::cerr << "csp bars: unknown timeframe '" << tf_arg
              << "' (expected 1m, 5m, 15m, 1h, 4h or 1d)\n";
    return 2;
  }
  // The grace period cannot exceed the lateness bound.
  cfg.grace_ms = std::min(cfg.grace_ms, cfg.allowed_lateness_ms);
  if (auto err = cfg.validate(); !err.empty()) {
    std::cerr << "csp bars: " << err << '\n';
    return 2;
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (input != "-") {
    file.open(input, std::ios::binary);
    if (!file) {
      std::cerr << "csp bars: cannot open '" << input << "'\n";
      return 1;
    }
    in = &file;
  }
  std::ios::sync_with_stdio(false);
  actors::binance_parser parser;
  std::unordered_map<std::string, std::unique_ptr<instrument>> instruments;
  std::int64_t line_no = 0;
  std::int64_t skipped = 0;
  std::string line;
  std::string symbol;
  while (std::getline(*in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto res = parser.parse(line);
    if (res.status != actors::parse_status::trade) {
      ++skipped;
      std::cerr << "line " << line_no << ": not a valid trade ("
                << actors::to_string(res.status);
      if (!res.field.empty())
        std::cerr << ", field \"" << res.field << '"';
      std::cerr << "), skipped\n";
      continue;
    }
    symbol.assign(res.symbol());
    auto it = instruments.find(symbol);
    if (it == instruments.end())
      it = instruments
             .emplace(
               symbol, std::make_unique<instrument>(symbol, *tf, cfg, line_no))
             .first;
    it->second->agg.add(res.trade);
  }
  if (in->bad()) {
    std::cerr << "csp bars: read error on '" << input << "' after line "
              << line_no << '\n';
    return 1;
  }
  std::map<std::string, instrument*> sorted;
  for (auto& [sym, inst] : instruments) {
    inst->agg.flush();
    sorted.emplace(sym, inst.get());
  }
  std::string out = actors::bar_csv_header;
  std::int64_t duplicates = 0;
  std::int64_t late = 0;
  std::int64_t rows = 0;
  for (auto& [sym, inst] : sorted) {
    duplicates += inst->agg.stats().duplicates_dropped;
    late += inst->agg.stats().late_trades;
    for (const auto& [open, b] : inst->sink.bars()) {
      actors::append_bar_csv(out, b);
      ++rows;
      if (out.size() > (1 << 20)) {
        std::cout << out;
        out.clear();
      }
    }
  }
  std::cout << out << std::flush;
  std::cerr << "csp bars: " << line_no << " lines, " << skipped << " skipped, "
            << duplicates << " duplicate trades, " << late << " late trades, "
            << rows << " bars\n";
  return 0;
}

} // namespace csp::app
