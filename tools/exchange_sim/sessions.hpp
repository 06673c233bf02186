#pragma once

#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "tools/exchange_sim/http_routes.hpp"
#include "tools/exchange_sim/sim_core.hpp"

namespace csp::tools {

/// A plain TCP connection.
using plain_stream = boost::asio::ip::tcp::socket;

/// A TLS connection (handshake already done when a session starts).
using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

/// Starts serving HTTP requests (REST, chart, control, WebSocket upgrades)
/// on `stream`. Instantiated for plain_stream and tls_stream.
template <class Stream>
void start_http_session(sim_core& core, Stream stream);

/// Takes over `stream` after an upgrade request `req` (already validated by
/// the HTTP session), answers the handshake and streams trades. `leftover`
/// holds bytes read after the request. Instantiated for plain_stream and
/// tls_stream.
template <class Stream>
void start_ws_session(
  sim_core& core, Stream stream, const http_request& req, std::string leftover);

/// Closes the TCP socket under `stream` without any goodbye.
template <class Stream>
void close_lowest_layer(Stream& stream) {
  boost::system::error_code ec;
  stream.lowest_layer().shutdown(
    boost::asio::ip::tcp::socket::shutdown_both, ec);
  stream.lowest_layer().close(ec);
}

} // namespace csp::tools
