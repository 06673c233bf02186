#include "actors/processing_shard.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/candle_rollup.hpp"
#include "actors/feature_calculator.hpp"
#include "actors/indicator_series.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"
#include "messages/calendar.hpp"

namespace csp::actors {

namespace {

using messages::bar;
using messages::feature_vector;
using messages::indicator_snapshot;
using messages::metric_entry;
using messages::metric_kind;
using messages::timeframe;

constexpr std::size_t tf_count = messages::all_timeframes.size();

std::size_t tf_index(timeframe tf) noexcept {
  return static_cast<std::size_t>(tf);
}

/// Collects what an aggregator emits until the shard drains it.
struct collecting_sink : bar_sink {
  std::vector<bar> bars;
  std::int64_t late = 0;

  void on_bar(const bar& b) override { bars.push_back(b); }

  void on_late_trade(const messages::trade&) override { ++late; }
};

/// Everything the shard keeps for one instrument.
struct instrument {
  std::string exchange;
  std::string symbol;
  collecting_sink sink;
  std::unique_ptr<bar_aggregator> bars;
  /// Higher timeframes of a polled source (created by its first candles).
  std::unique_ptr<candle_rollup> candles;
  std::array<std::unique_ptr<indicator_series>, tf_count> series;
  std::array<std::unique_ptr<feature_series>, tf_count> features;
  std::unique_ptr<quality_checker> quality;
  /// Metric deltas since the last flush.
  std::array<std::int64_t, tf_count> completed{};
  std::array<std::int64_t, check_type_count> failed_reported{};
  std::int64_t late_reported = 0;
  /// Feature vectors calculated since the last flush.
  std::int64_t features_calculated = 0;
  /// Wall-clock ms when the newest trade or candle arrived.
  std::int64_t last_received_ms = 0;
  /// Whether the instrument's counters were created (at 0) yet.
  bool announced = false;
  /// Trades arrived since forming bars were last published.
  bool forming_dirty = false;
};

struct shard_state {
  processing_options opts;
  std::unordered_map<std::string, std::unique_ptr<instrument>> instruments;
  /// Feed health by instrument key, for instruments created later.
  std::unordered_map<std::string, bool> healthy;
  std::vector<bar> out_bars;
  std::vector<indicator_snapshot> out_snapshots;
  std::vector<feature_vector> out_features;
  /// Timeframe index and due time (ms) of every bar in out_bars.
  std::vector<std::pair<std::size_t, std::int64_t>> out_due;
  /// Due time of the pending close timer (INT64_MAX: none).
  std::int64_t armed_due_ms = std::numeric_limits<std::int64_t>::max();
  /// Histogram observations since the last flush.
  std::array<std::vector<double>, tf_count> completion_seconds;
  std::vector<double> indicator_seconds;
  std::vector<double> feature_seconds;
  std::int64_t ticks = 0;
  indicator_series::output scratch;
  feature_series::output feature_scratch;
};

} // namespace

struct processing_shard_memory {
  shard_state st;
  std::atomic<std::uint64_t> handled{0};
};

std::shared_ptr<processing_shard_memory> make_processing_shard_memory() {
  return std::make_shared<processing_shard_memory>();
}

std::uint64_t handled_messages(const processing_shard_memory& mem) noexcept {
  return mem.handled.load(std::memory_order_acquire);
}

namespace {

/// The actor's own state: the memory it works in.
struct shard_actor_state {
  std::shared_ptr<processing_shard_memory> memory;

