#include "monitoring/metrics_exposition.hpp"

#include <charconv>
#include <cmath>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "monitoring/metrics_process.hpp"

namespace csp::monitoring {

void append_sample_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
    return;
  }
  // std::to_chars without a format: the shortest form that reads back
  // exactly (fixed or exponent, whichever is shorter).
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, ec == std::errc{} ? static_cast<size_t>(end - buf) : 0);
}

void append_label_value(std::string& out, std::string_view value) {
  size_t start = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c != '\\' && c != '"' && c != '\n')
      continue;
    out.append(value.data() + start, i - start);
    out += '\\';
    out += c == '\n' ? 'n' : c;
    start = i + 1;
  }
  out.append(value.data() + start, value.size() - start);
}

void append_family_header(std::string& out, std::string_view name,
  std::string_view help, metric_type type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (const char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += to_string(type);
  out += '\n';
}

namespace {

// Appends `name` `suffix` `{labels[,le="bound"]}` and the separating space.
void append_series_head(std::string& out, std::string_view name,
  std::string_view suffix, std::string_view labels, std::string_view le = {}) {
  out += name;
  out += suffix;
  if (!labels.empty() || !le.empty()) {
    out += '{';
    out += labels;
    if (!le.empty()) {
      if (!labels.empty())
        out += ',';
      out += "le=\"";
      out += le;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

// Appends one sample line: name{labels} value.
void append_sample(std::string& out, std::string_view name,
  std::string_view suffix, std::string_view labels, double value,
  std::string_view le = {}) {
  append_series_head(out, name, suffix, labels, le);
  append_sample_value(out, value);
  out += '\n';
}

// The process_* families (counters and gauges without labels).
void append_process_families(std::string& out) {
  for (const auto& fam : process_collector{}.Collect()) {
    const auto* spec = find_metric(fam.name);
    if (spec == nullptr)
      continue;
    append_family_header(out, fam.name, fam.help, spec->type);
    for (const auto& m : fam.metric)
      append_sample(out, fam.name, {}, {},
        spec->type == metric_type::counter ? m.counter.value : m.gauge.value);
  }
}

} // namespace

metrics_exposition::metrics_exposition(
  std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)) {
  const auto& catalogue = metric_catalogue();
  listed_.resize(catalogue.size());
  bucket_labels_.resize(catalogue.size());
  for (size_t i = 0; i < catalogue.size(); ++i) {
    if (catalogue[i].type != metric_type::histogram)
      continue;
    for (double bound : catalogue[i].buckets)
      bucket_labels_[i].push_back(format_bound(bound));
    bucket_labels_[i].emplace_back("+Inf");
  }
}

metrics_exposition::~metrics_exposition() = default;

bool metrics_exposition::list(size_t family,
  const std::map<std::string, std::string>& labels, const void* metric) {
  listed_series s;
  s.metric = metric;
  for (const auto& [name, value] : labels) {
    if (!s.labels.empty())
      s.labels += ',';
    s.labels += name;
    s.labels += "=\"";
    append_label_value(s.labels, value);
    s.labels += '"';
  }
  std::lock_guard<std::mutex> guard{mutex_};
  if (family >= listed_.size() || !listed_set_.insert(metric).second)
    return false;
  listed_[family].push_back(std::move(s));
  return true;
}

size_t metrics_exposition::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return listed_set_.size();
}

void metrics_exposition::render_histograms(
  std::string& out, size_t family) const {
  const auto& spec = metric_catalogue()[family];
  const auto& les = bucket_labels_[family];
  for (const auto& s : listed_[family]) {
    // Collect() reads the buckets under the histogram's lock, cumulated.
    auto m = static_cast<const prometheus::Histogram*>(s.metric)->Collect();
    const auto& h = m.histogram;
    append_sample(
      out, spec.name, "_count", s.labels, static_cast<double>(h.sample_count));
    append_sample(out, spec.name, "_sum", s.labels, h.sample_sum);
    // The catalogue's bounds, unless the histogram was made with others
    // (not by a metrics_store): then its own, formatted here.
    const bool catalogue_bounds = h.bucket.size() == les.size();
    for (size_t b = 0; b < h.bucket.size(); ++b) {
      const auto count = static_cast<double>(h.bucket[b].cumulative_count);
      if (catalogue_bounds) {
        append_sample(out, spec.name, "_bucket", s.labels, count, les[b]);
        continue;
      }
      std::string le;
      append_sample_value(le, h.bucket[b].upper_bound);
      append_sample(out, spec.name, "_bucket", s.labels, count, le);
    }
  }
}

std::string metrics_exposition::render() const {
  std::string out;
  std::lock_guard<std::mutex> guard{mutex_};
  out.reserve(last_size_ + last_size_ / 8 + 4096);
  const auto& catalogue = metric_catalogue();
  for (size_t i = 0; i < catalogue.size(); ++i) {
    const auto& series = listed_[i];
    if (series.empty())
      continue;
    const auto& spec = catalogue[i];
    append_family_header(out, spec.name, spec.help, spec.type);
    switch (spec.type) {
      case metric_type::counter:
        for (const auto& s : series)
          append_sample(out, spec.name, {}, s.labels,
            static_cast<const prometheus::Counter*>(s.metric)->Value());
        break;
      case metric_type::gauge:
        for (const auto& s : series)
          append_sample(out, spec.name, {}, s.labels,
            static_cast<const prometheus::Gauge*>(s.metric)->Value());
        break;
      case metric_type::histogram:
        render_histograms(out, i);
        break;
    }
  }
  append_process_families(out);
  last_size_ = out.size();
  return out;
}

} // namespace csp::monitoring
