#include "actors/indicator_series.hpp"

#include <algorithm>

namespace csp::actors {

bool indicator_series::on_bar(const ohlcv& bar, output& out) {
  if (entries_.empty() || bar.open_time_ms > entries_.back().bar.open_time_ms) {
    entries_.push_back(entry{bar, current_});
    out.emplace_back(bar.open_time_ms, current_.update(bar));
    while (entries_.size() > history_)
      entries_.pop_front();
    return true;
  }
  if (bar.open_time_ms < entries_.front().bar.open_time_ms)
    return false;
  // A revision, or a bar that fills a hole (a backfilled outage minute):
  // rewind to the state before it and replay the bars from there.
  auto pos
    = std::lower_bound(entries_.begin(), entries_.end(), bar.open_time_ms,
      [](const entry& e, std::int64_t t) { return e.bar.open_time_ms < t; });
  if (pos->bar.open_time_ms == bar.open_time_ms)
    pos->bar = bar;
  else
    pos = entries_.insert(pos, entry{bar, pos->before});
  current_ = pos->before;
  for (auto i = pos; i != entries_.end(); ++i) {
    i->before = current_;
    out.emplace_back(i->bar.open_time_ms, current_.update(i->bar));
  }
  while (entries_.size() > history_)
    entries_.pop_front();
  return true;
}

} // namespace csp::actors
