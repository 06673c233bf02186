#include "actors/binance_parser.hpp"

#include <cstring>

#include "actors/binance_trade_scanner.hpp"

#include <simdjson.h>

namespace csp::actors {

std::string_view to_string(parse_status x) noexcept {
  switch (x) {
    case parse_status::trade:
      return "trade";
    case parse_status::subscription_result:
      return "subscription_result";
    case parse_status::error_response:
      return "error_response";
    case parse_status::other_event:
      return "other_event";
    case parse_status::malformed_json:
      return "malformed_json";
    case parse_status::missing_field:
      return "missing_field";
    case parse_status::invalid_field:
      return "invalid_field";
    case parse_status::unexpected_message:
      return "unexpected_message";
  }
  return "unknown";
}

void parse_result::set_symbol(std::string_view str) noexcept {
  std::memcpy(symbol_chars.data(), str.data(), str.size());
  symbol_size = static_cast<std::uint8_t>(str.size());
}

namespace {

using simdjson::error_code;
using simdjson::SUCCESS;
namespace dom = simdjson::dom;

/// State of one expected field after reading an object.
enum class slot : std::uint8_t { absent, ok, bad };

/// The fields of one object that matter for classification. String views
/// point into the simdjson parser's string buffer (valid until the next
/// parse call).
struct payload {
  slot e = slot::absent;
  slot E = slot::absent;
  slot s = slot::absent;
  slot t = slot::absent;
  slot p = slot::absent;
  slot q = slot::absent;
  slot T = slot::absent;
  slot m = slot::absent;
  std::string_view e_val;
  std::string_view s_val;
  std::string_view p_val;
  std::string_view q_val;
  std::int64_t E_val = 0;
  std::int64_t t_val = 0;
  std::int64_t T_val = 0;
  bool m_val = false;
  bool has_result = false;
  bool has_error = false;
  bool has_id = false;
  std::int64_t id = -1;
  std::int64_t code = 0;
  /// Top level only: "data" was present (data_ok: and an object).
  bool has_data = false;
  bool data_ok = false;

  /// Forgets the previous frame. Only the states are reset: values are read
  /// only where their state is ok (cheaper than a zeroing copy per frame).
  void reset() noexcept {
    e = E = s = t = p = q = T = m = slot::absent;
    has_result = has_error = has_id = has_data = data_ok = false;
    id = -1;
    code = 0;
  }
};

/// Reads one typed member: a wrong type (or an integer out of range)
/// marks the slot bad. The DOM parser has already validated the document,
/// so nothing here can be malformed.
template <class T>
void read(dom::element val, slot& state, T& out) noexcept {
  state = val.get(out) == SUCCESS ? slot::ok : slot::bad;
}

/// Reads every member of `obj` into `out`. At the top level, `inner`
/// receives the members of a combined-stream "data" object.
void read_object(dom::object obj, payload& out, payload* inner) noexcept {
  for (auto member : obj) {
    std::string_view key = member.key;
    dom::element val = member.value;
    if (key.size() == 1) {
      switch (key[0]) {
        case 'e':
          read(val, out.e, out.e_val);
          break;
        case 'E':
          read(val, out.E, out.E_val);
          break;
        case 's':
          read(val, out.s, out.s_val);
          break;
        case 't':
          read(val, out.t, out.t_val);
          break;
        case 'p':
          read(val, out.p, out.p_val);
          break;
        case 'q':
          read(val, out.q, out.q_val);
          break;
        case 'T':
          read(val, out.T, out.T_val);
          break;
        case 'm':
          read(val, out.m, out.m_val);
          break;
        default:
          break;
      }
    } else if (inner != nullptr && key == "data") {
      out.has_data = true;
      dom::object data;
      out.data_ok = val.get(data) == SUCCESS;
      if (out.data_ok)
        read_object(data, *inner, nullptr);
    } else if (key == "result") {
      out.has_result = true;
    } else if (key == "error") {
      out.has_error = true;
      dom::object err;
      std::int64_t code = 0;
      if (val.get(err) == SUCCESS && err["code"].get(code) == SUCCESS)
        out.code = code;
    } else if (key == "id") {
      std::int64_t id = -1;
      out.has_id = true;
      out.id = val.get(id) == SUCCESS ? id : -1;
    }
  }
}

bool valid_symbol(std::string_view str) noexcept {
  if (str.empty() || str.size() > max_symbol_size)
    return false;
  for (char c : str)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
      return false;
  return true;
}

/// Sets `res` to a field error and returns false.
bool field_error(parse_result& res, slot state, std::string_view name) {
  res.status = state == slot::absent ? parse_status::missing_field
                                     : parse_status::invalid_field;
  res.field = name;
  return false;
}

/// Checks the trade fields in a fixed order (E, s, t, p, q, T, m) and fills
/// `res` on success.
bool to_trade(const payload& in, parse_result& res) {
  if (in.E != slot::ok || in.E_val <= 0)
    return field_error(res, in.E, "E");
  if (in.s != slot::ok || !valid_symbol(in.s_val))
    return field_error(res, in.s, "s");
  if (in.t != slot::ok || in.t_val < 0)
    return field_error(res, in.t, "t");
  if (in.p != slot::ok || !messages::parse_decimal(in.p_val, res.trade.price)
    || res.trade.price.units <= 0)
    return field_error(res, in.p, "p");
  if (in.q != slot::ok || !messages::parse_decimal(in.q_val, res.trade.quantity)
    || res.trade.quantity.units <= 0)
    return field_error(res, in.q, "q");
  if (in.T != slot::ok || in.T_val <= 0)
    return field_error(res, in.T, "T");
  if (in.m != slot::ok)
    return field_error(res, in.m, "m");
  res.status = parse_status::trade;
  res.trade.id = in.t_val;
  res.trade.event_time_ms = in.E_val;
  res.trade.trade_time_ms = in.T_val;
  res.trade.buyer_is_maker = in.m_val;
  res.set_symbol(in.s_val);
  return true;
}

/// Classifies one event object (raw, or the "data" of a wrapper).
void classify(const payload& in, parse_result& res) {
  if (in.e != slot::absent) {
    if (in.e == slot::bad) {
      field_error(res, in.e, "e");
    } else if (in.e_val != "trade") {
      res.status = parse_status::other_event;
    } else {
      to_trade(in, res);
    }
  } else if (in.has_error) {
    res.status = parse_status::error_response;
    res.error_code = in.code;
    res.request_id = in.id;
  } else if (in.has_result && in.has_id) {
    res.status = parse_status::subscription_result;
    res.request_id = in.id;
  } else {
    res.status = parse_status::unexpected_message;
  }
}

} // namespace

struct binance_parser::impl {
  explicit impl(std::size_t max_frame) : max_frame_size(max_frame) {}

