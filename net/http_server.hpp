#pragma once

// An HTTP/1.1 and WebSocket server on Boost.Beast, run by its own pool of
// I/O threads; upgraded WebSocket connections move to WebSocket threads of
// their own (one context each). Beast stays out of this header. Requests are
// handed to a callback together with a `responder` that may be completed later
// from any thread (an actor answers it), so neither the I/O threads nor the
// actors ever block on each other. Every connection has a header and body limit
// and a read timeout; malformed or oversized requests get a JSON error and
// the connection is closed.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csp::net {

/// Header names and values; names in lower case.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// One request as the server read it.
struct server_request {
  /// "GET", "POST", ...
  std::string method;
  /// The request target as sent: path and query.
  std::string target;
  /// Every header, names lower-cased.
  header_list headers;
  std::string body;
  /// Peer IP address (no port).
  std::string remote_address;

  /// The first header called `lower_name`, or an empty view.
  std::string_view header(std::string_view lower_name) const noexcept;
};

/// One response.
struct server_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// Extra headers (Content-Type and Content-Length are set from above).
  header_list headers;
  /// Close the connection after this response.
  bool close = false;
  /// When set, sent instead of `body` without a copy (a body shared by
  /// many responses, e.g. a cached one); it must not change.
  std::shared_ptr<const std::string> shared_body;
};

/// Builds an error response from a status, a stable code and a message.
using error_formatter = std::function<server_response(
  unsigned status, std::string_view code, std::string_view message)>;

/// The default error body: {"error":{"code":"...","message":"..."}}.
server_response json_error(
  unsigned status, std::string_view code, std::string_view message);

/// Completes one request. Copies share one completion: the first call
/// sends the response, later calls do nothing. Thread-safe. When the last
/// copy is destroyed without a call (say, the actor holding it died), the
/// client gets 503 "unavailable".
class responder {
public:
  /// Shared completion state; defined in http_server.cpp.
  struct slot;

  explicit responder(std::shared_ptr<slot> s) noexcept : slot_(std::move(s)) {}

  /// Sends `res` (first call only).
  void operator()(server_response res) const;

  /// Installs a function that sees (and may add headers to) the response
  /// that is sent, also the 503 of a dropped responder; called once, on
  /// the completing thread. Call it before sharing the responder.
  void decorate(std::function<void(server_response&)> f) const;

private:
  std::shared_ptr<slot> slot_;
};

/// The server side of one WebSocket connection. Thread-safe.
class ws_peer {
public:
  /// The connection state; defined in http_server.cpp.
  struct impl;

  explicit ws_peer(std::shared_ptr<impl> p) noexcept : impl_(std::move(p)) {}

  /// Unique per server.
  std::uint64_t id() const noexcept;

  /// Peer IP address.
  const std::string& remote_address() const noexcept;

  /// Queues text messages, in order, with one hand-over to the
  /// connection's thread; they go out together in one gathered write when
  /// the socket is free. Returns false, and queues nothing, when the
  /// connection is closing. More than `ws_queue_limit` messages waiting
  /// (counting those being written) close the connection as a slow
  /// consumer (1008); a sender that keeps at most that many messages
  /// unconfirmed by `ws_handlers::on_sent` never gets there.
  bool send(std::vector<std::shared_ptr<const std::string>> texts);

  /// One message.
  bool send(std::shared_ptr<const std::string> text);

  /// Same, copying `text` once.
  bool send(std::string text) {
    return send(std::make_shared<const std::string>(std::move(text)));
  }

  /// Messages queued and not yet written (as of the connection's last
  /// change; for tests and diagnostics).
  std::size_t queued() const noexcept;

  /// Sends a close frame with `code` and `reason` after what is being
  /// written now, drops the rest of the queue, and cuts the connection if
  /// the peer does not finish the close within the close timeout.
  void close(std::uint16_t code, std::string reason);

private:
  friend class ws_fanout;

  std::shared_ptr<impl> impl_;
};

/// Messages for many WebSocket connections (of one server or several),
/// handed to the connections' threads with one post per thread instead of
/// one per connection. Each connection gets its messages as from
/// ws_peer::send: in order, after what was sent to it before, with the
/// same queue limit. Not thread-safe: fill it on one thread, then send().
class ws_fanout {
public:
  /// With `chunk` > 0, add() hands everything over each time `chunk`
  /// connections are waiting, so the threads start writing the first of a
  /// large fan-out while the rest is added.
  explicit ws_fanout(std::size_t chunk = 0) : chunk_(chunk) {}

