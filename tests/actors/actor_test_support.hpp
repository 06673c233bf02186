#pragma once

// Test doubles shared by the actor tests (include after caf/test/dsl.hpp).

#include <cstdint>
#include <memory>
#include <vector>

#include "caf/behavior.hpp"
#include "caf/error.hpp"
#include "caf/event_based_actor.hpp"

#include "messages/type_ids.hpp"

namespace csp::test_support {

/// Monitors `target`; records its exit reason, sets `seen` and quits.
inline caf::behavior watcher(caf::event_based_actor* self, caf::actor target,
  std::shared_ptr<caf::error> reason, std::shared_ptr<bool> seen) {
  self->monitor(target);
  self->set_down_handler([=](caf::down_msg& msg) {
    *reason = msg.reason;
    *seen = true;
    self->quit();
  });
  return {
    [](int) {},
  };
}

/// What a pipeline sink (or metrics actor) saw.
struct received {
  std::vector<messages::bar> bars;
  std::vector<messages::indicator_snapshot> snapshots;
  std::vector<messages::feature_vector> features;
  std::vector<messages::quality_report> reports;
  std::vector<messages::metric_entry> metrics;
  std::vector<messages::trade_batch> trades;
};

/// A sink that records everything the processing shard sends.
inline caf::behavior recorder(
  caf::event_based_actor*, std::shared_ptr<received> r) {
  return {
    [=](const std::vector<messages::bar>& xs) {
      r->bars.insert(r->bars.end(), xs.begin(), xs.end());
    },
    [=](const std::vector<messages::indicator_snapshot>& xs) {
      r->snapshots.insert(r->snapshots.end(), xs.begin(), xs.end());
    },
    [=](const std::vector<messages::feature_vector>& xs) {
      r->features.insert(r->features.end(), xs.begin(), xs.end());
    },
    [=](const messages::quality_report& x) { r->reports.push_back(x); },
    [=](const messages::trade_batch& x) { r->trades.push_back(x); },
    [=](const messages::metric_update& x) {
      r->metrics.insert(r->metrics.end(), x.entries.begin(), x.entries.end());
    },
  };
}

/// A trade of 1.0 at `price_units` (1e-8 units), received at its time.
inline messages::trade make_trade(
  std::int64_t id, std::int64_t price_units, std::int64_t time_ms) {
  messages::trade t;
  t.id = id;
  t.price.units = price_units;
  t.quantity.units = 100000000;
  t.trade_time_ms = time_ms;
  t.event_time_ms = time_ms;
  t.receive_time_ns = time_ms * 1000000;
  return t;
}

} // namespace csp::test_support
