#define CAF_SUITE binance_trade_scanner
#include "caf/test/unit_test.hpp"

#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "actors/binance_parser.hpp"
#include "actors/binance_trade_scanner.hpp"

using namespace csp::actors;

namespace {

std::string describe(const parse_result& res) {
  std::string out{to_string(res.status)};
  out += " field=" + std::string(res.field);
  out += " id=" + std::to_string(res.request_id);
  out += " code=" + std::to_string(res.error_code);
  if (res.status == parse_status::trade) {
    const auto& tr = res.trade;
    out += " " + std::string(res.symbol());
    out += " t=" + std::to_string(tr.id);
    out += " p=" + std::to_string(tr.price.units);
    out += " q=" + std::to_string(tr.quantity.units);
    out += " E=" + std::to_string(tr.event_time_ms);
    out += " T=" + std::to_string(tr.trade_time_ms);
    out += tr.buyer_is_maker ? " m=1" : " m=0";
    out += " rx=" + std::to_string(tr.receive_time_ns);
  }
  return out;
}

/// Prints a byte string with non-printable bytes escaped.
std::string printable(const std::string& line) {
  std::string out;
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

/// Runs one frame through the fast path, the production parser, its general
/// (simdjson) path and nlohmann_json, and counts how they relate.
struct differential {
  binance_parser parser;
  int accepted = 0;
  int declined = 0;
  int failures = 0;

  void fail(const std::string& line, const std::string& what) {
    if (++failures <= 10)
      CAF_MESSAGE("disagreement on " << printable(line) << ": " << what);
  }

  /// Returns whether the fast path accepted `line`.
  bool check(const std::string& line) {
    auto general = parser.parse_general(line);
    auto production = parser.parse(line);
    if (production != general)
      fail(line,
        "parse " + describe(production) + " vs parse_general "
          + describe(general));
    // A declined frame leaves the result alone: a marked one shows it.
    parse_result marked;
    marked.status = parse_status::unexpected_message;
    marked.request_id = 77;
    marked.symbol_size = 0;
    auto untouched = marked;
    parse_result scanned;
    bool ok = scan_canonical_trade(line, scanned);
    if (scan_canonical_trade(line, marked) != ok)
      fail(line, "the scanner is not deterministic");
    if (!ok) {
      ++declined;
      if (marked != untouched)
        fail(line, "declined but wrote " + describe(marked));
      return false;
    }
    ++accepted;
    if (scanned != general)
      fail(line,
        "scanner " + describe(scanned) + " vs parse_general "
          + describe(general));
    auto slow = parse_trade_line_nlohmann(line);
    if (scanned != slow)
      fail(line,
        "scanner " + describe(scanned) + " vs nlohmann " + describe(slow));
    return true;
  }
};

/// Writes canonical frames with random values, including the edges of each
/// value's range.
class canonical_generator {
public:
  explicit canonical_generator(std::uint64_t seed) : rng_(seed) {}

  std::string next() {
    std::string event = R"({"e":"trade","E":)" + positive_int();
    event += R"(,"s":")" + symbol() + R"(","t":)";
    event += pick(0, 9) == 0 ? std::string{"0"} : positive_int();
    event += R"(,"p":")" + decimal() + R"(","q":")" + decimal() + "\"";
    if (pick(0, 2) == 0)
      event += R"(,"b":)" + any_int() + R"(,"a":)" + any_int();
    event += R"(,"T":)" + positive_int();
    event += pick(0, 1) == 0 ? R"(,"m":true)" : R"(,"m":false)";
    switch (pick(0, 2)) {
      case 0:
        event += R"(,"M":true)";
        break;
      case 1:
        event += R"(,"M":false)";
        break;
      default:
        break;
    }
    event += '}';
    if (pick(0, 1) == 0)
      return event;
    return R"({"stream":")" + stream_name() + R"(","data":)" + event + "}";
  }

private:
  std::int64_t pick(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>{lo, hi}(rng_);
  }

  std::string positive_int() {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    switch (pick(0, 5)) {
      case 0:
        return "1";
      case 1:
        return std::to_string(max);
      case 2:
        return std::to_string(pick(1, 9));
      case 3:
        return std::to_string(pick(1'000'000'000'000'000'000LL, max));
      default:
        return std::to_string(pick(1'600'000'000'000LL, 1'800'000'000'000LL));
    }
  }

  std::string any_int() {
    return pick(0, 3) == 0 ? std::string{"0"} : positive_int();
  }

  std::string symbol() {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    auto size = pick(0, 3) == 0 ? pick(1, 30) : pick(5, 9);
    std::string out;
    for (std::int64_t i = 0; i < size; ++i)
      out += alphabet[pick(0, 35)];
    return out;
  }

  std::string stream_name() {
    std::string out;
    auto size = pick(0, 20);
    for (std::int64_t i = 0; i < size; ++i) {
      auto c = static_cast<char>(pick(0x20, 0x7e));
      if (c != '"' && c != '\\')
        out += c;
    }
    return out;
  }

  /// A positive decimal in one of the forms parse_decimal accepts.
  std::string decimal() {
    std::string integral = std::to_string(pick(0, 3) == 0 ? 0 : pick(1, 99999));
    std::string fraction;
    auto digits = pick(0, 8);
    for (std::int64_t i = 0; i < digits; ++i)
      fraction += static_cast<char>('0' + pick(0, 9));
    if (!fraction.empty())
      fraction.back() = static_cast<char>('1' + pick(0, 8)); // never zero
    else if (integral == "0")
      integral = "7";
    switch (pick(0, 3)) {
      case 0:
        return fraction.empty() ? integral : integral + "." + fraction;
      case 1:
        return integral + "." + fraction + "0"; // trailing zero or "7.0"
      case 2:
        return fraction.empty() ? integral + "." : "." + fraction;
      default:
        return integral + "." + fraction;
    }
  }

  std::mt19937_64 rng_;
};

/// Bytes that change the meaning of a frame when put in the wrong place.
const std::string& interesting_bytes() {
  static const std::string bytes = std::string{"\"\\{}[],: \t\n\r019-+.eEaAZ"}
    + "tfnul@_/" + std::string(1, '\0') + "\x01\x1f\x7f\x80\xc3\xff";
  return bytes;
}

/// Frames in the canonical shape with edge values; the mutation test
/// starts from each.
std::vector<std::string> base_frames() {
  std::string raw = R"({"e":"trade","E":1672515782136,"s":"BNBBTC",)"
                    R"("t":12345,"p":"0.001","q":"100",)"
                    R"("T":1672515782136,"m":true,"M":true})";
  std::string old_feed = R"({"e":"trade","E":1,"s":"A","t":0,)"
                         R"("p":"98765.43210987","q":"0.00000001",)"
                         R"("b":88,"a":9223372036854775807,)"
                         R"("T":9223372036854775807,"m":false})";
  std::string wide = R"({"e":"trade","E":9223372036854775807,)"
                     R"("s":"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",)"
                     R"("t":9223372036854775807,"p":".5","q":"7.",)"
                     R"("T":10,"m":false,"M":false})";
  return {raw, old_feed, wide,
    R"({"stream":"bnbbtc@trade","data":)" + raw + "}",
    R"({"stream":"","data":)" + old_feed + "}"};
}

} // namespace

