#pragma once

// Client side of the metrics protocol: an actor keeps one metric_batch,
// registers its series once (or on the first event of a new label value),
// updates them locally on the hot path and sends the accumulated
// metric_update to the metrics actor on its flush tick:
//
//   // at start (or when a symbol appears):
//   auto trades = batch.counter("trades_received_total",
//                               {{"exchange", "binance"}, {"symbol", sym}});
//   // per trade: an add to a double, no allocation, no message
//   batch.add(trades);
//   // on the flush tick (e.g. every second):
//   if (!batch.empty())
//     self->send(metrics, batch.take());
//
// Counters and gauge deltas are summed, gauge_set keeps the last value and
// histogram observations are kept in a reused buffer, so a tick sends one
// message whatever the event rate. No CAF here.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "messages/metric_update.hpp"

namespace csp::monitoring {

/// Accumulates metric changes locally and produces one metric_update per
/// flush. Not thread-safe (one per actor).
class metric_batch {
public:
  /// Handle of a registered series: an index into the batch.
  using series_id = std::uint32_t;

  /// A label name and value.
  using label = std::pair<std::string_view, std::string_view>;

  /// Registers (or finds) a counter series; add() sums into it.
  series_id counter(std::string_view name, std::initializer_list<label> labels);

  /// Registers (or finds) a gauge series; set() keeps the last value.
  series_id gauge(std::string_view name, std::initializer_list<label> labels);

  /// Registers (or finds) a gauge series changed by deltas; add() sums.
  series_id gauge_delta(
    std::string_view name, std::initializer_list<label> labels);

  /// Registers (or finds) a histogram series; observe() records values.
  series_id histogram(
    std::string_view name, std::initializer_list<label> labels);

  /// Adds `value` to a counter or gauge_delta series.
  void add(series_id id, double value = 1.0) noexcept {
    auto& s = series_[id];
    s.value += value;
    s.dirty = true;
  }

  /// Sets a gauge series.
  void set(series_id id, double value) noexcept {
    auto& s = series_[id];
    s.value = value;
    s.dirty = true;
  }

  /// Records one histogram observation. Allocates only when a tick holds
  /// more observations than any tick before.
  void observe(series_id id, double value) {
    auto& s = series_[id];
    s.observations.push_back(value);
    s.dirty = true;
  }

  /// Returns whether nothing changed since the last take().
  bool empty() const noexcept;

  /// Returns the accumulated changes (one entry per changed counter or
  /// gauge, one per histogram observation) and resets the accumulators;
  /// registered series stay registered.
  messages::metric_update take();

  /// Number of registered series.
  size_t series_count() const noexcept { return series_.size(); }

private:
  struct series {
    messages::metric_kind kind = messages::metric_kind::counter_add;
    std::string name;
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0.0;
    bool dirty = false;
    std::vector<double> observations;
  };

  series_id intern(messages::metric_kind kind, std::string_view name,
    std::initializer_list<label> labels);

  std::vector<series> series_;
  std::unordered_map<std::string, series_id> index_;
  std::string key_;
};

} // namespace csp::monitoring
