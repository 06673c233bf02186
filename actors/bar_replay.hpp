#pragma once

// The replay core of indicator_series and feature_series: per bar, the
// state of a calculator before that bar, so a revised (or backfilled) bar
// replays only the bars from it on.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "actors/indicators.hpp"

namespace csp::actors {

/// The calculator states before each of the last `history` bars of one
/// instrument and timeframe, with a per-bar input (e.g. the bar's
/// indicators; an empty struct when there is none).
template <class Calc, class Input>
class bar_replay {
public:
  explicit bar_replay(std::size_t history) : history_(history) {}

  /// Applies `bar` (a first version or a revision) with `input`: a bar
  /// after the newest is stepped once; an older one rewinds the calculator
  /// to the state before it and steps it and every later bar again, oldest
  /// first. Before each replayed bar's step, `refresh(open_time_ms,
  /// stored_input)` may update that bar's stored input; `step(bar, input,
  /// calc)` advances `calc` by one bar. Returns false (and changes nothing)
  /// for a bar older than the history.
  template <class Refresh, class Step>
  bool apply(
    const ohlcv& bar, const Input& input, Refresh&& refresh, Step&& step) {
    if (entries_.empty()
      || bar.open_time_ms > entries_.back().bar.open_time_ms) {
      entries_.push_back(entry{bar, input, current_});
      step(bar, input, current_);
      trim();
      return true;
    }
    if (bar.open_time_ms < entries_.front().bar.open_time_ms)
      return false;
    auto pos
      = std::lower_bound(entries_.begin(), entries_.end(), bar.open_time_ms,
        [](const entry& e, std::int64_t t) { return e.bar.open_time_ms < t; });
    if (pos->bar.open_time_ms == bar.open_time_ms)
      pos->bar = bar;
    else
      pos = entries_.insert(pos, entry{bar, input, pos->before});
    current_ = pos->before;
    for (auto i = pos; i != entries_.end(); ++i) {
      refresh(i->bar.open_time_ms, i->input);
      i->before = current_;
      step(i->bar, i->input, current_);
    }
    trim();
    return true;
  }

  /// The calculator after the newest bar.
  const Calc& current() const noexcept { return current_; }

private:
  struct entry {
    ohlcv bar;
    Input input;
    /// The calculator before `bar` was applied.
    Calc before;
  };

  void trim() {
    while (entries_.size() > history_)
      entries_.pop_front();
  }

  std::size_t history_;
  std::deque<entry> entries_;
  Calc current_;
};

} // namespace csp::actors
