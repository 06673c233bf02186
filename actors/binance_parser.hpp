#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "messages/trade.hpp"

namespace csp::actors {

/// What one Binance WebSocket text frame turned out to be.
enum class parse_status : std::uint8_t {
  /// A raw or wrapped `"e":"trade"` event; the result carries the trade.
  trade,
  /// A reply to a SUBSCRIBE/UNSUBSCRIBE request: `{"result":...,"id":..}`.
  subscription_result,
  /// An error reply to a request: `{"error":{"code":..,"msg":".."},"id":..}`.
  error_response,
  /// A well-formed event of another type ("aggTrade", "kline", ...).
  other_event,
  /// Not JSON, truncated JSON or trailing garbage.
  malformed_json,
  /// A trade event without one of its required fields.
  missing_field,
  /// A trade field with the wrong type or an impossible value.
  invalid_field,
  /// Valid JSON that is none of the messages above.
  unexpected_message,
};

/// Returns the stable name of `x`, e.g. "malformed_json". For the error
/// statuses this is the `error_type` label of `collector_errors_total`.
std::string_view to_string(parse_status x) noexcept;

/// Returns whether `x` is one of the error statuses (malformed_json,
/// missing_field, invalid_field, unexpected_message).
constexpr bool is_error(parse_status x) noexcept {
  return x >= parse_status::malformed_json;
}

/// Longest symbol the parser accepts (Binance symbols are far shorter).
inline constexpr std::size_t max_symbol_size = 30;

/// The outcome of parsing one frame. Self-contained: holds no pointer into
/// the input or into the parser, so it may outlive both.
struct parse_result {
  /// What the frame was; all other members depend on it.
  parse_status status = parse_status::malformed_json;
  /// For missing_field and invalid_field: the offending key ("p", "t", ...);
  /// points to static storage. Empty otherwise.
  std::string_view field;
  /// For trade: the trade (receive_time_ns is left 0 for the caller).
  messages::trade trade;
  /// For subscription_result and error_response: the request "id" when it
  /// is an integer, otherwise -1.
  std::int64_t request_id = -1;
  /// For error_response: "error"."code" when it is an integer, otherwise 0.
  std::int64_t error_code = 0;
  /// Characters of the symbol (upper-case alphanumeric); see symbol().
  /// Deliberately not zeroed (parsing is hot): only the first symbol_size
  /// characters are meaningful.
  std::array<char, max_symbol_size> symbol_chars;
  /// Number of valid characters in symbol_chars.
  std::uint8_t symbol_size = 0;

  /// Returns the trade's symbol, e.g. "BNBBTC" (empty unless a trade).
  std::string_view symbol() const noexcept {
    return {symbol_chars.data(), symbol_size};
  }

  /// Copies `str` into symbol_chars. Precondition: at most max_symbol_size.
  void set_symbol(std::string_view str) noexcept;

  /// Whether two results say the same: every member, with the symbol
  /// compared as symbol() (characters beyond symbol_size do not count).
  friend bool operator==(
    const parse_result& x, const parse_result& y) noexcept {
    return x.status == y.status && x.field == y.field && x.trade == y.trade
      && x.request_id == y.request_id && x.error_code == y.error_code
      && x.symbol() == y.symbol();
  }

  friend bool operator!=(
    const parse_result& x, const parse_result& y) noexcept {
    return !(x == y);
  }
};

/// Parses Binance trade-stream frames (raw `<symbol>@trade` events and the
/// combined-stream wrapper `{"stream":..,"data":{..}}`).
///
/// Two paths with one result. Frames in the exact shape Binance sends for a
/// trade go through scan_canonical_trade (binance_trade_scanner.hpp), a
/// hand-written scanner that validates every byte it accepts. Everything
/// else (other key orders, whitespace, escapes, extra fields, other events,
/// replies, errors) goes through the general path on simdjson's DOM API,
/// which validates the whole frame in its SIMD stages. The fast path only
/// ever accepts frames the general path reads as the same trade; the tests
/// and a fuzz target check this difference by difference. After 16 frames
/// in a row that the fast path declined, it is tried only on every 64th
/// frame until it accepts one again, so a change of the feed's shape costs
/// little.
///
/// The parser keeps its simdjson state and a padded copy buffer between
/// calls, so after the first few frames it does not allocate. Prices and
/// quantities are read exactly with messages::parse_decimal. Unknown fields
/// (Binance adds some from time to time) are validated as JSON and ignored.
/// Not thread-safe: use one instance per thread (or per actor).
class binance_parser {
public:
  /// Creates a parser that accepts frames up to `max_frame_size` bytes;
  /// larger frames are reported as unexpected_message.
  explicit binance_parser(std::size_t max_frame_size = 1 << 20);

  ~binance_parser();

  binance_parser(binance_parser&&) noexcept;

  binance_parser& operator=(binance_parser&&) noexcept;

  binance_parser(const binance_parser&) = delete;

  binance_parser& operator=(const binance_parser&) = delete;

  /// Parses one WebSocket text frame. `frame` needs no padding: it is
  /// copied into an internal buffer.
  parse_result parse(std::string_view frame);

  /// Parses one frame with the general (simdjson) path only, skipping the
  /// canonical-trade fast path. Same contract as parse(); the reference
  /// for tests and benchmarks.
  parse_result parse_general(std::string_view frame);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Parses one frame like binance_parser::parse, but with nlohmann_json.
/// Allocates per call; exists as a reference implementation for tests and
/// as the baseline of the parsing benchmark.
parse_result parse_trade_line_nlohmann(std::string_view frame);

} // namespace csp::actors
