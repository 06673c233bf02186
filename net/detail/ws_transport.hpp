#pragma once

// The TCP layer under the server's WebSocket streams (http_server.cpp only;
// it includes Beast). Beast writes its own frames through it (the
// handshake answer, pings, pongs, close frames) with async_write_some; the
// session writes its data frames around Beast, many messages in one
// gathered write (async_write_frames), framed by encode_text_header.
// The transport serializes the two kinds of writes: one waits until the
// other is complete, so frames never interleave on the wire.
//
// Server frames are not masked and this server negotiates no extension
// (no permessage-deflate), so a text message is a header and its bytes.

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace csp::net::detail {

/// The header of one unfragmented, unmasked text frame of `size` bytes
/// (RFC 6455 5.2): 2, 4 or 10 bytes.
struct ws_frame_header {
  std::array<unsigned char, 10> bytes{};
  std::size_t size = 0;

  boost::asio::const_buffer buffer() const noexcept {
    return {bytes.data(), size};
  }
};

/// Encodes the header of a final text frame carrying `payload` bytes.
inline ws_frame_header encode_text_header(std::uint64_t payload) noexcept {
  ws_frame_header h;
  h.bytes[0] = 0x81; // FIN, opcode 1 (text)
  if (payload < 126) {
    h.bytes[1] = static_cast<unsigned char>(payload);
    h.size = 2;
  } else if (payload <= 0xFFFF) {
    h.bytes[1] = 126;
    h.bytes[2] = static_cast<unsigned char>(payload >> 8);
    h.bytes[3] = static_cast<unsigned char>(payload);
    h.size = 4;
  } else {
    h.bytes[1] = 127;
    for (std::size_t i = 0; i < 8; ++i)
      h.bytes[2 + i] = static_cast<unsigned char>(payload >> (8 * (7 - i)));
    h.size = 10;
  }
  return h;
}

/// A beast::tcp_stream whose writes are serialized between Beast and the
/// session. Used on the connection's strand only.
class ws_transport {
public:
  using next_layer_type = boost::beast::tcp_stream;
  using executor_type = next_layer_type::executor_type;

  explicit ws_transport(next_layer_type s) : next_(std::move(s)) {}

  ws_transport(const ws_transport&) = delete;
  ws_transport& operator=(const ws_transport&) = delete;

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }

  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    next_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  /// Beast's writes: deferred while a gathered write is in flight.
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    if (frames_busy_) {
      // Beast writes one thing at a time: at most one waits.
      beast_waiting_ = make_deferred(
        [this, buffers, h = std::forward<Handler>(handler)]() mutable {
          beast_write_some(buffers, std::move(h));
        });
      return;
    }
    beast_write_some(buffers, std::forward<Handler>(handler));
  }

  /// Writes every byte of `buffers` (kept alive by the caller until
  /// `handler(error_code, bytes)` runs), after Beast's write in progress,
  /// if any. One gathered write at a time.
  template <class Handler>
  void async_write_frames(
    const std::vector<boost::asio::const_buffer>& buffers, Handler handler) {
    if (beast_busy_) {
      frames_waiting_
        = make_deferred([this, &buffers, h = std::move(handler)]() mutable {
            write_frames_now(buffers, std::move(h));
          });
      return;
    }
    write_frames_now(buffers, std::move(handler));
  }

  /// Writes `buffers` at once when nothing else is being written: one
  /// non-blocking sendmsg. Returns true when that wrote all of them or
  /// failed (`ec`); `handler` is then not called. Otherwise returns false
  /// and continues like async_write_frames with what is left (`buffers`
  /// is trimmed to it), calling `handler` when it is written. Saves a
  /// loopback fan-out the completion's trip through the executor for
  /// every message that fits the socket buffer.
  template <class Handler>
  bool write_frames(std::vector<boost::asio::const_buffer>& buffers,
    boost::system::error_code& ec, Handler handler) {
    ec = {};
    if (beast_busy_ || frames_busy_) {
      async_write_frames(buffers, std::move(handler));
      return false;
    }
    auto n = send_now(buffers, ec);
    if (ec)
      return true;
    drop_prefix(buffers, n);
    if (buffers.empty())
      return true;
    write_frames_now(buffers, std::move(handler));
    return false;
  }

  /// Forgets the writes waiting for the other kind to finish (their
  /// handlers, which may own the connection, are destroyed uncalled).
  /// For a connection that is finished or whose context is going away.
  void drop_waiting() noexcept {
    beast_waiting_.reset();
    frames_waiting_.reset();
  }

