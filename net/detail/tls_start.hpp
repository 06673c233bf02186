#pragma once

// Private to net/: the step between TCP connect and the first request that
// the HTTP and WebSocket clients share.

#include <string>
#include <type_traits>
#include <utility>

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/detail/asio.hpp"

namespace csp::net::detail {

/// After the TCP connect of `stream`: a plain stream calls `done({})` at
/// once; a TLS stream gets SNI for `host`, host-name verification when
/// `verify_peer`, and the client handshake, then `done(ec)` (a refused SNI
/// name is invalid_argument). The caller reports a failure as "tls_failed".
template <class Stream, class Done>
void start_tls(
  Stream& stream, const std::string& host, bool verify_peer, Done&& done) {
  using error_code = boost::system::error_code;
  if constexpr (std::is_same_v<Stream, boost::beast::tcp_stream>) {
    done(error_code{});
  } else {
    if (!set_sni(stream.native_handle(), host)) {
      done(error_code{boost::asio::error::invalid_argument});
      return;
    }
    if (verify_peer)
      stream.set_verify_callback(
        boost::asio::ssl::host_name_verification(host));
    stream.async_handshake(
      boost::asio::ssl::stream_base::client, std::forward<Done>(done));
  }
}

} // namespace csp::net::detail
