#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <memory>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "tools/exchange_sim/sessions.hpp"
#include "tools/exchange_sim/wire_format.hpp"
#include "tools/exchange_sim/ws_frame.hpp"
#include "tools/exchange_sim/ws_requests.hpp"

namespace csp::tools {

using boost::system::error_code;
using steady = std::chrono::steady_clock;

namespace {

/// Bytes of frames gathered into one socket write.
constexpr std::size_t max_batch = std::size_t{256} * 1024;

/// Largest client message accepted.
constexpr std::size_t max_message = std::size_t{64} * 1024;

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto pos = s.find(sep);
    if (pos > 0)
      out.emplace_back(s.substr(0, pos));
    if (pos == std::string_view::npos)
      break;
    s = s.substr(pos + 1);
  }
  return out;
}

/// One Binance market-data WebSocket connection. Frames are encoded here
/// (RFC 6455, server side: unmasked) so that thousands of trade frames leave
/// in one socket write; the socket sees at most one write at a time.
template <class Stream>
class ws_session : public ws_session_base,
                   public std::enable_shared_from_this<ws_session<Stream>> {
public:
  ws_session(sim_core& core, Stream stream, std::string leftover)
      : core_(core), stream_(std::move(stream)), wake_(stream_.get_executor()),
        ping_timer_(stream_.get_executor()), in_(std::move(leftover)) {
    // nop
  }

  void start(const http_request& req) {
    auto target = std::string{req.target()};
    stats_ = core_.add_connection(target);
    core_.sessions.push_back(this->shared_from_this());
    pending_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nServer: csp-exchange-sim\r\n"
               "Sec-WebSocket-Accept: ";
    auto key = req[boost::beast::http::field::sec_websocket_key];
    pending_ += net::ws_accept_value(std::string_view{key.data(), key.size()});
    pending_ += "\r\n\r\n";
    if (target.rfind("/stream", 0) == 0) {
      combined_ = true;
      auto q = target.find("streams=");
      if (q != std::string::npos)
        for (auto& name : split(std::string_view{target}.substr(q + 8), '/'))
          subscribe(name.substr(0, name.find('&')));
    } else if (target.size() > 4) {
      for (auto& name : split(std::string_view{target}.substr(4), '/'))
        subscribe(name);
    }
    last_pong_ = steady::now();
    arm_ping();
    process_input();
    read();
    pump();
  }

  void on_trades() override { pump(); }

  void drop() override { close(); }

  void stall(std::int64_t ms) override {
    stall_until_
      = std::max(stall_until_, steady::now() + std::chrono::milliseconds(ms));
  }

private:
  struct subscription {
    std::string name;
    int symbol;
    std::int64_t next_id;
  };

  void subscribe(const std::string& name) {
    for (auto& s : subs_)
      if (s.name == name)
        return;
    int symbol = -1;
    auto at = name.find('@');
    if (at != std::string::npos && name.substr(at + 1) == "trade") {
      std::string upper = name.substr(0, at);
      for (auto& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      symbol = core_.crypto.find(upper);
    }
    std::int64_t next = symbol >= 0
      ? core_.crypto.next_id(static_cast<std::size_t>(symbol))
      : 0;
    subs_.push_back(subscription{name, symbol, next});
  }

  void read() {
    stream_.async_read_some(boost::asio::buffer(rbuf_),
      [self = this->shared_from_this()](error_code ec, std::size_t n) {
        if (ec) {
          self->close();
          return;
        }
        self->in_.append(self->rbuf_.data(), n);
        self->process_input();
        if (!self->closed_ && !self->closing_)
          self->read();
      });
  }

  void process_input() {
    ws::frame f;
    while (!closing_ && !closed_) {
      std::size_t used = 0;
      auto st = ws::decode_frame(in_, max_message, f, used);
      if (st == ws::decode_status::need_more)
        break;
      if (st == ws::decode_status::error) {
        start_closing("\x03\xEA"); // 1002 protocol error
        break;
      }
      in_.erase(0, used);
      switch (f.op) {
        case ws::opcode::text:
          if (f.fin)
            handle_text(f.payload);
          else
            message_ = std::move(f.payload);
          break;
        case ws::opcode::continuation:
          message_ += f.payload;
          if (message_.size() > max_message)
            start_closing("\x03\xF1"); // 1009 too big
          else if (f.fin)
            handle_text(message_);
          break;
        case ws::opcode::ping:
          net::ws_append_server_frame(pending_, ws::opcode::pong, f.payload);
          break;
        case ws::opcode::pong:
          last_pong_ = steady::now();
          ++stats_->pongs_received;
          break;
        case ws::opcode::close:
          start_closing(f.payload.substr(0, 2));
          break;
        default:
          break;
      }
    }
    pump();
  }

  void start_closing(std::string_view code) {
    net::ws_append_server_frame(pending_, ws::opcode::close, code);
    closing_ = true;
  }

  void handle_text(const std::string& text) {
    auto r = parse_ws_request(text);
    std::string reply;
    using kind = ws_request::kind;
    switch (r.method) {
      case kind::subscribe:
        for (auto& name : r.params)
          subscribe(name);
        reply = ws_result("null", r.id);
        break;
      case kind::unsubscribe:
        for (auto& name : r.params)
          subs_.erase(std::remove_if(subs_.begin(), subs_.end(),
                        [&](const subscription& s) { return s.name == name; }),
            subs_.end());
        reply = ws_result("null", r.id);
        break;
      case kind::list_subscriptions: {
        std::vector<std::string> names;
        for (auto& s : subs_)
          names.push_back(s.name);
        reply = ws_result(json_string_array(names), r.id);
        break;
      }
      case kind::get_property:
        reply = ws_result(combined_ ? "true" : "false", r.id);
        break;
      case kind::set_property:
        combined_ = r.value;
        reply = ws_result("null", r.id);
        break;
      case kind::invalid:
        reply = std::move(r.error_reply);
        break;
    }
    net::ws_append_server_frame(pending_, ws::opcode::text, reply);
    ++stats_->frames_sent;
  }

  void arm_ping() {
    ping_timer_.expires_after(
      std::chrono::milliseconds(core_.config.ping_interval_ms));
    ping_timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->closed_)
        return;
      auto now = steady::now();
      if (now - self->last_pong_
        > std::chrono::milliseconds(self->core_.config.pong_timeout_ms)) {
        self->close();
        return;
      }
      if (now >= self->stall_until_) {
        net::ws_append_server_frame(self->pending_, ws::opcode::ping, "");
        ++self->stats_->pings_sent;
        self->pump();
      }
      self->arm_ping();
    });
  }

  void wake_at(steady::time_point when) {
    if (wake_pending_)
      return;
    wake_pending_ = true;
    wake_.expires_at(when);
    wake_.async_wait([self = this->shared_from_this()](error_code) {
      self->wake_pending_ = false;
      self->pump();
    });
  }

  void pump() {
    if (writing_ || closed_)
      return;
    auto now = steady::now();
    if (now < stall_until_) {
      wake_at(stall_until_);
      return;
    }
    out_.swap(pending_);
    pending_.clear();
    if (!closing_)
      fill();
    if (out_.empty())
      return;
    writing_ = true;
    boost::asio::async_write(stream_, boost::asio::buffer(out_),
      [self = this->shared_from_this()](error_code ec, std::size_t n) {
        self->writing_ = false;
        if (ec) {
          self->close();
          return;
        }
        self->stats_->bytes_sent += static_cast<std::int64_t>(n);
        self->out_.clear();
        if (self->closing_ && self->pending_.empty()) {
          self->close();
          return;
        }
        self->pump();
      });
  }

  void write_trade(const subscription& s, const sim_trade& t) {
    scratch_.clear();
    auto& symbol = core_.crypto.spec(static_cast<std::size_t>(s.symbol)).symbol;
    if (combined_)
      append_combined_trade(scratch_, s.name, symbol, t);
    else
      append_trade_event(scratch_, symbol, t);
    net::ws_append_server_frame(out_, ws::opcode::text, scratch_);
    ++stats_->trades_sent;
    ++stats_->frames_sent;
  }

  /// Writes the trade at `idx` with stream faults applied; returns how many
  /// trades were consumed (2 when swapped with the next one).
  std::size_t emit(const subscription& s, const std::deque<sim_trade>& ts,
    std::size_t idx, std::int64_t cutoff) {
    auto& fi = core_.faults;
    auto& fs = fi.settings();
    if (fi.chance(fs.skip_prob)) {
      ++fi.counters.skips;
      return 1;
    }
    if (fi.chance(fs.malformed_prob)) {
      write_trade(s, ts[idx]);
      // Keep the frame but cut its JSON in half: a truncated message.
      --stats_->trades_sent;
      auto len = scratch_.size();
      std::size_t header = len < 126 ? 2 : len <= 0xFFFF ? 4 : 10;
      out_.resize(out_.size() - len - header);
      net::ws_append_server_frame(
        out_, ws::opcode::text, std::string_view{scratch_}.substr(0, len / 2));
      ++fi.counters.malformed;
    }
    if (idx + 1 < ts.size() && ts[idx + 1].event_ms <= cutoff
      && fi.chance(fs.reorder_prob)) {
      write_trade(s, ts[idx + 1]);
      write_trade(s, ts[idx]);
      ++fi.counters.reorders;
      return 2;
    }
    write_trade(s, ts[idx]);
    if (fi.chance(fs.duplicate_prob)) {
      write_trade(s, ts[idx]);
      ++fi.counters.duplicates;
    }
    return 1;
  }

  void fill() {
    auto latency = core_.faults.settings().latency_ms;
    auto cutoff = latency > 0 ? wall_ms() - latency
                              : std::numeric_limits<std::int64_t>::max();
    bool held = false;
    bool progress = true;
    while (progress && out_.size() < max_batch) {
      progress = false;
      for (auto& s : subs_) {
        if (s.symbol < 0)
          continue;
        auto& ts = core_.crypto.trades(static_cast<std::size_t>(s.symbol));
        if (ts.empty())
          continue;
        auto first = ts.front().id;
        // A client slower than the retained history skips what was lost.
        s.next_id = std::max(s.next_id, first);
        auto idx = static_cast<std::size_t>(s.next_id - first);
        for (int k = 0; k < 512 && idx < ts.size() && out_.size() < max_batch;
             ++k) {
          if (ts[idx].event_ms > cutoff) {
            held = true;
            break;
          }
          idx += emit(s, ts, idx, cutoff);
          progress = true;
        }
        s.next_id = first + static_cast<std::int64_t>(idx);
      }
    }
    if (held && !wake_pending_) {
      ++core_.faults.counters.delayed;
      wake_at(steady::now() + std::chrono::milliseconds(latency));
    }
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    stats_->open = false;
    wake_.cancel();
    ping_timer_.cancel();
    close_lowest_layer(stream_);
  }

  sim_core& core_;
  Stream stream_;
  boost::asio::steady_timer wake_;
  boost::asio::steady_timer ping_timer_;
  std::shared_ptr<connection_stats> stats_;
  std::vector<subscription> subs_;
  bool combined_ = false;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool wake_pending_ = false;
  steady::time_point stall_until_{};
  steady::time_point last_pong_{};
  std::array<char, 8192> rbuf_;
  std::string in_;
  std::string message_;
  std::string out_;
  std::string pending_;
  std::string scratch_;
};

} // namespace

template <class Stream>
void start_ws_session(sim_core& core, Stream stream, const http_request& req,
  std::string leftover) {
  auto s = std::make_shared<ws_session<Stream>>(
    core, std::move(stream), std::move(leftover));
  s->start(req);
}

template void start_ws_session<plain_stream>(
  sim_core&, plain_stream, const http_request&, std::string);
template void start_ws_session<tls_stream>(
  sim_core&, tls_stream, const http_request&, std::string);

} // namespace csp::tools
