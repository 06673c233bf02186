#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>
#include <string_view>

#include "tools/exchange_sim/market.hpp"

namespace csp::tools {

/// The ground-truth trade log: every generated trade as one Binance trade
/// event per line (the input format of `csp bars`), written in batches.
class trade_log {
public:
  trade_log() = default;

  ~trade_log();

  trade_log(const trade_log&) = delete;

  trade_log& operator=(const trade_log&) = delete;

  /// Opens `path` for appending; returns false on error.
  bool open(const std::string& path);

  /// Returns whether a file is open.
  bool is_open() const noexcept { return file_ != nullptr; }

  /// Buffers the trades of `symbol` from index `first` of `trades`.
  void append(std::string_view symbol, const std::deque<sim_trade>& trades,
    std::size_t first);

  /// Writes the buffer and flushes the file.
  void flush();

  /// Flushes and closes the file.
  void close();

private:
  std::FILE* file_ = nullptr;
  std::string buf_;
};

} // namespace csp::tools
