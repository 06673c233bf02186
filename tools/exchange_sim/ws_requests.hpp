#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace csp::tools {

/// A request a client sent on a market-data WebSocket, as Binance defines
/// them.
struct ws_request {
  /// The method, or invalid when `error_reply` holds the answer.
  enum class kind {
    subscribe,
    unsubscribe,
    list_subscriptions,
    get_property,
    set_property,
    invalid,
  };
  kind method = kind::invalid;
  /// Stream names (SUBSCRIBE/UNSUBSCRIBE) or property arguments.
  std::vector<std::string> params;
  /// For set_property: the boolean value.
  bool value = false;
  /// The request id as JSON text ("7", "\"abc\"" or "null").
  std::string id = "null";
  /// For invalid: the complete error reply.
  std::string error_reply;
};

/// Parses one text frame; malformed requests yield kind::invalid with
/// Binance's error reply.
ws_request parse_ws_request(std::string_view text);

/// Returns {"result":<result_json>,"id":<id>}.
std::string ws_result(std::string_view result_json, std::string_view id);

/// Returns {"error":{"code":..,"msg":".."},"id":<id>}.
std::string ws_error(int code, std::string_view msg, std::string_view id);

/// Returns the JSON array of `names`.
std::string json_string_array(const std::vector<std::string>& names);

/// Returns whether `name` is a well-formed stream name
/// ("<lowercase symbol>@<stream type>").
bool valid_stream_name(std::string_view name);

} // namespace csp::tools
