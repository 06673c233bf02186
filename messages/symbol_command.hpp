#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace csp::messages {

/// What a symbol_command asks for.
enum class symbol_action : std::uint8_t { add = 0, remove = 1 };

/// Label of a symbol_action: "add" or "remove".
constexpr std::string_view to_string(symbol_action a) noexcept {
  switch (a) {
    case symbol_action::add:
      return "add";
    case symbol_action::remove:
      return "remove";
  }
  return "?";
}

/// Adds or removes one symbol of one exchange at run time (sent to the
/// collector supervisor and to the processing supervisor).
struct symbol_command {
  symbol_action action = symbol_action::add;
  /// Exchange name, e.g. "binance".
  std::string exchange;
  /// Upper-case symbol, e.g. "BTCUSDT".
  std::string symbol;

  friend bool operator==(const symbol_command& x, const symbol_command& y) {
    return x.action == y.action && x.exchange == y.exchange
      && x.symbol == y.symbol;
  }
  friend bool operator!=(const symbol_command& x, const symbol_command& y) {
    return !(x == y);
  }
};

} // namespace csp::messages
