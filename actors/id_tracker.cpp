#include "actors/id_tracker.hpp"

#include <algorithm>

namespace csp::actors {

void id_tracker::insert(std::size_t pos, std::int64_t lo, std::int64_t hi) {
  missing_.insert(
    missing_.begin() + static_cast<std::ptrdiff_t>(pos), {lo, hi});
  if (missing_.size() > max_ranges_)
    missing_.erase(missing_.begin());
}

id_verdict id_tracker::observe_slow(std::int64_t id) {
  if (!seen_) {
    seen_ = true;
    min_ = max_ = id;
    return id_verdict::first;
  }
  if (id > max_) {
    last_gap_ = {max_ + 1, id - 1};
    insert(missing_.size(), max_ + 1, id - 1);
    max_ = id;
    return id_verdict::gap;
  }
  if (id < min_) {
    if (id < min_ - 1)
      insert(0, id + 1, min_ - 1);
    min_ = id;
    return id_verdict::below;
  }
  // Inside [min, max]: new only when it is one of the missing ids.
  auto it = std::upper_bound(missing_.begin(), missing_.end(), id,
    [](std::int64_t x, const range& r) { return x < r.first; });
  if (it == missing_.begin())
    return id_verdict::duplicate;
  --it;
  auto [lo, hi] = *it;
  if (id > hi)
    return id_verdict::duplicate;
  if (lo == hi) {
    missing_.erase(it);
  } else if (id == lo) {
    it->first = id + 1;
  } else if (id == hi) {
    it->second = id - 1;
  } else {
    it->second = id - 1;
    insert(static_cast<std::size_t>(it - missing_.begin()) + 1, id + 1, hi);
  }
  return id_verdict::fill;
}

} // namespace csp::actors