  static inline const char* name = "processing_shard";
};

using shard_actor = caf::stateful_actor<shard_actor_state>;

shard_state& state_of(shard_actor* self) {
  return self->state.memory->st;
}

/// Counts a routed message as handled (see processing_shard_memory).
void handled(shard_actor* self) {
  self->state.memory->handled.fetch_add(1, std::memory_order_release);
}

std::string key_of(const std::string& exchange, const std::string& symbol) {
  std::string key;
  key.reserve(exchange.size() + symbol.size() + 1);
  key += exchange;
  key += '/';
  key += symbol;
  return key;
}

instrument& instrument_for(
  shard_state& st, const std::string& exchange, const std::string& symbol) {
  auto key = key_of(exchange, symbol);
  auto i = st.instruments.find(key);
  if (i != st.instruments.end())
    return *i->second;
  auto inst = std::make_unique<instrument>();
  inst->exchange = exchange;
  inst->symbol = symbol;
  inst->bars = std::make_unique<bar_aggregator>(
    exchange, symbol, st.opts.bars, inst->sink);
  if (auto h = st.healthy.find(key); h != st.healthy.end())
    inst->bars->set_feed_healthy(h->second);
  for (auto tf : messages::all_timeframes) {
    // Enough history to replay any revision within the allowed lateness.
    auto history = static_cast<std::size_t>(st.opts.bars.allowed_lateness_ms
                     / messages::duration_ms(tf))
      + 3;
    inst->series[tf_index(tf)] = std::make_unique<indicator_series>(history);
    inst->features[tf_index(tf)] = std::make_unique<feature_series>(history);
  }
  inst->quality = std::make_unique<quality_checker>(
    exchange, symbol, st.opts.quality, st.opts.now_ms());
  auto& ref = *inst;
  st.instruments.emplace(std::move(key), std::move(inst));
  return ref;
}

/// Computes the feature vectors of the bar whose indicators are in
/// st.scratch (one per bar whose indicators changed) and queues them.
void add_features(
  shard_state& st, instrument& inst, timeframe tf, const ohlcv& x) {
  st.feature_scratch.clear();
  auto start = std::chrono::steady_clock::now();
  inst.features[tf_index(tf)]->on_bar(x, st.scratch, st.feature_scratch);
  auto took = std::chrono::steady_clock::now() - start;
  if (st.feature_scratch.empty())
    return;
  auto n = st.feature_scratch.size();
  auto each
    = std::chrono::duration<double>(took).count() / static_cast<double>(n);
  st.feature_seconds.insert(st.feature_seconds.end(), n, each);
  inst.features_calculated += static_cast<std::int64_t>(n);
  for (auto& [open, values] : st.feature_scratch)
    st.out_features.push_back(
      feature_vector{inst.exchange, inst.symbol, tf, open, true, values});
}

/// Turns what the aggregators emitted into bars and indicator snapshots.
/// `arrival` is when the input that produced them arrived: the due time of
/// a revision or of a polled candle's bars; a first version built from
/// trades is due at its end plus the grace period.
void drain(
  shard_state& st, instrument& inst, std::int64_t arrival, bool polled) {
  if (inst.sink.bars.empty())
    return;
  for (auto& b : inst.sink.bars) {
    auto k = tf_index(b.tf);
    if (b.revision == 0)
      ++inst.completed[k];
    auto due = b.revision == 0 && !polled
      ? b.close_time_ms + 1 + st.opts.bars.grace_ms
      : arrival;
    st.out_due.emplace_back(k, due);
    st.scratch.clear();
    auto x = to_ohlcv(b);
    auto start = std::chrono::steady_clock::now();
    inst.series[k]->on_bar(x, st.scratch);
    auto took = std::chrono::steady_clock::now() - start;
    st.indicator_seconds.push_back(std::chrono::duration<double>(took).count());
    add_features(st, inst, b.tf, x);
    for (auto& [open, values] : st.scratch) {
      indicator_snapshot snap;
      snap.exchange = inst.exchange;
      snap.symbol = inst.symbol;
      snap.tf = b.tf;
      snap.open_time_ms = open;
      snap.closed = true;
      snap.values = values;
      st.out_snapshots.push_back(std::move(snap));
    }
    st.out_bars.push_back(std::move(b));
  }
  inst.sink.bars.clear();
}

void publish(shard_actor* self) {
  auto& st = state_of(self);
  if (!st.out_bars.empty()) {
    for (auto& sink : st.opts.sinks)
      self->send(sink, st.out_bars);
    st.out_bars.clear();
    // From the due time to the message (never negative, even when the
    // exchange's clock runs ahead of ours).
    auto now = st.opts.now_ms();
    for (auto [k, due] : st.out_due)
      st.completion_seconds[k].push_back(
        static_cast<double>(std::max<std::int64_t>(0, now - due)) / 1000.0);
    st.out_due.clear();
  }
  if (!st.out_snapshots.empty()) {
    for (auto& sink : st.opts.sinks)
      self->send(sink, st.out_snapshots);
    st.out_snapshots.clear();
  }
  if (!st.out_features.empty()) {
    for (auto& sink : st.opts.feature_sinks)
      self->send(sink, st.out_features);
    st.out_features.clear();
  }
}

/// Sends the forming bar of every timeframe, with its peek indicators, of
/// each instrument that got trades since the previous call.
void publish_forming(shard_actor* self) {
  auto& st = state_of(self);
  std::vector<bar> bars;
  std::vector<indicator_snapshot> snaps;
  for (auto& [key, inst] : st.instruments) {
    if (!inst->forming_dirty)
      continue;
    inst->forming_dirty = false;
    for (auto tf : messages::all_timeframes) {
      auto fb = inst->bars->forming(tf);
      if (!fb)
        continue;
      indicator_snapshot snap;
      snap.exchange = inst->exchange;
      snap.symbol = inst->symbol;
      snap.tf = tf;
      snap.open_time_ms = fb->open_time_ms;
      snap.closed = false;
      snap.values = inst->series[tf_index(tf)]->peek(to_ohlcv(*fb));
      snaps.push_back(std::move(snap));
      bars.push_back(std::move(*fb));
    }
  }
  if (bars.empty())
    return;
  auto bar_msg = caf::make_message(std::move(bars));
  auto snap_msg = caf::make_message(std::move(snaps));
  for (auto& sink : st.opts.forming_sinks) {
    self->send(sink, bar_msg);
    self->send(sink, snap_msg);
  }
}

void add(messages::metric_update& mu, metric_kind kind, const char* name,
  std::vector<std::pair<std::string, std::string>> labels, double value) {
  metric_entry e;
  e.kind = kind;
  e.name = name;
  e.labels = std::move(labels);
  e.value = value;
  mu.entries.push_back(std::move(e));
}

/// The anomaly counter a failed check also counts in, or nullptr.
const char* anomaly_counter(check_type c) noexcept {
  switch (c) {
    case check_type::price_anomaly:
      return "price_anomalies_detected_total";
    case check_type::volume_anomaly:
      return "volume_anomalies_detected_total";
    default:
      return nullptr;
  }
}

void flush_metrics(shard_actor* self, std::int64_t now) {
  auto& st = state_of(self);
  messages::metric_update mu;
  for (auto& [key, inst] : st.instruments) {
    for (auto tf : messages::all_timeframes) {
      auto& n = inst->completed[tf_index(tf)];
      if (n != 0)
        add(mu, metric_kind::counter_add, "bars_completed_total",
          {{"symbol", inst->symbol}, {"timeframe", std::string{to_string(tf)}}},
          static_cast<double>(n));
      n = 0;
    }
    // Counters are created at 0 by the first flush, so rates, ratios and
    // the dashboards have series before the first event.
    bool first = !inst->announced;
    inst->announced = true;
    for (std::size_t c = 0; c < check_type_count; ++c) {
      auto total = inst->quality->failed_total(static_cast<check_type>(c));
      auto delta = total - inst->failed_reported[c];
      if (delta > 0 || first)
        add(mu, metric_kind::counter_add, "data_quality_checks_failed_total",
          {{"symbol", inst->symbol},
            {"check_type", std::string{to_string(static_cast<check_type>(c))}}},
          static_cast<double>(delta));
      if (auto anomaly = anomaly_counter(static_cast<check_type>(c));
          anomaly != nullptr && (delta > 0 || first))
        add(mu, metric_kind::counter_add, anomaly, {{"symbol", inst->symbol}},
          static_cast<double>(delta));
      inst->failed_reported[c] = total;
    }
    if (inst->features_calculated > 0 || first)
      add(mu, metric_kind::counter_add, "features_calculated_total",
        {{"symbol", inst->symbol}},
        static_cast<double>(inst->features_calculated));
    inst->features_calculated = 0;
    add(mu, metric_kind::gauge_set, "data_freshness_seconds",
      {{"exchange", inst->exchange}, {"symbol", inst->symbol}},
      static_cast<double>(
        std::max<std::int64_t>(0, now - inst->last_received_ms))
        / 1000.0);
    add(mu, metric_kind::gauge_set, "data_quality_score",
      {{"symbol", inst->symbol}}, inst->quality->score(now));
    auto late = inst->sink.late;
    if (late > inst->late_reported) {
      monitoring::log_event(*monitoring::get_logger("processing.bars"),
        config::log_level::warning, "trades beyond the allowed lateness",
        {{"exchange", inst->exchange}, {"symbol", inst->symbol},
          {"late_trades", late - inst->late_reported}});
      inst->late_reported = late;
    }
  }
  for (auto tf : messages::all_timeframes) {
    auto& obs = st.completion_seconds[tf_index(tf)];
    for (auto v : obs)
      add(mu, metric_kind::histogram_observe, "bar_completion_duration_seconds",
        {{"timeframe", std::string{to_string(tf)}}}, v);
    obs.clear();
  }
  for (auto v : st.indicator_seconds)
    add(mu, metric_kind::histogram_observe,
      "indicator_calculation_duration_seconds", {{"indicator", "all"}}, v);
  st.indicator_seconds.clear();
  for (auto v : st.feature_seconds)
    add(mu, metric_kind::histogram_observe,
      "feature_calculation_duration_seconds", {}, v);
  st.feature_seconds.clear();
  if (st.opts.metrics && !mu.entries.empty())
    self->send(st.opts.metrics, std::move(mu));
}

/// The earliest wall time at which `inst` has a bar to close.
std::int64_t next_due(const instrument& inst) noexcept {
  auto due = inst.bars->next_due_ms();
  if (inst.candles)
    due = std::min(due, inst.candles->next_due_ms());
  return due;
}

/// Arms the close timer for `due` (wall ms) unless one is armed for that
/// time or earlier. A timer that an earlier one superseded still fires but
/// is ignored; the one armed for the earliest due time re-arms the next.
void arm_close(shard_actor* self, std::int64_t due) {
  auto& st = state_of(self);
  if (due >= st.armed_due_ms)
    return;
  st.armed_due_ms = due;
  auto delay = std::max<std::int64_t>(0, due - st.opts.now_ms());
  self->delayed_send(
    self, std::chrono::milliseconds{delay}, messages::bar_timer_atom_v, due);
}

/// Moves every instrument's clock to the wall clock, sends what closed and
/// arms the close timer for the next due time.
void close_due(shard_actor* self) {
  auto& st = state_of(self);
  auto now = st.opts.now_ms();
  auto next = std::numeric_limits<std::int64_t>::max();
  for (auto& [key, inst] : st.instruments) {
    inst->bars->advance(now);
    if (inst->candles)
      inst->candles->advance(now);
    drain(st, *inst, now, inst->candles != nullptr);
    next = std::min(next, next_due(*inst));
  }
  publish(self);
  arm_close(self, next);
}

caf::behavior shard(shard_actor* self, processing_options opts) {
  if (!opts.now_ms)
    opts.now_ms = messages::wall_clock_ms;
  self->state.memory
    = opts.memory ? std::move(opts.memory) : make_processing_shard_memory();
  opts.memory = nullptr; // The memory must not own itself.
  state_of(self).opts = std::move(opts);
  // A sink that cannot handle a message answers with an error; that must
  // not take the shard down (CAF's default quits on an unhandled error).
  self->set_error_handler([self](caf::error& err) {
    monitoring::log_event(*monitoring::get_logger("processing.shard"),
      config::log_level::warning, "error message from a collaborator",
      {{"error", self->system().render(err)}});
  });
  auto tick = std::chrono::milliseconds{state_of(self).opts.tick_ms};
  self->delayed_send(self, tick, messages::bar_timer_atom_v);
  // A new incarnation sends what the previous one had closed but not sent
  // and arms its own close timer (the old one's died with it).
  state_of(self).armed_due_ms = std::numeric_limits<std::int64_t>::max();
  close_due(self);
  return {
    [=](messages::trade_batch& batch) {
      auto& st = state_of(self);
      auto arrival = st.opts.now_ms();
      auto& inst = instrument_for(st, batch.exchange, batch.symbol);
      inst.last_received_ms = arrival;
      inst.quality->check(batch);
      inst.forming_dirty = true;
      if (st.opts.trade_sinks.empty()) {
        inst.bars->add(batch.trades);
      } else {
        messages::trade_batch accepted{batch.exchange, batch.symbol, {}};
        accepted.trades.reserve(batch.trades.size());
        for (const auto& t : batch.trades)
          if (inst.bars->add(t))
            accepted.trades.push_back(t);
        // One message shared by every trade sink (no copy per sink).
        auto msg = caf::make_message(std::move(accepted));
        for (auto& sink : st.opts.trade_sinks)
          self->send(sink, msg);
      }
      drain(st, inst, arrival, false);
      publish(self);
      arm_close(self, inst.bars->next_due_ms());
      handled(self);
    },
    [=](messages::candle_batch& batch) {
      // Polled sources deliver closed 1m candles: they pass through as 1m
      // bars and build the higher timeframes.
      auto& st = state_of(self);
      auto arrival = st.opts.now_ms();
      auto& inst = instrument_for(st, batch.exchange, batch.symbol);
      inst.last_received_ms = arrival;
      if (!inst.candles)
        inst.candles = std::make_unique<candle_rollup>(
          inst.exchange, inst.symbol, st.opts.bars, inst.sink);
      for (auto& c : batch.candles)
        inst.candles->add(c);
      drain(st, inst, arrival, true);
      publish(self);
      arm_close(self, inst.candles->next_due_ms());
      handled(self);
    },
    [=](const messages::feed_status& fs) {
      auto& st = state_of(self);
      for (auto& symbol : fs.symbols) {
        auto key = key_of(fs.exchange, symbol);
        st.healthy[key] = fs.healthy;
        if (auto i = st.instruments.find(key); i != st.instruments.end())
          i->second->bars->set_feed_healthy(fs.healthy);
      }
      handled(self);
    },
    [=](messages::bar_timer_atom, std::int64_t due) {
      auto& st = state_of(self);
      if (due != st.armed_due_ms)
        return; // Superseded by an earlier timer, which re-armed.
      st.armed_due_ms = std::numeric_limits<std::int64_t>::max();
      close_due(self);
    },
    [=](messages::bar_timer_atom) {
      auto& st = state_of(self);
      auto now = st.opts.now_ms();
      for (auto& [key, inst] : st.instruments) {
        inst->bars->advance(now);
        inst->quality->check_staleness(now);
        drain(st, *inst, now, inst->candles != nullptr);
      }
      publish(self);
      ++st.ticks;
      auto every = [&](std::int64_t ms) {
        auto n = std::max<std::int64_t>(1, ms / st.opts.tick_ms);
        return st.ticks % n == 0;
      };
      if (every(st.opts.metrics_flush_ms))
        flush_metrics(self, now);
      if (st.opts.forming_interval_ms > 0 && !st.opts.forming_sinks.empty()
        && every(st.opts.forming_interval_ms))
        publish_forming(self);
      if (every(st.opts.quality_report_ms))
        for (auto& [key, inst] : st.instruments) {
          auto report = inst->quality->report(now);
          for (auto& sink : st.opts.sinks)
            self->send(sink, report);
        }
      self->delayed_send(self, std::chrono::milliseconds{st.opts.tick_ms},
        messages::bar_timer_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_processing_shard(
  caf::actor_system& sys, processing_options opts) {
  return sys.spawn(shard, std::move(opts));
}

caf::actor spawn_processing_shard(
  caf::local_actor* parent, processing_options opts) {
  return parent->spawn(shard, std::move(opts));
}

} // namespace csp::actors