private:
  struct deferred {
    virtual ~deferred() = default;
    virtual void run() = 0;
  };

  template <class F>
  struct deferred_fn final : deferred {
    explicit deferred_fn(F&& x) : f(std::move(x)) {}
    void run() override { f(); }
    F f;
  };

  template <class F>
  static std::unique_ptr<deferred> make_deferred(F&& f) {
    return std::make_unique<deferred_fn<std::decay_t<F>>>(std::forward<F>(f));
  }

  /// Runs `slot`'s waiting write, if any.
  static void resume(std::unique_ptr<deferred>& slot) {
    if (auto d = std::move(slot))
      d->run();
  }

  template <class ConstBuffers, class Handler>
  void beast_write_some(const ConstBuffers& buffers, Handler&& handler) {
    beast_busy_ = true;
    auto ex = boost::asio::get_associated_executor(handler, get_executor());
    next_.async_write_some(buffers,
      boost::asio::bind_executor(ex,
        [this, h = std::forward<Handler>(handler)](
          boost::system::error_code ec, std::size_t n) mutable {
          beast_busy_ = false;
          h(ec, n); // Beast may write its next piece from here
          if (!beast_busy_)
            resume(frames_waiting_);
        }));
  }

  template <class Handler>
  void write_frames_now(
    const std::vector<boost::asio::const_buffer>& buffers, Handler handler) {
    frames_busy_ = true;
    // On the socket itself: the tcp_stream's timeouts are off for
    // WebSocket connections, and its per-operation bookkeeping showed in
    // the fan-out profile.
    boost::asio::async_write(next_.socket(), buffers,
      [this, h = std::move(handler)](
        boost::system::error_code ec, std::size_t n) mutable {
        frames_busy_ = false;
        resume(beast_waiting_); // control frames first
        h(ec, n);
      });
  }

  /// One sendmsg of as much of `buffers` as the socket takes without
  /// waiting; returns the bytes written (0 when it would block).
  std::size_t send_now(const std::vector<boost::asio::const_buffer>& buffers,
    boost::system::error_code& ec) {
    std::array<iovec, max_iov> iov{};
    std::size_t count = 0;
    for (const auto& b : buffers) {
      if (count == iov.size())
        break;
      iov[count].iov_base = const_cast<void*>(b.data());
      iov[count].iov_len = b.size();
      ++count;
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    for (;;) {
      auto n = ::sendmsg(
        next_.socket().native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0)
        return static_cast<std::size_t>(n);
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        ec.assign(errno, boost::system::system_category());
      return 0;
    }
  }

  /// Removes the first `n` bytes from `buffers`.
  static void drop_prefix(
    std::vector<boost::asio::const_buffer>& buffers, std::size_t n) {
    std::size_t whole = 0;
    while (whole < buffers.size() && n >= buffers[whole].size()) {
      n -= buffers[whole].size();
      ++whole;
    }
    buffers.erase(
      buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(whole));
    if (!buffers.empty())
      buffers.front() += n;
  }

  /// Buffers given to one sendmsg (at most IOV_MAX).
  static constexpr std::size_t max_iov = 512;

  next_layer_type next_;
  bool beast_busy_ = false;
  bool frames_busy_ = false;
  std::unique_ptr<deferred> beast_waiting_;
  std::unique_ptr<deferred> frames_waiting_;
};

/// Closes the TCP connection for Beast (found by argument-dependent
/// lookup), as for a plain socket.
inline void teardown(boost::beast::role_type role, ws_transport& t,
  boost::system::error_code& ec) {
  boost::beast::websocket::teardown(role, t.next_layer().socket(), ec);
}

template <class Handler>
void async_teardown(
  boost::beast::role_type role, ws_transport& t, Handler&& handler) {
  boost::beast::websocket::async_teardown(
    role, t.next_layer().socket(), std::forward<Handler>(handler));
}

} // namespace csp::net::detail
