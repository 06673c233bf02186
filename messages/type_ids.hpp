#pragma once

// CAF 0.17.6 glue for every message that crosses actors: inspect()
// overloads (serialization and deep_to_string), the type ID block, the
// atoms, and register_types(). The plain message headers stay CAF-free.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/meta/load_callback.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/none.hpp"
#include "caf/sec.hpp"
#include "caf/type_id.hpp"

#include "messages/bar.hpp"
#include "messages/candle_batch.hpp"
#include "messages/circuit_transition.hpp"
#include "messages/collector_event.hpp"
#include "messages/decimal.hpp"
#include "messages/feature_vector.hpp"
#include "messages/feed_status.hpp"
#include "messages/flow_control.hpp"
#include "messages/health_status.hpp"
#include "messages/indicator_snapshot.hpp"
#include "messages/late_trade.hpp"
#include "messages/metric_update.hpp"
#include "messages/quality_report.hpp"
#include "messages/symbol_command.hpp"
#include "messages/timeframe.hpp"
#include "messages/trade.hpp"
#include "messages/writer_stats.hpp"

namespace csp::messages {

namespace detail {

__extension__ using uint128 = unsigned __int128;

/// True for CAF's binary serializer and deserializer, which need a
/// bit-exact wire form; false for printing inspectors (deep_to_string).
template <class Inspector>
inline constexpr bool is_binary_inspector_v
  = std::is_base_of<caf::serializer, Inspector>::value
  || std::is_base_of<caf::deserializer, Inspector>::value;

/// Largest valid wire value and printable label of each message enum.
template <class Enum>
struct enum_info;

template <>
struct enum_info<timeframe> {
  static constexpr std::uint8_t max = static_cast<std::uint8_t>(timeframe::d1);
  static std::string label(timeframe x) { return std::string{to_string(x)}; }
};

template <>
struct enum_info<circuit_state> {
  static constexpr std::uint8_t max
    = static_cast<std::uint8_t>(circuit_state::half_open);
  static std::string label(circuit_state x) {
    return std::string{to_string(x)};
  }
};

template <>
struct enum_info<collector_outcome> {
  static constexpr std::uint8_t max
    = static_cast<std::uint8_t>(collector_outcome::failure);
  static std::string label(collector_outcome x) {
    return std::string{to_string(x)};
  }
};

template <>
struct enum_info<indicator> {
  static constexpr std::uint8_t max = indicator_count - 1;
  static std::string label(indicator x) {
    return std::string{indicator_names[static_cast<std::size_t>(x)]};
  }
};

template <>
struct enum_info<symbol_action> {
  static constexpr std::uint8_t max
    = static_cast<std::uint8_t>(symbol_action::remove);
  static std::string label(symbol_action x) {
    return std::string{to_string(x)};
  }
};

template <>
struct enum_info<metric_kind> {
  static constexpr std::uint8_t max
    = static_cast<std::uint8_t>(metric_kind::histogram_observe);
  static std::string label(metric_kind x) { return std::string{to_string(x)}; }
};

/// A message enum field: one byte on the wire, rejected on load when out
/// of range; printed as its label.
template <class Enum>
struct enum_field {
  Enum& value;
};

/// A double field sent as its IEEE-754 bit pattern. CAF 0.17's portable
/// float packing does not survive NaN or infinity (and loses -0.0), and
/// indicator snapshots use NaN for null.
struct double_field {
  double& value;
};

inline std::uint64_t to_bits(double x) noexcept {
  std::uint64_t result;
  std::memcpy(&result, &x, sizeof(result));
  return result;
}

inline double from_bits(std::uint64_t x) noexcept {
  double result;
  std::memcpy(&result, &x, sizeof(result));
  return result;
}

/// Serializes an enum_field.
template <class Inspector, class Enum>
typename Inspector::result_type inspect(Inspector& f, enum_field<Enum>& x) {
  if constexpr (is_binary_inspector_v<Inspector>) {
    auto raw = static_cast<std::uint8_t>(x.value);
    auto check = [&]() -> caf::error {
      if (raw > enum_info<Enum>::max)
        return caf::make_error(caf::sec::invalid_argument,
          "enum value out of range", static_cast<int>(raw));
      x.value = static_cast<Enum>(raw);
      return caf::none;
    };
    return f(raw, caf::meta::load_callback(check));
  } else {
    auto label = enum_info<Enum>::label(x.value);
    return f(label);
  }
}

/// Serializes a double_field.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, double_field& x) {
  if constexpr (is_binary_inspector_v<Inspector>) {
    auto bits = to_bits(x.value);
    auto store = [&]() -> caf::error {
      x.value = from_bits(bits);
      return caf::none;
    };
    return f(bits, caf::meta::load_callback(store));
  } else {
    return f(x.value);
  }
}

/// A fixed array of doubles sent as IEEE-754 bit patterns (see
/// double_field): indicator and feature values use NaN for null.
template <std::size_t N>
struct double_array {
  std::array<double, N>& values;
};

/// Serializes a double_array.
template <class Inspector, std::size_t N>
typename Inspector::result_type inspect(Inspector& f, double_array<N>& x) {
  if constexpr (is_binary_inspector_v<Inspector>) {
    std::array<std::uint64_t, N> bits;
    for (std::size_t i = 0; i < N; ++i)
      bits[i] = to_bits(x.values[i]);
    auto store = [&]() -> caf::error {
      for (std::size_t i = 0; i < N; ++i)
        x.values[i] = from_bits(bits[i]);
      return caf::none;
    };
    return f(bits, caf::meta::load_callback(store));
  } else {
    return f(x.values);
  }
}

} // namespace detail

