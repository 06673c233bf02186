#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace csp::actors {

/// What a trade id turned out to be for an id_tracker.
enum class id_verdict : std::uint8_t {
  /// The first id seen.
  first,
  /// The id after the highest one seen.
  next,
  /// Beyond the next id: new, and the ids skipped are now missing.
  gap,
  /// Below every id seen: new (the ids between are now missing).
  below,
  /// One of the missing ids: new, arriving late.
  fill,
  /// Seen before (or forgotten, see max_ranges): drop it.
  duplicate,
};

/// The set of trade ids of one symbol seen so far, for ids that are
/// sequential per symbol (Binance `t`): the range [min, max] seen plus the
/// sorted ranges missing inside it, so duplicates, gaps and late fills are
/// exact without storing every id. At most `max_ranges` missing ranges are
/// kept; beyond that the lowest is forgotten and its ids count as
/// duplicates should they ever arrive.
class id_tracker {
public:
  using range = std::pair<std::int64_t, std::int64_t>;

  explicit id_tracker(std::size_t max_ranges) : max_ranges_(max_ranges) {}

  /// Classifies `id` and records it. Allocates only when a range is added.
  id_verdict observe(std::int64_t id) {
    if (id == max_ + 1 && seen_) {
      max_ = id;
      return id_verdict::next;
    }
    return observe_slow(id);
  }

  /// The ids skipped by the most recent `gap` verdict.
  const range& last_gap() const noexcept { return last_gap_; }

  /// The ranges currently missing, lowest first.
  const std::vector<range>& missing() const noexcept { return missing_; }

private:
  id_verdict observe_slow(std::int64_t id);
  void insert(std::size_t pos, std::int64_t lo, std::int64_t hi);

  std::size_t max_ranges_;
  bool seen_ = false;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  std::vector<range> missing_;
  range last_gap_{0, -1};
};

} // namespace csp::actors
