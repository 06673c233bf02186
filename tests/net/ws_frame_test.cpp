#define CAF_SUITE net.ws_frame
#include "caf/test/unit_test.hpp"

#include <string>
#include <vector>

#include "net/ws_frame.hpp"

using namespace csp::net;

namespace {

/// Bytes from a list of values, as the RFC prints its examples.
std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (auto v : values)
    out.push_back(static_cast<char>(v));
  return out;
}

/// Decodes every frame of `wire`; returns the events (payloads copied).
struct decoded {
  std::vector<ws_event_kind> kinds;
  std::vector<std::string> payloads;
  std::string error;
  std::size_t consumed = 0;
};

decoded decode_all(ws_frame_decoder& d, const std::string& wire) {
  decoded out;
  for (;;) {
    ws_event ev;
    auto used
      = d.next(wire.data() + out.consumed, wire.size() - out.consumed, ev);
    if (ev.kind == ws_event_kind::protocol_error) {
      out.error = ev.error;
      return out;
    }
    if (ev.kind == ws_event_kind::need_more)
      return out;
    out.consumed += used;
    out.kinds.push_back(ev.kind);
    out.payloads.emplace_back(ev.payload);
  }
}

} // namespace

CAF_TEST(the accept value of the rfc example key) {
  // RFC 6455, section 1.3.
  CAF_CHECK_EQUAL(ws_accept_value("dGhlIHNhbXBsZSBub25jZQ=="),
    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

CAF_TEST(a handshake key is 16 bytes in base64) {
  auto key = ws_handshake_key(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  CAF_CHECK_EQUAL(key.size(), 24u);
  CAF_CHECK_EQUAL(key.substr(22), "==");
  CAF_CHECK_NOT_EQUAL(key, ws_handshake_key(1, 2));
}

CAF_TEST(client frames are masked as in the rfc examples) {
  // RFC 6455, section 5.7: masked "Hello" with key 0x37fa213d.
  std::string out;
  ws_append_client_frame(out, ws_opcode::text, "Hello", 0x37fa213d);
  CAF_CHECK_EQUAL(out,
    bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  out.clear();
  ws_append_client_frame(out, ws_opcode::pong, "Hello", 0x37fa213d);
  CAF_CHECK_EQUAL(out,
    bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

CAF_TEST(server frames are unmasked) {
  // RFC 6455, section 5.7: unmasked "Hello" and 256 bytes of binary.
  std::string out;
  ws_append_server_frame(out, ws_opcode::text, "Hello");
  CAF_CHECK_EQUAL(out, bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  ws_append_server_frame(out, ws_opcode::binary, std::string(256, 'y'));
  CAF_CHECK_EQUAL(out.substr(0, 4), bytes({0x82, 0x7E, 0x01, 0x00}));
  CAF_CHECK_EQUAL(out.size(), 4u + 256u);
}

CAF_TEST(headers are read with their mask) {
  auto wire
    = bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  ws_frame_header h;
  for (std::size_t cut = 0; cut < 6; ++cut)
    CAF_CHECK(!ws_read_header(wire.data(), cut, h));
  CAF_REQUIRE(ws_read_header(wire.data(), 6, h));
  CAF_CHECK(h.fin);
  CAF_CHECK(!h.reserved);
  CAF_CHECK(!h.control);
  CAF_CHECK(h.op == ws_opcode::text);
  CAF_CHECK(h.masked);
  CAF_CHECK_EQUAL(h.length, 5u);
  CAF_CHECK_EQUAL(h.size, 6u);
  CAF_CHECK_EQUAL(h.mask[0], 0x37);
  CAF_CHECK_EQUAL(h.mask[3], 0x3d);
  auto ping = bytes({0x89, 0x7F, 0, 0, 0, 0, 0, 0, 0x01, 0x02});
  CAF_REQUIRE(ws_read_header(ping.data(), ping.size(), h));
  CAF_CHECK(h.control);
  CAF_CHECK(h.op == ws_opcode::ping);
  CAF_CHECK_EQUAL(h.length, 0x102u);
  CAF_CHECK_EQUAL(h.size, 10u);
}

CAF_TEST(client frame lengths use the 16 and 64 bit forms) {
  std::string out;
  ws_append_client_frame(out, ws_opcode::binary, std::string(256, 'x'), 0);
  CAF_REQUIRE_EQUAL(out.size(), 2u + 2u + 4u + 256u);
  CAF_CHECK_EQUAL(out.substr(0, 4), bytes({0x82, 0xFE, 0x01, 0x00}));
  out.clear();
  ws_append_client_frame(out, ws_opcode::binary, std::string(65536, 'x'), 0);
  CAF_REQUIRE_EQUAL(out.size(), 2u + 8u + 4u + 65536u);
  CAF_CHECK_EQUAL(
    out.substr(0, 10), bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}));
  // A zero mask leaves the payload as it was.
  CAF_CHECK_EQUAL(out.substr(14), std::string(65536, 'x'));
}

CAF_TEST(the decoder reads the rfc examples) {
  ws_frame_decoder d{1 << 20};
  // Unmasked "Hello", an unmasked ping "Hello", then "Hel" + "lo" in two
  // fragments (RFC 6455, section 5.7), in one buffer.
  auto wire = bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})
    + bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})
    + bytes({0x01, 0x03, 0x48, 0x65, 0x6c}) + bytes({0x80, 0x02, 0x6c, 0x6f});
  auto out = decode_all(d, wire);
  CAF_CHECK_EQUAL(out.error, "");
  CAF_CHECK_EQUAL(out.consumed, wire.size());
  CAF_REQUIRE_EQUAL(out.kinds.size(), 4u);
  CAF_CHECK(out.kinds[0] == ws_event_kind::message);
  CAF_CHECK_EQUAL(out.payloads[0], "Hello");
  CAF_CHECK(out.kinds[1] == ws_event_kind::ping);
  CAF_CHECK_EQUAL(out.payloads[1], "Hello");
  CAF_CHECK(out.kinds[2] == ws_event_kind::fragment);
  CAF_CHECK(out.kinds[3] == ws_event_kind::message);
  CAF_CHECK_EQUAL(out.payloads[3], "Hello");
}

CAF_TEST(a frame split anywhere waits for the rest) {
  std::string big(300, 'a');
  auto wire = bytes({0x81, 0x7E, 0x01, 0x2C}) + big;
  for (std::size_t cut = 0; cut < wire.size(); ++cut) {
    ws_frame_decoder d{1 << 20};
    ws_event ev;
    CAF_CHECK_EQUAL(d.next(wire.data(), cut, ev), 0u);
    CAF_CHECK(ev.kind == ws_event_kind::need_more);
    if (cut >= 4)
      CAF_CHECK_EQUAL(ev.need, wire.size());
  }
  ws_frame_decoder d{1 << 20};
  ws_event ev;
  CAF_CHECK_EQUAL(d.next(wire.data(), wire.size(), ev), wire.size());
  CAF_CHECK_EQUAL(std::string{ev.payload}, big);
}

CAF_TEST(close frames carry their status) {
  ws_frame_decoder d{1 << 20};
  auto out = decode_all(d, bytes({0x88, 0x04, 0x03, 0xE8, 'o', 'k'}));
  CAF_REQUIRE_EQUAL(out.kinds.size(), 1u);
  CAF_CHECK(out.kinds[0] == ws_event_kind::close);
  CAF_CHECK_EQUAL(out.payloads[0], "ok");
  ws_event ev;
  auto empty = bytes({0x88, 0x00});
  ws_frame_decoder d2{1 << 20};
  d2.next(empty.data(), empty.size(), ev);
  CAF_CHECK(ev.kind == ws_event_kind::close);
  CAF_CHECK_EQUAL(ev.close_code, 1005);
  auto code = bytes({0x88, 0x02, 0x03, 0xE9});
  d2.next(code.data(), code.size(), ev);
  CAF_CHECK_EQUAL(ev.close_code, 1001);
}

CAF_TEST(protocol violations are errors) {
  auto error_of = [](const std::string& wire, std::size_t max = 1 << 20) {
    ws_frame_decoder d{max};
    return decode_all(d, wire).error;
  };
  CAF_CHECK_EQUAL(error_of(bytes({0xC1, 0x01, 'a'})), "reserved bits set");
  CAF_CHECK_EQUAL(error_of(bytes({0x81, 0x81, 0, 0, 0, 0, 'a'})),
    "masked frame from the server");
  CAF_CHECK_EQUAL(error_of(bytes({0x83, 0x00})), "unknown opcode");
  CAF_CHECK_EQUAL(error_of(bytes({0x8B, 0x00})), "unknown opcode");
  CAF_CHECK_EQUAL(error_of(bytes({0x09, 0x00})), "fragmented control frame");
  CAF_CHECK_EQUAL(error_of(bytes({0x89, 0x7E, 0x00, 0x7E})),
    "control frame longer than 125 bytes");
  CAF_CHECK_EQUAL(
    error_of(bytes({0x80, 0x01, 'a'})), "continuation without a message");
  CAF_CHECK_EQUAL(error_of(bytes({0x01, 0x01, 'a', 0x81, 0x01, 'b'})),
    "new message inside a fragmented one");
  CAF_CHECK_EQUAL(
    error_of(bytes({0x88, 0x01, 0x03})), "close frame with a one-byte payload");
  CAF_CHECK_EQUAL(
    error_of(bytes({0x81, 0x02, 0xC3, 0x28})), "text message is not UTF-8");
  // Binary messages are not checked.
  CAF_CHECK_EQUAL(error_of(bytes({0x82, 0x02, 0xC3, 0x28})), "");
  // The size limit holds for single frames and for assembled fragments,
  // before the payload arrives.
  CAF_CHECK_EQUAL(error_of(bytes({0x81, 0x05}), 4), "message too big");
  CAF_CHECK_EQUAL(error_of(bytes({0x01, 0x03, 'a', 'b', 'c', 0x80, 0x02}), 4),
    "message too big");
  CAF_CHECK_EQUAL(error_of(bytes({0x81, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0})),
    "message too big");
}

CAF_TEST(utf8 validation) {
  CAF_CHECK(ws_valid_utf8(""));
  CAF_CHECK(ws_valid_utf8("plain ascii text that is longer than eight"));
  CAF_CHECK(ws_valid_utf8("\xC3\xA9t\xC3\xA9"));   // été
  CAF_CHECK(ws_valid_utf8("\xE2\x82\xAC 100"));    // €
  CAF_CHECK(ws_valid_utf8("\xF0\x9F\x93\x88 up")); // 📈
  CAF_CHECK(ws_valid_utf8("\xF4\x8F\xBF\xBF"));    // U+10FFFF
  CAF_CHECK(!ws_valid_utf8("\xC0\xAF"));           // overlong '/'
  CAF_CHECK(!ws_valid_utf8("\xE0\x80\xAF"));       // overlong
  CAF_CHECK(!ws_valid_utf8("\xED\xA0\x80"));       // surrogate
  CAF_CHECK(!ws_valid_utf8("\xF4\x90\x80\x80"));   // above U+10FFFF
  CAF_CHECK(!ws_valid_utf8("\xF5\x80\x80\x80"));
  CAF_CHECK(!ws_valid_utf8("abcdefgh\xE2\x82")); // truncated
  CAF_CHECK(!ws_valid_utf8("\x80"));             // stray continuation
}
