#include "actors/binance_parser.hpp"

#include <cstring>

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

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

/// State of one expected field after reading an object.
enum class slot : std::uint8_t { absent, ok, bad };

/// The fields of one object that matter for classification. String views
/// point into the simdjson parser's string buffer (valid until the next
/// iterate call).
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
};

/// Whether a getter's error only means "wrong type for this field".
bool is_type_error(error_code err) noexcept {
  return err == simdjson::INCORRECT_TYPE
    || err == simdjson::NUMBER_OUT_OF_RANGE;
}

/// Length of the string starting at `str` (just past its opening quote) if
/// it contains no escape sequence, otherwise -1. Stage 1 has already checked
/// that every string is closed, so the scan stays inside the padded buffer.
std::ptrdiff_t plain_length(const char* str) noexcept {
  for (const char* i = str;; ++i) {
    if (*i == '"')
      return i - str;
    if (*i == '\\')
      return -1;
  }
}

/// Reads an object key without copying it when it has no escapes (the
/// common case); keys with escapes are unescaped into the parser's buffer.
error_code read_key(od::field& field, std::string_view& key) noexcept {
  const char* raw = field.key().raw();
  auto len = plain_length(raw);
  if (len >= 0) {
    key = std::string_view{raw, static_cast<std::size_t>(len)};
    return SUCCESS;
  }
  return field.unescaped_key().get(key);
}

/// Reads a string value without copying it when it has no escapes. Leaves
/// plain strings unconsumed: the object iterator skips them.
error_code get_string_fast(od::value& val, std::string_view& out) noexcept {
  auto token = val.raw_json_token();
  if (!token.empty() && token[0] == '"') {
    auto len = plain_length(token.data() + 1);
    if (len >= 0) {
      out = std::string_view{token.data() + 1, static_cast<std::size_t>(len)};
      return SUCCESS;
    }
  }
  return val.get_string().get(out);
}

error_code validate_value(od::value& val) noexcept;

/// Whether a raw token (which runs up to the next structural character) is
/// exactly `literal` followed by optional whitespace.
bool literal_ok(std::string_view token, std::string_view literal) noexcept {
  if (token.substr(0, literal.size()) != literal)
    return false;
  for (char c : token.substr(literal.size()))
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      return false;
  return true;
}

/// Consumes an object, checking every key and value for well-formedness.
error_code validate_object(od::object& obj) noexcept {
  for (auto result : obj) {
    if (auto err = result.error())
      return err;
    // By reference: copying the field costs a store-forwarding stall.
    od::field& field = result.value_unsafe();
    std::string_view key;
    if (auto err = read_key(field, key))
      return err;
    if (auto err = validate_value(field.value()))
      return err;
  }
  return SUCCESS;
}

/// Consumes any value, checking it for well-formedness (on-demand parsing
/// would otherwise skip the values nobody asks for without looking).
error_code validate_value(od::value& val) noexcept {
  // Scalars are checked on their raw token, which is cheaper than the typed
  // getters; plain strings and literals are then left for the iterator to
  // skip.
  auto token = val.raw_json_token();
  if (token.empty())
    return simdjson::TAPE_ERROR;
  switch (token[0]) {
    case '"': {
      std::string_view ignored;
      return get_string_fast(val, ignored);
    }
    case 't':
      return literal_ok(token, "true") ? SUCCESS : simdjson::T_ATOM_ERROR;
    case 'f':
      return literal_ok(token, "false") ? SUCCESS : simdjson::F_ATOM_ERROR;
    case 'n':
      return literal_ok(token, "null") ? SUCCESS : simdjson::N_ATOM_ERROR;
    default:
      break;
  }
  od::json_type type;
  if (auto err = val.type().get(type))
    return err;
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (auto err = val.get_object().get(obj))
        return err;
      return validate_object(obj);
    }
    case od::json_type::array: {
      od::array arr;
      if (auto err = val.get_array().get(arr))
        return err;
      for (auto element : arr) {
        od::value item;
        if (auto err = element.get(item))
          return err;
        if (auto err = validate_value(item))
          return err;
      }
      return SUCCESS;
    }
    case od::json_type::number: {
      std::int64_t as_int = 0;
      auto err = val.get_int64().get(as_int);
      if (!is_type_error(err))
        return err;
      double as_double = 0;
      err = val.get_double().get(as_double);
      return err == simdjson::NUMBER_OUT_OF_RANGE ? SUCCESS : err;
    }
    case od::json_type::string: {
      std::string_view ignored;
      return get_string_fast(val, ignored);
    }
    case od::json_type::boolean: {
      bool ignored = false;
      return val.get_bool().get(ignored);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto err = val.is_null().get(is_null))
        return err;
      return is_null ? SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::TAPE_ERROR;
}

/// Reads an integer field; a wrong type marks the slot bad (and the value is
/// still validated). Returns an error only for malformed JSON.
error_code read_int(od::value& val, slot& state, std::int64_t& out) noexcept {
  auto err = val.get_int64().get(out);
  if (err == SUCCESS) {
    state = slot::ok;
    return SUCCESS;
  }
  if (!is_type_error(err))
    return err;
  state = slot::bad;
  return validate_value(val);
}

/// Reads a string field into a view of the parser's string buffer.
error_code read_string(
  od::value& val, slot& state, std::string_view& out) noexcept {
  auto err = get_string_fast(val, out);
  if (err == SUCCESS) {
    state = slot::ok;
    return SUCCESS;
  }
  if (!is_type_error(err))
    return err;
  state = slot::bad;
  return validate_value(val);
}