/// Prints a bare timeframe as its label ("1m"); binary inspectors use CAF's
/// default enum handling for a bare enum, message structs validate it.
template <class Inspector>
std::enable_if_t<!detail::is_binary_inspector_v<Inspector>,
  typename Inspector::result_type>
inspect(Inspector& f, timeframe& x) {
  auto label = std::string{to_string(x)};
  return f(caf::meta::type_name("timeframe"), label);
}

/// Serializes a decimal as its int64 units.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decimal& x) {
  return f(caf::meta::type_name("decimal"), x.units);
}

/// Serializes a wide_decimal as two 64-bit halves (high, then low).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wide_decimal& x) {
  auto u = static_cast<detail::uint128>(x.units);
  auto hi = static_cast<std::uint64_t>(u >> 64);
  auto lo = static_cast<std::uint64_t>(u);
  auto join = [&]() -> caf::error {
    x.units = static_cast<int128>((static_cast<detail::uint128>(hi) << 64)
      | static_cast<detail::uint128>(lo));
    return caf::none;
  };
  return f(caf::meta::type_name("wide_decimal"), hi, lo,
    caf::meta::load_callback(join));
}

/// Serializes a trade.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trade& x) {
  return f(caf::meta::type_name("trade"), x.id, x.price, x.quantity,
    x.trade_time_ms, x.event_time_ms, x.buyer_is_maker, x.receive_time_ns);
}

/// Serializes a trade_batch.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, trade_batch& x) {
  return f(caf::meta::type_name("trade_batch"), x.exchange, x.symbol, x.trades);
}

/// Serializes a bar.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bar& x) {
  return f(caf::meta::type_name("bar"), x.exchange, x.symbol,
    detail::enum_field<timeframe>{x.tf}, x.open_time_ms, x.close_time_ms,
    x.open, x.high, x.low, x.close, x.volume, x.quote_volume,
    x.taker_buy_volume, x.taker_buy_quote_volume, x.trade_count,
    x.first_trade_id, x.last_trade_id, x.revision, x.closed);
}

/// Serializes an indicator_snapshot; values travel bit-exact (NaN = null).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, indicator_snapshot& x) {
  return f(caf::meta::type_name("indicator_snapshot"), x.exchange, x.symbol,
    detail::enum_field<timeframe>{x.tf}, x.open_time_ms, x.closed,
    detail::double_array<indicator_count>{x.values});
}

/// Serializes a feature_vector; values travel bit-exact (NaN = null).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, feature_vector& x) {
  return f(caf::meta::type_name("feature_vector"), x.exchange, x.symbol,
    detail::enum_field<timeframe>{x.tf}, x.open_time_ms, x.closed,
    detail::double_array<feature_count>{x.values});
}

/// Serializes a quality_issue.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quality_issue& x) {
  return f(caf::meta::type_name("quality_issue"), x.check_type, x.detail,
    x.trade_id, x.time_ms);
}

/// Serializes a quality_check_count.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quality_check_count& x) {
  return f(caf::meta::type_name("quality_check_count"), x.check_type, x.failed);
}

