#pragma once

// JSON string quoting shared by the Redis cache layout and the server's
// default error bodies: quotes, backslashes and control characters are
// escaped; other bytes pass through unchanged. Header-only.

#include <string>
#include <string_view>

namespace csp::messages {

/// Appends `s` to `out` as a quoted JSON string.
inline void append_json_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex[(static_cast<unsigned char>(c) >> 4) & 0xF];
          out += hex[static_cast<unsigned char>(c) & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

} // namespace csp::messages