/// Reads a Boolean field.
error_code read_bool(od::value& val, slot& state, bool& out) noexcept {
  auto err = val.get_bool().get(out);
  if (err == SUCCESS) {
    state = slot::ok;
    return SUCCESS;
  }
  if (!is_type_error(err))
    return err;
  state = slot::bad;
  return validate_value(val);
}

/// Reads the "error" member of an error response, keeping its "code".
error_code read_error(od::value& val, payload& out) noexcept {
  out.has_error = true;
  od::object obj;
  auto err = val.get_object().get(obj);
  if (err != SUCCESS)
    return is_type_error(err) ? validate_value(val) : err;
  for (auto result : obj) {
    if (auto field_err = result.error())
      return field_err;
    // By reference: copying the field costs a store-forwarding stall.
    od::field& field = result.value_unsafe();
    std::string_view key;
    if (auto key_err = read_key(field, key))
      return key_err;
    od::value& member = field.value();
    if (key == "code") {
      slot ignored = slot::absent;
      if (auto code_err = read_int(member, ignored, out.code))
        return code_err;
    } else if (auto other_err = validate_value(member)) {
      return other_err;
    }
  }
  return SUCCESS;
}

/// Reads every member of `obj` into `out`. At the top level, `inner`
/// receives the members of a combined-stream "data" object.
error_code read_object(od::object& obj, payload& out, payload* inner) noexcept {
  for (auto result : obj) {
    if (auto field_err = result.error())
      return field_err;
    // By reference: copying the field costs a store-forwarding stall.
    od::field& field = result.value_unsafe();
    std::string_view key;
    if (auto key_err = read_key(field, key))
      return key_err;
    od::value& val = field.value();
    error_code err = SUCCESS;
    if (key.size() == 1) {
      switch (key[0]) {
        case 'e':
          err = read_string(val, out.e, out.e_val);
          break;
        case 'E':
          err = read_int(val, out.E, out.E_val);
          break;
        case 's':
          err = read_string(val, out.s, out.s_val);
          break;
        case 't':
          err = read_int(val, out.t, out.t_val);
          break;
        case 'p':
          err = read_string(val, out.p, out.p_val);
          break;
        case 'q':
          err = read_string(val, out.q, out.q_val);
          break;
        case 'T':
          err = read_int(val, out.T, out.T_val);
          break;
        case 'm':
          err = read_bool(val, out.m, out.m_val);
          break;
        default:
          err = validate_value(val);
      }
    } else if (inner != nullptr && key == "data") {
      out.has_data = true;
      od::object data;
      err = val.get_object().get(data);
      if (err == SUCCESS) {
        out.data_ok = true;
        *inner = payload{};
        err = read_object(data, *inner, nullptr);
      } else if (is_type_error(err)) {
        out.data_ok = false;
        err = validate_value(val);
      }
    } else if (key == "result") {
      out.has_result = true;
      err = validate_value(val);
    } else if (key == "error") {
      err = read_error(val, out);
    } else if (key == "id") {
      slot id_state = slot::absent;
      std::int64_t id = -1;
      err = read_int(val, id_state, id);
      out.has_id = true;
      out.id = id_state == slot::ok ? id : -1;
    } else {
      err = validate_value(val);
    }
    if (err != SUCCESS)
      return err;
  }
  return SUCCESS;
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

/// Consumes a document whose root is not an object, checking it.
error_code validate_root(od::document& doc, od::json_type type) noexcept {
  switch (type) {
    case od::json_type::object:
    case od::json_type::array: {
      od::value val;
      if (auto err = doc.get_value().get(val))
        return err;
      return validate_value(val);
    }
    case od::json_type::number: {
      double ignored = 0;
      auto err = doc.get_double().get(ignored);
      return err == simdjson::NUMBER_OUT_OF_RANGE ? SUCCESS : err;
    }
    case od::json_type::string: {
      std::string_view ignored;
      return doc.get_string().get(ignored);
    }
    case od::json_type::boolean: {
      bool ignored = false;
      return doc.get_bool().get(ignored);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto err = doc.is_null().get(is_null))
        return err;
      return is_null ? SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::TAPE_ERROR;
}

/// Whether the document has been consumed up to its end.
bool at_end(od::document& doc) noexcept {
  const char* ignored = nullptr;
  return doc.current_location().get(ignored) == simdjson::OUT_OF_BOUNDS;
}

} // namespace

struct binance_parser::impl {
  explicit impl(std::size_t max_frame) : max_frame_size(max_frame) {}

  std::size_t max_frame_size;
  od::parser parser;
  std::unique_ptr<char[]> buffer;
  std::size_t buffer_capacity = 0;

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
    od::document doc;
    if (parser.iterate(data, frame.size(), buffer_capacity).get(doc))
      return;
    od::json_type type;
    if (doc.type().get(type))
      return;
    if (type != od::json_type::object) {
      if (validate_root(doc, type) == SUCCESS && at_end(doc))
        res.status = parse_status::unexpected_message;
      return;
    }
    od::object root;
    if (doc.get_object().get(root))
      return;
    payload top;
    payload inner;
    if (read_object(root, top, &inner) != SUCCESS || !at_end(doc))
      return;
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
  impl_->parse(frame, res);
  return res;
}

} // namespace csp::actors
