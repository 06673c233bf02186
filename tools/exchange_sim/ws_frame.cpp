#include "tools/exchange_sim/ws_frame.hpp"

#include <openssl/evp.h>

namespace csp::tools::ws {

void append_frame(std::string& out, opcode op, std::string_view payload) {
  out += static_cast<char>(0x80 | static_cast<std::uint8_t>(op));
  auto n = payload.size();
  if (n < 126) {
    out += static_cast<char>(n);
  } else if (n <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>((n >> 8) & 0xFF);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF);
  }
  out.append(payload.data(), payload.size());
}

std::string accept_key(std::string_view client_key) {
  std::string input{client_key};
  input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr);
  unsigned char encoded[64];
  auto n = EVP_EncodeBlock(encoded, digest, static_cast<int>(len));
  return std::string(
    reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

decode_status decode_frame(std::string_view data, std::size_t max_payload,
  frame& out, std::size_t& consumed) {
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(data[i]); };
  if (data.size() < 2)
    return decode_status::need_more;
  auto b0 = byte(0);
  auto b1 = byte(1);
  if ((b0 & 0x70) != 0 || (b1 & 0x80) == 0)
    return decode_status::error; // reserved bits or unmasked client frame
  auto op = static_cast<opcode>(b0 & 0x0F);
  bool fin = (b0 & 0x80) != 0;
  bool control = (b0 & 0x08) != 0;
  std::uint64_t len = b1 & 0x7F;
  std::size_t pos = 2;
  if (len == 126) {
    if (data.size() < 4)
      return decode_status::need_more;
    len = (std::uint64_t{byte(2)} << 8) | byte(3);
    pos = 4;
  } else if (len == 127) {
    if (data.size() < 10)
      return decode_status::need_more;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i)
      len = (len << 8) | byte(i);
    pos = 10;
  }
  if (control && (!fin || len > 125))
    return decode_status::error;
  if (len > max_payload)
    return decode_status::error;
  if (data.size() < pos + 4 + len)
    return decode_status::need_more;
  std::uint8_t mask[4]
    = {byte(pos), byte(pos + 1), byte(pos + 2), byte(pos + 3)};
  pos += 4;
  out.op = op;
  out.fin = fin;
  out.payload.assign(data.data() + pos, static_cast<std::size_t>(len));
  for (std::size_t i = 0; i < out.payload.size(); ++i)
    out.payload[i] = static_cast<char>(
      static_cast<std::uint8_t>(out.payload[i]) ^ mask[i % 4]);
  consumed = pos + static_cast<std::size_t>(len);
  return decode_status::ok;
}

} // namespace csp::tools::ws
