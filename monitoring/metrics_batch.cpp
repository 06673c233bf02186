#include "monitoring/metrics_batch.hpp"

namespace csp::monitoring {

namespace {

void append_field(std::string& key, std::string_view s) {
  auto n = static_cast<std::uint32_t>(s.size());
  char len[4]
    = {static_cast<char>(n & 0xFF), static_cast<char>((n >> 8) & 0xFF),
      static_cast<char>((n >> 16) & 0xFF), static_cast<char>((n >> 24) & 0xFF)};
  key.append(len, 4);
  key.append(s.data(), s.size());
}

} // namespace

metric_batch::series_id metric_batch::intern(messages::metric_kind kind,
  std::string_view name, std::initializer_list<label> labels) {
  key_.clear();
  key_.push_back(static_cast<char>(kind));
  append_field(key_, name);
  for (const auto& [k, v] : labels) {
    append_field(key_, k);
    append_field(key_, v);
  }
  if (auto i = index_.find(key_); i != index_.end())
    return i->second;
  auto id = static_cast<series_id>(series_.size());
  series s;
  s.kind = kind;
  s.name = std::string{name};
  s.labels.reserve(labels.size());
  for (const auto& [k, v] : labels)
    s.labels.emplace_back(std::string{k}, std::string{v});
  series_.push_back(std::move(s));
  index_.emplace(key_, id);
  return id;
}

metric_batch::series_id metric_batch::counter(
  std::string_view name, std::initializer_list<label> labels) {
  return intern(messages::metric_kind::counter_add, name, labels);
}

metric_batch::series_id metric_batch::gauge(
  std::string_view name, std::initializer_list<label> labels) {
  return intern(messages::metric_kind::gauge_set, name, labels);
}

metric_batch::series_id metric_batch::gauge_delta(
  std::string_view name, std::initializer_list<label> labels) {
  return intern(messages::metric_kind::gauge_add, name, labels);
}

metric_batch::series_id metric_batch::histogram(
  std::string_view name, std::initializer_list<label> labels) {
  return intern(messages::metric_kind::histogram_observe, name, labels);
}

bool metric_batch::empty() const noexcept {
  for (const auto& s : series_)
    if (s.dirty)
      return false;
  return true;
}

messages::metric_update metric_batch::take() {
  using messages::metric_kind;
  messages::metric_update out;
  size_t n = 0;
  for (const auto& s : series_)
    if (s.dirty)
      n += s.kind == metric_kind::histogram_observe ? s.observations.size() : 1;
  out.entries.reserve(n);
  for (auto& s : series_) {
    if (!s.dirty)
      continue;
    if (s.kind == metric_kind::histogram_observe) {
      for (auto x : s.observations)
        out.entries.push_back({s.kind, s.name, s.labels, x});
      s.observations.clear();
    } else {
      out.entries.push_back({s.kind, s.name, s.labels, s.value});
      if (s.kind != metric_kind::gauge_set)
        s.value = 0.0;
    }
    s.dirty = false;
  }
  return out;
}

} // namespace csp::monitoring
