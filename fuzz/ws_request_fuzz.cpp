// libFuzzer target: client WebSocket messages (api/ws_protocol). Every
// input must either parse or be refused, and every reply must be valid
// JSON (nlohmann refuses invalid UTF-8) with the request's id.
//
// Build: clang++ -std=c++17 -fsanitize=fuzzer,address -I. \
//   fuzz/ws_request_fuzz.cpp api/ws_protocol.cpp api/json_text.cpp

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/ws_protocol.hpp"

namespace {

void require(bool ok) {
  if (!ok)
    std::abort();
}

nlohmann::json parse_reply(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  require(!j.is_discarded() && j.is_object());
  return j;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(
  const std::uint8_t* data, std::size_t size) {
  using namespace csp::api;
  std::string_view text{reinterpret_cast<const char*>(data), size};
  for (auto fallback : {ws_dialect::native, ws_dialect::binance}) {
    auto result = parse_ws_request(text, fallback);
    if (auto* err = std::get_if<ws_protocol_error>(&result)) {
      require(!err->code.empty() && !err->message.empty());
      auto j = parse_reply(error_reply(*err));
      require(j["id"] == nlohmann::json::parse(err->id_json));
      continue;
    }
    const auto& req = std::get<ws_request>(result);
    require(req.streams.size() <= max_streams_per_request);
    bool with_streams
      = req.op == ws_op::subscribe || req.op == ws_op::unsubscribe;
    require(with_streams != req.streams.empty());
    for (const auto& s : req.streams) {
      require(is_valid_symbol(s.symbol));
      auto back = parse_binance_stream(binance_stream_name(s));
      require(std::holds_alternative<ws_stream>(back)
        && std::get<ws_stream>(back) == s);
    }
    auto id = nlohmann::json::parse(req.id_json);
    auto ack = parse_reply(ack_reply(req, req.streams));
    if (!(req.dialect == ws_dialect::native && req.op == ws_op::ping
          && id.is_null()))
      require(ack["id"] == id);
    if (req.dialect == ws_dialect::native && with_streams)
      require(ack["symbol"] == req.streams.front().symbol);
    parse_reply(native_error("invalid_symbol", std::string{text}, req.id_json));
    parse_reply(binance_error("invalid_json", std::string{text}, req.id_json));
  }
  // Arbitrary bytes in error messages are repaired into valid JSON text.
  parse_reply(native_error(std::string{text}, std::string{text}, "null"));
  return 0;
}