/// Serializes a quality_report.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quality_report& x) {
  return f(caf::meta::type_name("quality_report"), x.exchange, x.symbol,
    x.time_ms, x.window_ms, detail::double_field{x.score}, x.observations,
    x.failed_checks, x.recent_issues);
}

/// Serializes a circuit_transition.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, circuit_transition& x) {
  return f(caf::meta::type_name("circuit_transition"), x.collector,
    detail::enum_field<circuit_state>{x.from},
    detail::enum_field<circuit_state>{x.to}, x.reason, x.time_ms,
    x.open_timeout_ms);
}

/// Serializes a collector_event.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, collector_event& x) {
  return f(caf::meta::type_name("collector_event"), x.collector,
    detail::enum_field<collector_outcome>{x.outcome}, x.reason, x.time_ms);
}

/// Serializes a feed_status.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, feed_status& x) {
  return f(caf::meta::type_name("feed_status"), x.exchange, x.symbols,
    x.healthy, x.time_ms, x.reason);
}

/// Serializes a symbol_command.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, symbol_command& x) {
  return f(caf::meta::type_name("symbol_command"),
    detail::enum_field<symbol_action>{x.action}, x.exchange, x.symbol);
}

/// Serializes a late_trade.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, late_trade& x) {
  return f(caf::meta::type_name("late_trade"), x.exchange, x.symbol, x.tr,
    x.reason, x.detected_time_ms);
}

/// Serializes a metric_entry.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metric_entry& x) {
  return f(caf::meta::type_name("metric_entry"),
    detail::enum_field<metric_kind>{x.kind}, x.name, x.labels,
    detail::double_field{x.value});
}

/// Serializes a metric_update.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metric_update& x) {
  return f(caf::meta::type_name("metric_update"), x.entries);
}

/// Serializes a health_status.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_status& x) {
  return f(caf::meta::type_name("health_status"), x.component, x.status,
    x.detail, x.time_ms);
}

/// Serializes a writer_stats.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, writer_stats& x) {
  return f(caf::meta::type_name("writer_stats"), x.name, x.rows_written,
    x.rows_spooled, x.spool_batches, x.spool_rows, x.buffered_rows,
    x.rows_rejected, x.errors, x.connected, x.rows_settled);
}

/// Serializes a flow_control.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flow_control& x) {
  return f(caf::meta::type_name("flow_control"), x.paused, x.reason,
    x.inflight_rows, x.time_ms);
}

/// Serializes a candle_batch.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, candle_batch& x) {
  return f(
    caf::meta::type_name("candle_batch"), x.exchange, x.symbol, x.candles);
}

/// Registers every type of the `csp` type ID block with `cfg` under its
/// qualified name (e.g. "csp::messages::trade_batch"). Every node must call
/// it before creating its actor_system: remote messages need the names.
void register_types(caf::actor_system_config& cfg);

} // namespace csp::messages

// -- type IDs and atoms ------------------------------------------------------

