#include "monitoring/metrics_store.hpp"

#include <charconv>
#include <cmath>
#include <iterator>
#include <sstream>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "monitoring/logging.hpp"
#include "monitoring/metrics_process.hpp"

namespace csp::monitoring {

namespace {

// Appends `s` with a 4-byte length prefix, so keys are injective.
void append_field(std::string& key, std::string_view s) {
  auto n = static_cast<std::uint32_t>(s.size());
  char len[4]
    = {static_cast<char>(n & 0xFF), static_cast<char>((n >> 8) & 0xFF),
      static_cast<char>((n >> 16) & 0xFF), static_cast<char>((n >> 24) & 0xFF)};
  key.append(len, 4);
  key.append(s.data(), s.size());
}

bool kind_fits(messages::metric_kind kind, metric_type type) noexcept {
  using messages::metric_kind;
  switch (kind) {
    case metric_kind::counter_add:
      return type == metric_type::counter;
    case metric_kind::gauge_set:
    case metric_kind::gauge_add:
      return type == metric_type::gauge;
    case metric_kind::histogram_observe:
      return type == metric_type::histogram;
  }
  return false;
}

// Checks kind and value of an entry against its family's type.
update_error check_value(
  const messages::metric_entry& entry, metric_type type) noexcept {
  if (!kind_fits(entry.kind, type))
    return update_error::wrong_kind;
  if (!std::isfinite(entry.value))
    return update_error::non_finite;
  if (entry.kind == messages::metric_kind::counter_add && entry.value < 0.0)
    return update_error::negative_counter;
  return update_error::none;
}

} // namespace

std::string_view to_string(update_error e) noexcept {
  switch (e) {
    case update_error::none:
      return "none";
    case update_error::unknown_metric:
      return "unknown_metric";
    case update_error::wrong_labels:
      return "wrong_labels";
    case update_error::wrong_kind:
      return "wrong_kind";
    case update_error::negative_counter:
      return "negative_counter";
    case update_error::non_finite:
      return "non_finite";
    case update_error::read_only:
      return "read_only";
  }
  return "?";
}

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

std::shared_ptr<prometheus::Registry> make_metrics_registry() {
  return std::make_shared<prometheus::Registry>(
    prometheus::Registry::InsertBehavior::Merge);
}

std::string serialize_metrics(const prometheus::Registry& registry) {
  auto families = registry.Collect();
  auto process = process_collector{}.Collect();
  families.insert(families.end(), std::make_move_iterator(process.begin()),
    std::make_move_iterator(process.end()));
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, families);
  return out.str();
}

metrics_store::metrics_store(std::shared_ptr<prometheus::Registry> registry,
  std::shared_ptr<spdlog::logger> logger)
    : registry_(std::move(registry)), logger_(std::move(logger)),
      process_(std::make_shared<process_collector>()) {
  const auto& catalogue = metric_catalogue();
  families_.resize(catalogue.size());
  for (size_t i = 0; i < catalogue.size(); ++i) {
    const auto& spec = catalogue[i];
    if (spec.source != metric_source::updates)
      continue;
    std::string name{spec.name};
    std::string help{spec.help};
    switch (spec.type) {
      case metric_type::counter:
        families_[i].counter
          = &prometheus::BuildCounter().Name(name).Help(help).Register(
            *registry_);
        break;
      case metric_type::gauge:
        families_[i].gauge
          = &prometheus::BuildGauge().Name(name).Help(help).Register(
            *registry_);
        break;
      case metric_type::histogram:
        families_[i].histogram
          = &prometheus::BuildHistogram().Name(name).Help(help).Register(
            *registry_);
        break;
    }
  }
  const auto* self_spec = find_metric("metrics_update_errors_total");
  auto& errors
    = *families_[static_cast<size_t>(self_spec - catalogue.data())].counter;
  // The series already in the registry, then this store's own.
  listed_.resize(catalogue.size());
  bucket_labels_.resize(catalogue.size());
  for (size_t i = 0; i < catalogue.size(); ++i) {
    for (double bound : catalogue[i].buckets)
      bucket_labels_[i].push_back(format_bound(bound));
    if (catalogue[i].type == metric_type::histogram)
      bucket_labels_[i].emplace_back("+Inf");
  }
  list_existing_series();
  const auto errors_index = static_cast<size_t>(self_spec - catalogue.data());
  for (size_t i = 1; i < update_error_count; ++i) {
    prometheus::Labels labels{
      {"reason", std::string{to_string(static_cast<update_error>(i))}}};
    errors_[i] = &errors.Add(labels);
    list_series(errors_index, labels, errors_[i]);
  }
}

void metrics_store::list_series(size_t family,
  const std::map<std::string, std::string>& labels, void* metric) {
  if (!listed_set_.insert(metric).second)
    return;
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
  listed_[family].push_back(std::move(s));
}

void metrics_store::list_existing_series() {
  const auto& catalogue = metric_catalogue();
  for (size_t i = 0; i < catalogue.size(); ++i) {
    const auto& fam = families_[i];
    std::vector<prometheus::MetricFamily> collected;
    if (fam.counter != nullptr)
      collected = fam.counter->Collect();
    else if (fam.gauge != nullptr)
      collected = fam.gauge->Collect();
    else if (fam.histogram != nullptr)
      collected = fam.histogram->Collect();
    for (const auto& mf : collected)
      for (const auto& m : mf.metric) {
        prometheus::Labels labels;
        for (const auto& l : m.label)
          labels.emplace(l.name, l.value);
        // Add() with an existing label set returns that series.
        void* metric = nullptr;
        if (fam.counter != nullptr)
          metric = &fam.counter->Add(labels);
        else if (fam.gauge != nullptr)
          metric = &fam.gauge->Add(labels);
        else
          metric = &fam.histogram->Add(labels,
            prometheus::Histogram::BucketBoundaries{
              catalogue[i].buckets.begin(), catalogue[i].buckets.end()});
        list_series(i, labels, metric);
      }
  }
}

