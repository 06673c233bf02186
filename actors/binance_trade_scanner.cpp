#include "actors/binance_trade_scanner.hpp"

#include <cstdint>
#include <cstring>
#include <limits>

namespace csp::actors {

namespace {

/// The value of an ASCII digit, or a number above 9 for any other byte.
constexpr unsigned digit_value(char c) noexcept {
  return static_cast<unsigned>(static_cast<unsigned char>(c))
    - static_cast<unsigned>('0');
}

constexpr bool is_symbol_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// A read position in the frame that never moves past its end. Every reader
/// either consumes what it accepts and returns true, or returns false; the
/// scan stops at the first false, so a partly consumed token never matters.
class cursor {
public:
  explicit cursor(std::string_view frame) noexcept
      : pos_(frame.data()), end_(frame.data() + frame.size()) {}

  bool at_end() const noexcept { return pos_ == end_; }

  /// Consumes the exact bytes of `lit` (a string literal without its NUL).
  template <std::size_t N>
  bool literal(const char (&lit)[N]) noexcept {
    constexpr std::size_t size = N - 1;
    if (static_cast<std::size_t>(end_ - pos_) < size
      || std::memcmp(pos_, lit, size) != 0)
      return false;
    pos_ += size;
    return true;
  }

  /// Consumes a JSON integer without sign, fraction or exponent: `0` or
  /// `[1-9][0-9]*` of at most 19 digits, with a value that fits int64.
  /// A digit right after `0` or after 19 digits is left for the next
  /// literal to reject (no literal starts with a digit).
  bool integer(std::int64_t& out) noexcept {
    if (pos_ == end_)
      return false;
    auto first = digit_value(*pos_);
    if (first > 9)
      return false;
    ++pos_;
    std::uint64_t value = first;
    if (first != 0) {
      auto room = static_cast<std::size_t>(end_ - pos_);
      const char* stop = pos_ + (room < 18 ? room : 18);
      for (; pos_ != stop; ++pos_) {
        auto d = digit_value(*pos_);
        if (d > 9)
          break;
        value = value * 10 + d; // at most 19 digits: no uint64 overflow
      }
    }
    if (value
      > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return false;
    out = static_cast<std::int64_t>(value);
    return true;
  }

  /// Consumes `true` or `false`.
  bool boolean(bool& out) noexcept {
    if (literal("true")) {
      out = true;
      return true;
    }
    if (literal("false")) {
      out = false;
      return true;
    }
    return false;
  }

  /// Consumes the longest run of bytes satisfying `pred` (at most `limit`)
  /// and returns it. The closing quote is left to the next literal, which
  /// rejects whatever byte stopped the run unless it is that quote.
  template <class Predicate>
  std::string_view run(Predicate pred, std::size_t limit) noexcept {
    const char* begin = pos_;
    auto room = static_cast<std::size_t>(end_ - pos_);
    const char* stop = pos_ + (room < limit ? room : limit);
    while (pos_ != stop && pred(*pos_))
      ++pos_;
    return {begin, static_cast<std::size_t>(pos_ - begin)};
  }

  /// Consumes the characters of a symbol string: 1 to max_symbol_size of
  /// `[A-Z0-9]`. A longer run leaves a symbol character for the next
  /// literal, which rejects it.
  bool symbol(std::string_view& out) noexcept {
    out = run(is_symbol_char, max_symbol_size);
    return !out.empty();
  }

  /// Consumes the characters of a price or quantity string (`[0-9.]`, which
  /// needs no unescaping) and reads them as a positive decimal.
  bool positive_decimal(messages::decimal& out) noexcept {
    auto str = run([](char c) { return c == '.' || digit_value(c) <= 9; },
      std::numeric_limits<std::size_t>::max());
    return messages::parse_decimal(str, out) && out.units > 0;
  }

  /// Consumes the characters of a string whose value is ignored: printable
  /// ASCII except `"` and `\`, so the raw bytes are valid JSON string
  /// content (and valid UTF-8) without escapes.
  void ignored_string() noexcept {
    run([](char c) { return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\'; },
      std::numeric_limits<std::size_t>::max());
  }

private:
  const char* pos_;
  const char* end_;
};

/// The values of one canonical trade event.
struct trade_fields {
  std::int64_t event_time = 0;
  std::int64_t id = 0;
  std::int64_t trade_time = 0;
  std::string_view symbol;
  messages::decimal price;
  messages::decimal quantity;
  bool buyer_is_maker = false;
};

/// Consumes one canonical trade object (raw event or the "data" member).
/// Applies the general path's value checks (E and T positive, t not
/// negative, symbol, positive decimals) so that it accepts only trades.
bool scan_event(cursor& in, trade_fields& out) noexcept {
  if (!(in.literal(R"({"e":"trade","E":)") && in.integer(out.event_time)
        && out.event_time > 0 && in.literal(R"(,"s":")")
        && in.symbol(out.symbol) && in.literal(R"(","t":)")
        && in.integer(out.id) && in.literal(R"(,"p":")")
        && in.positive_decimal(out.price) && in.literal(R"(","q":")")
        && in.positive_decimal(out.quantity) && in.literal("\"")))
    return false;
  // The buyer and seller order ids of older feeds, ignored.
  std::int64_t ignored = 0;
  if (in.literal(R"(,"b":)")
    && !(in.integer(ignored) && in.literal(R"(,"a":)") && in.integer(ignored)))
    return false;
  if (!(in.literal(R"(,"T":)") && in.integer(out.trade_time)
        && out.trade_time > 0 && in.literal(R"(,"m":)")
        && in.boolean(out.buyer_is_maker)))
    return false;
  bool ignored_flag = false;
  if (in.literal(R"(,"M":)") && !in.boolean(ignored_flag))
    return false;
  return in.literal("}");
}

} // namespace

bool scan_canonical_trade(std::string_view frame, parse_result& res) noexcept {
  cursor in{frame};
  trade_fields fields;
  if (in.literal(R"({"stream":")")) {
    in.ignored_string();
    if (!(in.literal(R"(","data":)") && scan_event(in, fields)
          && in.literal("}")))
      return false;
  } else if (!scan_event(in, fields)) {
    return false;
  }
  if (!in.at_end())
    return false;
  res.status = parse_status::trade;
  res.trade.id = fields.id;
  res.trade.event_time_ms = fields.event_time;
  res.trade.trade_time_ms = fields.trade_time;
  res.trade.price = fields.price;
  res.trade.quantity = fields.quantity;
  res.trade.buyer_is_maker = fields.buyer_is_maker;
  res.set_symbol(fields.symbol);
  return true;
}

} // namespace csp::actors
