#pragma once

#include <string_view>

#include "actors/binance_parser.hpp"

namespace csp::actors {

/// Recognises a trade frame in the exact canonical shape Binance sends and
/// reads it without building a document: the fast path of binance_parser.
///
/// Accepted shapes, byte for byte, with no whitespace anywhere:
/// - raw: `{"e":"trade","E":<int>,"s":"<SYMBOL>","t":<int>,"p":"<dec>",`
///   `"q":"<dec>"[,"b":<int>,"a":<int>],"T":<int>,"m":<bool>[,"M":<bool>]}`
/// - combined: `{"stream":"<name>","data":<raw>}`
///
/// where `<int>` is `0` or `[1-9][0-9]*` with at most 19 digits and a value
/// that fits int64, `<SYMBOL>` is 1 to max_symbol_size characters of
/// `[A-Z0-9]`, `<dec>` is `[0-9.]` accepted by messages::parse_decimal with a
/// positive value, `<bool>` is `true` or `false` and `<name>` is printable
/// ASCII without `"` and `\`. E and T must be positive. Every byte the
/// scanner accepts is thus checked against the JSON grammar, and every
/// accepted frame is a valid JSON document that binance_parser's general
/// (simdjson) path reads as a trade with the same values.
///
/// Returns true and fills `res` (status trade) when the frame has this
/// shape. Returns false, leaving `res` untouched, for anything else: other
/// key orders, whitespace, escapes, extra fields, other events, errors. The
/// caller then uses the general path, which decides. Never reads outside
/// `frame`.
bool scan_canonical_trade(std::string_view frame, parse_result& res) noexcept;

} // namespace csp::actors