metrics_store::~metrics_store() = default;

update_error metrics_store::reject(update_error e) {
  errors_[static_cast<size_t>(e)]->Increment();
  return e;
}

update_error metrics_store::resolve(const messages::metric_entry& entry,
  const metric_spec& spec, series_handle& out) {
  // Exactly the catalogue's label names, each once, in any order.
  if (entry.labels.size() != spec.labels.size())
    return update_error::wrong_labels;
  std::uint64_t seen = 0;
  prometheus::Labels labels;
  for (const auto& [name, value] : entry.labels) {
    auto idx = label_index(spec, name);
    if (idx < 0 || idx >= 64 || (seen & (std::uint64_t{1} << idx)) != 0)
      return update_error::wrong_labels;
    seen |= std::uint64_t{1} << idx;
    labels.emplace(name, value);
  }
  const auto& catalogue = metric_catalogue();
  const auto index = static_cast<size_t>(&spec - catalogue.data());
  auto& fam = families_[index];
  out.type = spec.type;
  switch (spec.type) {
    case metric_type::counter:
      out.metric = &fam.counter->Add(labels);
      break;
    case metric_type::gauge:
      out.metric = &fam.gauge->Add(labels);
      break;
    case metric_type::histogram:
      out.metric = &fam.histogram->Add(labels,
        prometheus::Histogram::BucketBoundaries{
          spec.buckets.begin(), spec.buckets.end()});
      break;
  }
  list_series(index, labels, out.metric);
  return update_error::none;
}

update_error metrics_store::apply(const messages::metric_entry& entry) {
  key_.clear();
  append_field(key_, entry.name);
  for (const auto& [name, value] : entry.labels) {
    append_field(key_, name);
    append_field(key_, value);
  }
  series_handle handle;
  if (auto i = cache_.find(key_); i != cache_.end()) {
    handle = i->second;
    if (auto err = check_value(entry, handle.type); err != update_error::none)
      return reject(err);
  } else {
    const auto* spec = find_metric(entry.name);
    if (spec == nullptr)
      return reject(update_error::unknown_metric);
    if (spec->source != metric_source::updates)
      return reject(update_error::read_only);
    if (auto err = check_value(entry, spec->type); err != update_error::none)
      return reject(err);
    if (auto err = resolve(entry, *spec, handle); err != update_error::none)
      return reject(err);
    cache_.emplace(key_, handle);
  }
  using messages::metric_kind;
  switch (entry.kind) {
    case metric_kind::counter_add:
      static_cast<prometheus::Counter*>(handle.metric)->Increment(entry.value);
      break;
    case metric_kind::gauge_set:
      static_cast<prometheus::Gauge*>(handle.metric)->Set(entry.value);
      break;
    case metric_kind::gauge_add:
      static_cast<prometheus::Gauge*>(handle.metric)->Increment(entry.value);
      break;
    case metric_kind::histogram_observe:
      static_cast<prometheus::Histogram*>(handle.metric)->Observe(entry.value);
      break;
  }
  return update_error::none;
}

apply_result metrics_store::apply(const messages::metric_update& update) {
  apply_result result;
  for (const auto& entry : update.entries) {
    auto err = apply(entry);
    if (err == update_error::none) {
      ++result.applied;
      continue;
    }
    ++result.rejected;
    if (logger_)
      log_event(*logger_, config::log_level::warning, "rejected metric update",
        {{"metric", entry.name}, {"kind", messages::to_string(entry.kind)},
          {"reason", to_string(err)},
          {"labels", static_cast<std::uint64_t>(entry.labels.size())},
          {"value", entry.value}});
  }
  return result;
}

void metrics_store::serialize_histograms(std::string& out,
  const metric_spec& spec, const std::vector<listed_series>& series) const {
  const auto& les
    = bucket_labels_[static_cast<size_t>(&spec - metric_catalogue().data())];
  for (const auto& s : series) {
    // Collect() reads the buckets under the histogram's lock, cumulated.
    auto m = static_cast<const prometheus::Histogram*>(s.metric)->Collect();
    const auto& h = m.histogram;
    append_sample(
      out, spec.name, "_count", s.labels, static_cast<double>(h.sample_count));
    append_sample(out, spec.name, "_sum", s.labels, h.sample_sum);
    for (size_t b = 0; b < h.bucket.size(); ++b) {
      const auto count = static_cast<double>(h.bucket[b].cumulative_count);
      if (b < les.size()) {
        append_sample(out, spec.name, "_bucket", s.labels, count, les[b]);
        continue;
      }
      // A histogram with more buckets than the catalogue's (not made by
      // this store): its bound formatted here.
      std::string le;
      append_sample_value(le, h.bucket[b].upper_bound);
      append_sample(out, spec.name, "_bucket", s.labels, count, le);
    }
  }
}

std::string metrics_store::serialize() const {
  std::string out;
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
        serialize_histograms(out, spec, series);
        break;
    }
  }
  append_process_families(out);
  last_size_ = out.size();
  return out;
}

} // namespace csp::monitoring
