#pragma once

// The client side of the WebSocket endpoint `/ws`: parsing of client
// requests in two dialects (native and Binance-compatible, detected per
// message) and the replies to them. Pure functions, no CAF; the data
// events (snapshots, bar updates, klines) are in api/ws_events.hpp.
// docs/API.md describes the protocol.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "messages/timeframe.hpp"

namespace csp::api {

/// Largest client message accepted, in bytes.
inline constexpr std::size_t max_ws_message_bytes = 4096;

/// Most streams one request may name.
inline constexpr std::size_t max_streams_per_request = 100;

/// Longest symbol accepted.
inline constexpr std::size_t max_symbol_length = 32;

/// Longest string request id accepted (Binance's limit).
inline constexpr std::size_t max_id_length = 36;

/// The dialect of one client message.
enum class ws_dialect {
  /// `{"op":"subscribe","symbol":"BTCUSDT","timeframe":"1m"}`.
  native,
  /// `{"method":"SUBSCRIBE","params":["btcusdt@kline_1m"],"id":1}`.
  binance,
};

/// What a client asks for.
enum class ws_op { subscribe, unsubscribe, ping, list_subscriptions };

/// One bar stream: an instrument and a timeframe.
struct ws_stream {
  /// Upper case, as stored ("BTCUSDT").
  std::string symbol;
  messages::timeframe tf = messages::timeframe::m1;

  friend bool operator==(const ws_stream& x, const ws_stream& y) noexcept {
    return x.tf == y.tf && x.symbol == y.symbol;
  }
  friend bool operator!=(const ws_stream& x, const ws_stream& y) noexcept {
    return !(x == y);
  }
  friend bool operator<(const ws_stream& x, const ws_stream& y) noexcept {
    return x.symbol != y.symbol ? x.symbol < y.symbol : x.tf < y.tf;
  }
};

/// A valid client request.
struct ws_request {
  ws_dialect dialect = ws_dialect::native;
  ws_op op = ws_op::ping;
  /// The streams of a subscribe or unsubscribe, duplicates folded, in the
  /// order of their first mention; empty for ping and list_subscriptions.
  std::vector<ws_stream> streams;
  /// The request id as JSON text (an integer or a string literal), "null"
  /// when the request had none.
  std::string id_json = "null";
};

/// A refused client message. The connection stays open; the reply is
/// error_reply(error).
struct ws_protocol_error {
  /// The dialect to answer in: the message's own when it could be told,
  /// else the fallback given to parse_ws_request.
  ws_dialect dialect = ws_dialect::native;
  /// Stable snake_case code: message_too_large, invalid_json,
  /// not_an_object, duplicate_key, ambiguous_dialect, missing_field,
  /// unknown_key, invalid_field, unknown_op, invalid_id, invalid_symbol,
  /// invalid_timeframe, invalid_stream, invalid_params, too_many_streams.
  std::string code;
  /// Human-readable detail.
  std::string message;
  /// The request id as JSON text when it could be read, else "null".
  std::string id_json = "null";
};

/// Parses one client text message. The dialect is detected per message:
/// a `method` member means Binance, an `op` member native. `fallback` is
/// the dialect of errors in messages that do not tell (not JSON, not an
/// object, neither member); a server passes the dialect the connection
/// used last.
std::variant<ws_request, ws_protocol_error> parse_ws_request(
  std::string_view text, ws_dialect fallback = ws_dialect::native);

/// True for 1 to 32 characters of upper-case letters, digits and
/// `. - ^ =` (config::check_symbol's rule for stock tickers).
bool is_valid_symbol(std::string_view symbol) noexcept;

/// Parses a Binance stream name, `<symbol lower case>@kline_<interval>`
/// with an interval of 1m 5m 15m 1h 4h 1d, e.g. from a `/ws/<stream>` or
/// `/stream?streams=` URL. Errors have the Binance dialect and id "null".
std::variant<ws_stream, ws_protocol_error> parse_binance_stream(
  std::string_view name);

/// The Binance stream name of `s`: "btcusdt@kline_1m".
std::string binance_stream_name(const ws_stream& s);

// -- replies, native dialect
// ---------------------------------------------------

/// `{"type":"subscribed"|"unsubscribed","symbol":..,"timeframe":..,"id":..}`
/// for op subscribe or unsubscribe (any other op gives "unsubscribed").
std::string native_ack(
  ws_op op, const ws_stream& stream, std::string_view id_json);

/// `{"type":"pong"}`, with `"id"` when the ping had one (id_json not
/// "null").
std::string native_pong(std::string_view id_json);

/// `{"type":"subscriptions","subscriptions":[{"symbol":..,"timeframe":..}
/// ...],"id":..}`.
std::string native_subscriptions(
  const std::vector<ws_stream>& streams, std::string_view id_json);

/// `{"type":"error","code":..,"message":..,"id":..}`.
std::string native_error(
  std::string_view code, std::string_view message, std::string_view id_json);

// -- replies, Binance dialect
// --------------------------------------------------

/// `{"result":null,"id":..}`: a subscribe or unsubscribe succeeded.
std::string binance_result(std::string_view id_json);

/// `{"result":["btcusdt@kline_1m",...],"id":..}`.
std::string binance_subscriptions(
  const std::vector<ws_stream>& streams, std::string_view id_json);

/// Binance's numeric error code for one of our codes: 3 for invalid_json
/// ("Invalid JSON"), 2 ("Invalid request") for every other.
int binance_error_code(std::string_view code) noexcept;

/// `{"error":{"code":2,"msg":"Invalid request: .."},"id":..}` (code 3 and
/// "Invalid JSON: .." for invalid_json), as Binance answers.
std::string binance_error(
  std::string_view code, std::string_view message, std::string_view id_json);

// -- replies, either dialect
// ---------------------------------------------------

/// The reply to a refused message, in its dialect.
std::string error_reply(const ws_protocol_error& error);

/// The reply to a request that was carried out: an ack (native: for its
/// stream), a pong, or the list of `subscriptions` (the connection's
/// subscriptions after the request).
std::string ack_reply(
  const ws_request& request, const std::vector<ws_stream>& subscriptions);

} // namespace csp::api