CAF_TEST(
  the scanner accepts every canonical frame as the general path reads it) {
  differential diff;
  canonical_generator gen{7};
  for (int i = 0; i < 20'000; ++i) {
    auto line = gen.next();
    if (!diff.check(line))
      CAF_MESSAGE("declined canonical frame: " << line);
  }
  CAF_CHECK_EQUAL(diff.failures, 0);
  CAF_CHECK_EQUAL(diff.accepted, 20'000);
  for (const auto& line : base_frames())
    CAF_CHECK(diff.check(line));
}

CAF_TEST(
  the scanner declines what is not canonical and the parser still agrees) {
  differential diff;
  auto raw = base_frames()[0];
  for (const std::string& line : {
         " " + raw,                                       // leading whitespace
         raw + "\n",                                      // trailing whitespace
         R"({"e": "trade")" + raw.substr(12),             // space in the event
         R"({"s":"BNBBTC",)" + raw.substr(1),             // duplicate key
         R"({"e":"tr\u0061de")" + raw.substr(12),         // escape
         raw.substr(0, raw.size() - 1) + R"(,"x":1})",    // extra field
         raw.substr(0, raw.size() - 1) + R"(,"M":null})", // M not a boolean
         R"({"e":"trade","E":01)" + raw.substr(30),       // leading zero
         R"({"e":"trade","E":-1)" + raw.substr(30),       // negative
         R"({"e":"trade","E":1.5)" + raw.substr(30),      // fraction
         R"({"e":"trade","E":0)" + raw.substr(30),        // zero time
         R"({"e":"trade","E":9223372036854775808)" + raw.substr(30),
         R"({"e":"trade","E":12345678901234567890)" + raw.substr(30),
         R"({"stream":"a\"b","data":)" + raw + "}", // escaped name
         R"({"stream":"bnbbtc@trade","data":)" + raw + "} ",
         R"({"data":)" + raw + R"(,"stream":"bnbbtc@trade"})",
         R"({"e":"aggTrade")" + raw.substr(12),
       }) {
    CAF_CHECK(!diff.check(line));
  }
  CAF_CHECK_EQUAL(diff.failures, 0);
  CAF_CHECK_EQUAL(diff.declined, 17);
}