CAF_BEGIN_TYPE_ID_BLOCK(csp, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(csp, (csp::messages::timeframe))
CAF_ADD_TYPE_ID(csp, (csp::messages::decimal))
CAF_ADD_TYPE_ID(csp, (csp::messages::wide_decimal))
CAF_ADD_TYPE_ID(csp, (csp::messages::trade))
CAF_ADD_TYPE_ID(csp, (csp::messages::trade_batch))
CAF_ADD_TYPE_ID(csp, (std::vector<csp::messages::trade_batch>))
CAF_ADD_TYPE_ID(csp, (csp::messages::bar))
CAF_ADD_TYPE_ID(csp, (std::vector<csp::messages::bar>))
CAF_ADD_TYPE_ID(csp, (csp::messages::indicator_snapshot))
CAF_ADD_TYPE_ID(csp, (std::vector<csp::messages::indicator_snapshot>))
CAF_ADD_TYPE_ID(csp, (csp::messages::quality_issue))
CAF_ADD_TYPE_ID(csp, (csp::messages::quality_check_count))
CAF_ADD_TYPE_ID(csp, (csp::messages::quality_report))
CAF_ADD_TYPE_ID(csp, (std::vector<csp::messages::quality_report>))
CAF_ADD_TYPE_ID(csp, (csp::messages::circuit_transition))
CAF_ADD_TYPE_ID(csp, (csp::messages::collector_event))
CAF_ADD_TYPE_ID(csp, (csp::messages::feed_status))
CAF_ADD_TYPE_ID(csp, (csp::messages::symbol_command))
CAF_ADD_TYPE_ID(csp, (csp::messages::late_trade))
CAF_ADD_TYPE_ID(csp, (std::vector<csp::messages::late_trade>))
CAF_ADD_TYPE_ID(csp, (csp::messages::metric_entry))
CAF_ADD_TYPE_ID(csp, (csp::messages::metric_update))
CAF_ADD_TYPE_ID(csp, (csp::messages::health_status))
CAF_ADD_TYPE_ID(csp, (std::vector<csp::messages::health_status>))
CAF_ADD_TYPE_ID(csp, (csp::messages::candle_batch))
CAF_ADD_TYPE_ID(csp, (csp::messages::writer_stats))
CAF_ADD_TYPE_ID(csp, (std::vector<csp::messages::writer_stats>))
CAF_ADD_TYPE_ID(csp, (csp::messages::flow_control))
CAF_ADD_TYPE_ID(csp, (csp::messages::feature_vector))
CAF_ADD_TYPE_ID(csp, (std::vector<csp::messages::feature_vector>))

// Timers: a bar builder closes bars on boundary + grace.
CAF_ADD_ATOM(csp, csp::messages, bar_timer_atom, "bar_timer")
// Timers: flush accumulated batches (metrics, writers, broadcaster).
CAF_ADD_ATOM(csp, csp::messages, flush_timer_atom, "flush_tmr")
// Timers: the stock poller polls its symbols.
CAF_ADD_ATOM(csp, csp::messages, poll_atom, "poll")
// Timers: the collector sends a WebSocket ping / checks freshness.
CAF_ADD_ATOM(csp, csp::messages, heartbeat_atom, "heartbeat")
// Collector: reconnect now (24 h limit, or after an error).
CAF_ADD_ATOM(csp, csp::messages, reconnect_atom, "reconnect")
// Collector: fetch a range of missing trade ids over REST.
CAF_ADD_ATOM(csp, csp::messages, backfill_atom, "backfill")
// Supervisor: park a child whose circuit is open; unpark it half-open.
CAF_ADD_ATOM(csp, csp::messages, park_atom, "park")
CAF_ADD_ATOM(csp, csp::messages, unpark_atom, "unpark")
// Supervisor: restart a child after its backoff delay.
CAF_ADD_ATOM(csp, csp::messages, restart_atom, "restart")
// Ask a component for its health_status.
CAF_ADD_ATOM(csp, csp::messages, health_atom, "health")
// Ask a component for its current state (forming bar, indicators...).
CAF_ADD_ATOM(csp, csp::messages, snapshot_atom, "snapshot")
// WebSocket fan-out: (un)subscribe to live bars of a symbol/timeframe.
CAF_ADD_ATOM(csp, csp::messages, subscribe_bars_atom, "sub_bars")
CAF_ADD_ATOM(csp, csp::messages, unsubscribe_bars_atom, "unsub_bars")
// WebSocket fan-out: (un)subscribe to live trades of a symbol.
CAF_ADD_ATOM(csp, csp::messages, subscribe_trades_atom, "sub_trades")
CAF_ADD_ATOM(csp, csp::messages, unsubscribe_trades_atom, "unsub_trds")
// Queries of the API: history of bars, indicators, quality, symbols.
CAF_ADD_ATOM(csp, csp::messages, get_bars_atom, "get_bars")
CAF_ADD_ATOM(csp, csp::messages, get_indicators_atom, "get_ind")
CAF_ADD_ATOM(csp, csp::messages, get_quality_atom, "get_qual")
CAF_ADD_ATOM(csp, csp::messages, get_symbols_atom, "get_syms")
// Storage: replay the local spool after an outage.
CAF_ADD_ATOM(csp, csp::messages, replay_atom, "replay")
// Back-pressure: (sub_flow, listener) registers a receiver of
// flow_control messages with a sink (the storage supervisor).
CAF_ADD_ATOM(csp, csp::messages, subscribe_flow_atom, "sub_flow")
// Orderly shutdown of a subtree.
CAF_ADD_ATOM(csp, csp::messages, shutdown_atom, "shutdown")

CAF_END_TYPE_ID_BLOCK(csp)
