#include "tools/exchange_sim/ws_frame.hpp"

namespace csp::tools::ws {

decode_status decode_frame(std::string_view data, std::size_t max_payload,
  frame& out, std::size_t& consumed) {
  net::ws_frame_header h;
  if (!net::ws_read_header(data.data(), data.size(), h))
    return decode_status::need_more;
  if (h.reserved || !h.masked)
    return decode_status::error; // reserved bits or unmasked client frame
  if (h.control && (!h.fin || h.length > 125))
    return decode_status::error;
  if (h.length > max_payload)
    return decode_status::error;
  auto len = static_cast<std::size_t>(h.length);
  if (data.size() < h.size + len)
    return decode_status::need_more;
  out.op = h.op;
  out.fin = h.fin;
  out.payload.assign(data.data() + h.size, len);
  for (std::size_t i = 0; i < len; ++i)
    out.payload[i] = static_cast<char>(
      static_cast<std::uint8_t>(out.payload[i]) ^ h.mask[i % 4]);
  consumed = h.size + len;
  return decode_status::ok;
}

} // namespace csp::tools::ws
