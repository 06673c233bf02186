#include "api/bar_json.hpp"

#include "api/json_text.hpp"
#include "storage/cache_layout.hpp"

namespace csp::api {

void append_indicators_json(
  std::string& out, const messages::indicator_snapshot* x) {
  if (x == nullptr) {
    out += "null";
    return;
  }
  out += '{';
  for (std::size_t i = 0; i < messages::indicator_count; ++i) {
    if (i > 0)
      out += ',';
    out += '"';
    out += messages::indicator_names[i];
    out += "\":";
    append_json_double(out, x->values[i]);
  }
  out += '}';
}

void append_bar_with_indicators(std::string& out, const messages::bar& b,
  const messages::indicator_snapshot* x) {
  out += '{';
  storage::append_bar_members(out, b);
  out += ",\"indicators\":";
  append_indicators_json(out, x);
  out += '}';
}

indicator_lookup::indicator_lookup(
  const std::vector<messages::indicator_snapshot>& snapshots) {
  for (const auto& x : snapshots)
    by_time_[{x.open_time_ms, x.closed}] = &x;
}

const messages::indicator_snapshot* indicator_lookup::find(
  const messages::bar& b) const {
  auto i = by_time_.find({b.open_time_ms, b.closed});
  if (i != by_time_.end())
    return i->second;
  i = by_time_.find({b.open_time_ms, !b.closed});
  return i != by_time_.end() ? i->second : nullptr;
}

} // namespace csp::api
