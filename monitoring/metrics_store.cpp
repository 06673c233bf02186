#include "monitoring/metrics_store.hpp"

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
    : metrics_store(std::make_shared<metrics_exposition>(std::move(registry)),
      std::move(logger)) {}

metrics_store::metrics_store(std::shared_ptr<metrics_exposition> exposition,
  std::shared_ptr<spdlog::logger> logger)
    : exposition_(std::move(exposition)), registry_(exposition_->registry()),
      logger_(std::move(logger)) {
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
  list_existing_series();
  const auto errors_index = static_cast<size_t>(self_spec - catalogue.data());
  for (size_t i = 1; i < update_error_count; ++i) {
    prometheus::Labels labels{
      {"reason", std::string{to_string(static_cast<update_error>(i))}}};
    errors_[i] = &errors.Add(labels);
    exposition_->list(errors_index, labels, errors_[i]);
  }
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
        exposition_->list(i, labels, metric);
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
  exposition_->list(index, labels, out.metric);
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

std::string metrics_store::serialize() const {
  return exposition_->render();
}

} // namespace csp::monitoring