  /// Adds `texts` for `peer`; nothing when the connection is closing.
  void add(const std::shared_ptr<ws_peer>& peer,
    std::vector<std::shared_ptr<const std::string>> texts);

  /// Hands everything added over; the fan-out is empty afterwards.
  void send();

  /// Whether nothing waits to be handed over.
  bool empty() const noexcept { return entries_.empty(); }

private:
  using entry = std::pair<std::shared_ptr<ws_peer::impl>,
    std::vector<std::shared_ptr<const std::string>>>;

  std::size_t chunk_;
  std::vector<entry> entries_;
};

/// What a WebSocket connection reports; both run on an I/O thread and must
/// not block.
struct ws_handlers {
  /// One complete text message.
  std::function<void(std::string_view)> on_message;
  /// `n` more messages were written to the socket: called each time at
  /// least half of `ws_queue_limit` were written since the last call (not
  /// for every write), so a sender can count what may still be queued.
  std::function<void(std::size_t n)> on_sent;
  /// The connection is gone; called once, with a short reason.
  std::function<void(const std::string& reason)> on_close;
};

/// Settings of an http_server.
struct server_options {
  /// Address to bind (IPv4 or IPv6 literal).
  std::string bind = "127.0.0.1";
  /// 0 picks a free port (see http_server::port()).
  std::uint16_t port = 0;
  /// I/O threads of HTTP requests and WebSocket upgrades.
  std::size_t threads = 2;
  /// Threads of the WebSocket connections (0: one per core). Each runs its
  /// own context, and an upgraded connection moves to one of them (round
  /// robin) for good, so a ws_fanout reaches all connections of a thread
  /// with one post.
  std::size_t ws_threads = 0;
  /// Largest request header block and body accepted.
  std::size_t max_header_bytes = 16'384;
  std::size_t max_body_bytes = 1'048'576;
  /// Limit for reading one request once its first byte arrived.
  std::chrono::milliseconds read_timeout{10'000};
  /// A keep-alive connection with no request for this long is closed.
  std::chrono::milliseconds idle_timeout{60'000};
  /// The handler must answer within this time; otherwise 504.
  std::chrono::milliseconds handler_timeout{30'000};
  /// Largest WebSocket message accepted from a client.
  std::size_t ws_max_message = 65'536;
  /// Messages a WebSocket connection may have queued; more close it as a
  /// slow consumer.
  std::size_t ws_queue_limit = 256;
  /// Ping frame interval; a peer silent for two intervals is dropped.
  std::chrono::milliseconds ws_ping_interval{20'000};
  /// How long a close handshake may take before the socket is cut.
  std::chrono::milliseconds ws_close_timeout{2'000};
  /// Most simultaneous connections; further ones are accepted and closed.
  std::size_t max_connections = 20'000;
  /// Error bodies (default: json_error).
  error_formatter make_error;
};

/// The application side of the server.
struct server_handlers {
  /// Every request that is not a WebSocket upgrade. Runs on an I/O thread
  /// and must not block: answer through the responder, now or later.
  std::function<void(server_request, responder)> on_request;
  /// A WebSocket upgrade request. Returning a response refuses it (that
  /// response is sent); returning nullopt accepts it, and `handlers` (to be
  /// filled in) then receive the connection's events. `peer` may be kept
  /// and used from any thread. Null = every upgrade gets 404.
  std::function<std::optional<server_response>(const server_request& req,
    const std::shared_ptr<ws_peer>& peer, ws_handlers& handlers)>
    on_upgrade;
};

/// Counters of a running server.
struct server_stats {
  std::size_t http_connections = 0;
  std::size_t ws_connections = 0;
};

/// The server. start() binds and starts the threads; the destructor (or
/// stop()) closes every connection and joins the threads.
class http_server {
public:
  /// Shared state; defined in http_server.cpp.
  struct impl;

  http_server(server_options opts, server_handlers handlers);
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts serving. Returns an error text (empty on success).
  std::string start();

  /// The bound port (after a successful start).
  std::uint16_t port() const noexcept;

  /// Stops accepting, closes every connection, joins the threads.
  /// Idempotent. Responders completed afterwards do nothing.
  void stop();

  server_stats stats() const noexcept;

private:
  std::shared_ptr<impl> impl_;
};

} // namespace csp::net
