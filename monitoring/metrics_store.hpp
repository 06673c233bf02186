#pragma once

// The node's metric series: a prometheus-cpp Registry holding every family
// of the catalogue, plus a cache of series handles so that applying a
// metric_entry is one hash lookup; every series it creates is listed in a
// metrics_exposition, which renders /metrics. Used by the metrics actor;
// no CAF here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "messages/metric_update.hpp"
#include "monitoring/metrics_catalogue.hpp"
#include "monitoring/metrics_exposition.hpp"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <class T>
class Family;
} // namespace prometheus

namespace spdlog {
class logger;
} // namespace spdlog

namespace csp::monitoring {

/// Why a metric_entry was rejected; the `reason` label of
/// metrics_update_errors_total.
enum class update_error : std::uint8_t {
  none = 0,
  /// The name is not in the catalogue.
  unknown_metric,
  /// The label names differ from the catalogue's (missing, extra or
  /// duplicated names).
  wrong_labels,
  /// The kind does not fit the family's type (e.g. gauge_set on a
  /// counter).
  wrong_kind,
  /// A counter_add with a negative value: counters never decrease.
  negative_counter,
  /// A NaN or infinite value.
  non_finite,
  /// A family exported from /proc (process_*), not writable.
  read_only,
};

/// Number of update_error values.
inline constexpr size_t update_error_count = 7;

/// Label of an update_error, e.g. "wrong_labels"; "none" for none.
std::string_view to_string(update_error e) noexcept;

/// Outcome of applying a batch.
struct apply_result {
  size_t applied = 0;
  size_t rejected = 0;
};

/// Creates an empty registry for a metrics_store. Keep it outside the
/// metrics actor so a restarted actor finds its series again.
std::shared_ptr<prometheus::Registry> make_metrics_registry();

/// Renders `registry` plus the process metrics in the Prometheus text
/// exposition format (version 0.0.4) with prometheus-cpp's TextSerializer
/// (what the metrics port served before metrics_exposition). Thread-safe.
/// metrics_store's
/// serialize() renders the same series several times faster; this one is
/// the reference for its tests and benchmark.
std::string serialize_metrics(const prometheus::Registry& registry);

/// Every catalogue family registered in one Registry, with validated,
/// cached updates. Not thread-safe (one owner); the registry itself may be
/// scraped concurrently.
class metrics_store {
public:
  /// Registers (or, on a registry that already has them, finds) every
  /// updatable family of the catalogue in `registry`. Rejected updates are
  /// logged to `logger` when it is not null.
  explicit metrics_store(std::shared_ptr<prometheus::Registry> registry,
    std::shared_ptr<spdlog::logger> logger = nullptr);

  /// The same on `exposition`'s registry, listing every series (those the
  /// registry already holds first) in `exposition`.
  explicit metrics_store(std::shared_ptr<metrics_exposition> exposition,
    std::shared_ptr<spdlog::logger> logger = nullptr);

  ~metrics_store();

  metrics_store(const metrics_store&) = delete;
  metrics_store& operator=(const metrics_store&) = delete;

  /// Applies one entry; on rejection counts it in
  /// metrics_update_errors_total{reason} and returns the reason.
  update_error apply(const messages::metric_entry& entry);

  /// Applies every entry of `update`; rejected entries are counted, logged
  /// and skipped.
  apply_result apply(const messages::metric_update& update);

  /// Renders every series and the process metrics as text exposition
  /// (version 0.0.4): exposition()->render().
  std::string serialize() const;

  /// Where the series are listed; render it from any thread.
  const std::shared_ptr<metrics_exposition>& exposition() const noexcept {
    return exposition_;
  }

  /// The registry holding the series.
  const std::shared_ptr<prometheus::Registry>& registry() const noexcept {
    return registry_;
  }

  /// Number of cached series handles.
  size_t cached_series() const noexcept { return cache_.size(); }

private:
  struct family_ref {
    prometheus::Family<prometheus::Counter>* counter = nullptr;
    prometheus::Family<prometheus::Gauge>* gauge = nullptr;
    prometheus::Family<prometheus::Histogram>* histogram = nullptr;
  };

  struct series_handle {
    metric_type type = metric_type::counter;
    void* metric = nullptr;
  };

  update_error reject(update_error e);

  update_error resolve(const messages::metric_entry& entry,
    const metric_spec& spec, series_handle& out);

  /// Lists the series a registry already holds (a restarted actor).
  void list_existing_series();

  std::shared_ptr<metrics_exposition> exposition_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<spdlog::logger> logger_;
  /// Families by catalogue index.
  std::vector<family_ref> families_;
  /// Series by key: name and label pairs as sent, length-prefixed.
  std::unordered_map<std::string, series_handle> cache_;
  /// Scratch buffer for building keys without allocating.
  std::string key_;
  /// metrics_update_errors_total series by update_error.
  std::array<prometheus::Counter*, update_error_count> errors_{};
};

} // namespace csp::monitoring
