#pragma once

// The API's bar with indicators: the one bar JSON shape of the platform
// (storage::append_bar_members, also used by the Redis cache) plus an
// `indicators` member.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "messages/bar.hpp"
#include "messages/indicator_snapshot.hpp"

namespace csp::api {

/// Appends `{"sma_20":number|null,...}` with all 19 indicator names in
/// messages::indicator_names order, or `null` when `x` is null.
void append_indicators_json(
  std::string& out, const messages::indicator_snapshot* x);

/// Appends the bar's JSON object with one more member, `"indicators"`
/// (append_indicators_json of `x`).
void append_bar_with_indicators(std::string& out, const messages::bar& b,
  const messages::indicator_snapshot* x);

/// Finds the indicator snapshot of a bar by open time. When several share
/// an open time, the one whose `closed` flag equals the bar's wins, then
/// the last given. Views `snapshots`, which must outlive it.
class indicator_lookup {
public:
  explicit indicator_lookup(
    const std::vector<messages::indicator_snapshot>& snapshots);

  /// The snapshot for `b`, or nullptr.
  const messages::indicator_snapshot* find(const messages::bar& b) const;

private:
  std::map<std::pair<std::int64_t, bool>, const messages::indicator_snapshot*>
    by_time_;
};

} // namespace csp::api