  std::size_t max_frame_size;
  dom::parser parser;
  std::unique_ptr<char[]> buffer;
  std::size_t buffer_capacity = 0;
  /// Members of the frame and of its "data" object, reused across frames.
  payload top;
  payload inner;
  /// Frames the fast path declined since it last accepted one.
  std::uint32_t fast_declines = 0;
  /// Counts frames while the fast path is mostly skipped.
  std::uint32_t skipped = 0;

  /// Consecutive declines after which the fast path is tried only on every
  /// retry_interval-th frame: when the feed's shape changes (a new field,
  /// say), each frame would otherwise pay for a full scan before the
  /// general path. One accepted frame restores it. Either path gives the
  /// same result, so this changes only the speed.
  static constexpr std::uint32_t patience = 16;
  static constexpr std::uint32_t retry_interval = 64;

  /// Tries the fast path if it has been paying off recently.
  bool try_fast(std::string_view frame, parse_result& res) noexcept {
    if (frame.size() > max_frame_size)
      return false;
    if (fast_declines >= patience && ++skipped % retry_interval != 0)
      return false;
    if (scan_canonical_trade(frame, res)) {
      fast_declines = 0;
      return true;
    }
    if (fast_declines < patience)
      ++fast_declines;
    return false;
  }

  /// Copies `frame` into the padded buffer, growing it when needed.
  const char* pad(std::string_view frame) {
    auto needed = frame.size() + simdjson::SIMDJSON_PADDING;
    if (needed > buffer_capacity) {
      auto capacity = std::max<std::size_t>(needed, 4096);
      buffer = std::make_unique<char[]>(capacity);
      buffer_capacity = capacity;
    }
    std::memcpy(buffer.get(), frame.data(), frame.size());
    std::memset(buffer.get() + frame.size(), 0, simdjson::SIMDJSON_PADDING);
    return buffer.get();
  }

  void parse(std::string_view frame, parse_result& res) {
    if (frame.size() > max_frame_size) {
      res.status = parse_status::unexpected_message;
      return;
    }
    const char* data = pad(frame);
    res.status = parse_status::malformed_json;
    // The DOM parser validates the whole document (structure, strings,
    // UTF-8, numbers, literals) in its SIMD stages, so malformed values in
    // fields nobody reads are still found.
    dom::element doc;
    auto err = parser
                 .parse(reinterpret_cast<const std::uint8_t*>(data),
                   frame.size(), false)
                 .get(doc);
    if (err == simdjson::NUMBER_ERROR) {
      // Either a malformed number or an integer beyond 64 bits, which is
      // valid JSON that simdjson's DOM refuses (never in a field the
      // platform reads). Rare: the slow path tells the two apart.
      res = parse_trade_line_nlohmann(frame);
      return;
    }
    if (err != SUCCESS)
      return;
    dom::object root;
    if (doc.get(root) != SUCCESS) {
      res.status = parse_status::unexpected_message;
      return;
    }
    top.reset();
    inner.reset();
    read_object(root, top, &inner);
    if (top.has_data) {
      if (top.data_ok)
        classify(inner, res);
      else
        res.status = parse_status::unexpected_message;
      return;
    }
    classify(top, res);
  }
};

binance_parser::binance_parser(std::size_t max_frame_size)
    : impl_(std::make_unique<impl>(max_frame_size)) {}

binance_parser::~binance_parser() = default;

binance_parser::binance_parser(binance_parser&&) noexcept = default;

binance_parser& binance_parser::operator=(binance_parser&&) noexcept = default;

parse_result binance_parser::parse(std::string_view frame) {
  parse_result res;
  if (!impl_->try_fast(frame, res))
    impl_->parse(frame, res);
  return res;
}

parse_result binance_parser::parse_general(std::string_view frame) {
  parse_result res;
  impl_->parse(frame, res);
  return res;
}

} // namespace csp::actors