CAF_TEST(every single byte mutation of a canonical frame gets the same result on
    both paths) {
  differential diff;
  const auto& bytes = interesting_bytes();
  for (const auto& base : base_frames()) {
    for (std::size_t i = 0; i <= base.size(); ++i) {
      // Truncation and insertion at every position.
      diff.check(base.substr(0, i));
      for (char c : bytes)
        diff.check(base.substr(0, i) + c + base.substr(i));
      if (i == base.size())
        break;
      // Deletion, duplication and replacement of byte i.
      diff.check(base.substr(0, i) + base.substr(i + 1));
      diff.check(base.substr(0, i + 1) + base.substr(i));
      for (char c : bytes)
        if (c != base[i])
          diff.check(base.substr(0, i) + c + base.substr(i + 1));
    }
  }
  CAF_MESSAGE(diff.accepted << " mutations accepted by the fast path, "
                            << diff.declined << " declined");
  CAF_CHECK_EQUAL(diff.failures, 0);
  // Both paths are exercised: digits replaced by digits stay canonical,
  // most other edits do not.
  CAF_CHECK_GREATER(diff.accepted, 500);
  CAF_CHECK_GREATER(diff.declined, 10'000);
}

CAF_TEST(results do not depend on how often the fast path declined before) {
  // Runs of declined frames make the parser skip the fast path for a while
  // (binance_parser::impl::try_fast); the results must not show it.
  differential diff;
  canonical_generator gen{11};
  auto extended = [](std::string line) {
    line.insert(line.size() - 1, R"(,"X":"MARKET")");
    return line;
  };
  std::mt19937 rng{3};
  // Runs of canonical frames and of extended ones (declined), of random
  // lengths around the parser's patience of 16 frames.
  bool canonical = false;
  unsigned left = 0;
  for (int i = 0; i < 5'000; ++i) {
    if (left == 0) {
      canonical = !canonical;
      left = rng() % 80 + 1;
    }
    --left;
    auto line = canonical ? gen.next() : extended(gen.next());
    diff.check(line);
    auto res = diff.parser.parse(line);
    if (res.status != parse_status::trade)
      diff.fail(line, "not a trade: " + describe(res));
  }
  CAF_CHECK_EQUAL(diff.failures, 0);
  CAF_CHECK_GREATER(diff.accepted, 2'000);
  CAF_CHECK_GREATER(diff.declined, 2'000);
}
