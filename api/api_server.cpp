#include "api/api_server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "api/api_messages.hpp"
#include "api/api_worker.hpp"
#include "api/chart_cache.hpp"
#include "api/cors.hpp"
#include "api/jwt.hpp"
#include "api/query.hpp"
#include "api/rate_limiter.hpp"
#include "api/rest_format.hpp"
#include "api/routes.hpp"
#include "api/ws_broadcaster.hpp"
#include "api/ws_protocol.hpp"
#include "messages/calendar.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"
#include "monitoring/metrics_batch.hpp"
#include "net/http_server.hpp"
#include "web/web_assets.hpp"

namespace csp::api {

namespace {

using net::responder;
using net::server_request;
using net::server_response;

server_response json_response(std::string body, unsigned status = 200) {
  server_response res;
  res.status = status;
  res.body = std::move(body);
  return res;
}

server_response error_response(
  unsigned status, std::string_view code, std::string_view message) {
  return json_response(error_json(code, message), status);
}

/// The http_* series, fed from every I/O thread.
class http_metrics {
public:
  void begin(std::string_view endpoint) {
    std::lock_guard<std::mutex> guard{mtx_};
    batch_.add(
      batch_.gauge_delta("http_requests_in_progress", {{"endpoint", endpoint}}),
      1.0);
  }

  void end(std::string_view method, std::string_view endpoint, unsigned status,
    double seconds) {
    auto code = std::to_string(status);
    std::lock_guard<std::mutex> guard{mtx_};
    batch_.add(
      batch_.gauge_delta("http_requests_in_progress", {{"endpoint", endpoint}}),
      -1.0);
    batch_.add(batch_.counter("http_requests_total",
      {{"method", method}, {"endpoint", endpoint}, {"status", code}}));
    batch_.observe(batch_.histogram("http_request_duration_seconds",
                     {{"method", method}, {"endpoint", endpoint}}),
      seconds);
  }

  void limited(std::string_view endpoint) {
    std::lock_guard<std::mutex> guard{mtx_};
    batch_.add(
      batch_.counter("rate_limit_exceeded_total", {{"endpoint", endpoint}}));
  }

  std::optional<messages::metric_update> take() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (batch_.empty())
      return std::nullopt;
    return batch_.take();
  }

private:
  std::mutex mtx_;
  monitoring::metric_batch batch_;
};

/// What the I/O threads share with the API actor.
struct api_context {
  api_options opts;
  std::unique_ptr<rate_limiter> limiter;
  cors_config cors;
  http_metrics metrics;
  std::atomic<std::size_t> next_worker{0};
  /// Rendered chart responses, shared with the workers that fill it.
  std::shared_ptr<chart_cache> charts;

  std::mutex mtx;
  caf::actor self;
  std::vector<caf::actor> workers;
  caf::actor broadcaster;

  caf::actor api_actor() {
    std::lock_guard<std::mutex> guard{mtx};
    return self;
  }

  caf::actor worker() {
    std::lock_guard<std::mutex> guard{mtx};
    if (workers.empty())
      return {};
    return workers[next_worker.fetch_add(1) % workers.size()];
  }

  caf::actor ws() {
    std::lock_guard<std::mutex> guard{mtx};
    return broadcaster;
  }
};

/// The caller's identity after the token check.
struct caller {
  std::optional<jwt_claims> claims;
  /// Set when a token was presented but refused.
  std::optional<server_response> refusal;
};

caller authenticate(
  api_context& ctx, const server_request& req, const parsed_target* target) {
  caller out;
  std::string_view token;
  if (auto h = req.header("authorization"); !h.empty()) {
    auto t = bearer_token(h);
    if (!t) {
      out.refusal = error_response(
        401, "missing_token", "Authorization must be 'Bearer <token>'");
      return out;
    }
    token = *t;
  } else if (target != nullptr) {
    if (const auto* q = target->param("token"))
      token = *q;
  }
  if (token.empty())
    return out;
  if (ctx.opts.api.jwt_secret.empty()) {
    out.refusal = error_response(
      401, "token_not_accepted", "this node has no JWT_SECRET: tokens are off");
    return out;
  }
  auto now_s = ctx.opts.now_ms() / 1000;
  auto r = jwt_verify_hs256(token, ctx.opts.api.jwt_secret, now_s, 5);
  if (!r.ok()) {
    out.refusal = error_response(401, to_string(*r.error), r.message);
    return out;
  }
  out.claims = std::move(r.claims);
  return out;
}

/// The access check of a route; a response when refused.
std::optional<server_response> authorize(
  api_context& ctx, access level, const caller& who) {
  if (level == access::admin && ctx.opts.api.jwt_secret.empty())
    return error_response(403, "admin_disabled",
      "admin endpoints are off: set JWT_SECRET to enable them");
  if (who.refusal)
    return who.refusal;
  switch (level) {
    case access::open:
      return std::nullopt;
    case access::read:
      if (!ctx.opts.api.reads_require_auth || who.claims)
        return std::nullopt;
      return error_response(
        401, "missing_token", "this endpoint needs a bearer token");
    case access::admin:
      if (!who.claims)
        return error_response(
          401, "missing_token", "admin endpoints need an admin token");
      if (!permits(who.claims->r, role::admin))
        return error_response(403, "forbidden", "an admin token is required");
      return std::nullopt;
  }
  return std::nullopt;
}

/// Validates the common history parameters into `c`.
std::optional<server_response> read_history_params(const parsed_target& t,
  api_call& c, std::string_view tf_name, std::string_view start_name,
  std::string_view end_name, std::int64_t max_limit, std::int64_t def_limit) {
  if (const auto* ex = t.param("exchange")) {
    if (ex->empty() || ex->size() > 32
      || !std::all_of(ex->begin(), ex->end(), [](char ch) {
           return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
             || ch == '_';
         }))
      return error_response(400, "invalid_parameter",
        "exchange must be 1-32 lower-case letters, digits or _");
    c.exchange = *ex;
  }
  if (const auto* tf = t.param(tf_name)) {
    auto parsed = messages::parse_timeframe(*tf);
    if (!parsed)
      return error_response(400, "invalid_timeframe",
        "unknown " + std::string{tf_name}
          + " (one of 1m, 5m, 15m, 1h, 4h, 1d)");
    c.tf = *parsed;
  }
  auto limit = int_param(t, "limit", 1, max_limit);
  if (!limit.ok())
    return error_response(400, "invalid_parameter", limit.error);
  c.limit = static_cast<std::size_t>(limit.value.value_or(def_limit));
  auto start = time_param(t, start_name);
  if (!start.ok())
    return error_response(400, "invalid_parameter", start.error);
  auto end = time_param(t, end_name);
  if (!end.ok())
    return error_response(400, "invalid_parameter", end.error);
  c.start_ms = start.value.value_or(0);
  c.end_ms = end.value.value_or(max_time_ms);
  if (c.start_ms > c.end_ms)
    return error_response(400, "invalid_parameter",
      std::string{start_name} + " is after " + std::string{end_name});
  return std::nullopt;
}

std::optional<server_response> read_symbol(std::string_view s, api_call& c) {
  if (!is_valid_symbol(s))
    return error_response(400, "invalid_symbol",
      "a symbol is 1-32 upper-case letters, digits or . - ^ =");
  c.symbol = std::string{s};
  return std::nullopt;
}

/// Builds the worker call of a data route, or the refusal.
std::variant<api_call, server_response> make_call(const route& r,
  const route_match& m, const parsed_target& t, const server_request& req) {
  api_call c;
  auto known = [&](std::initializer_list<std::string_view> names)
    -> std::optional<server_response> {
    if (auto err = check_known_params(t, names))
      return error_response(400, "invalid_parameter", *err);
    return std::nullopt;
  };
  auto path_param = [&](std::string_view name) -> std::string {
    auto i = m.params.find(name);
    return i != m.params.end() ? i->second : std::string{};
  };
  switch (r.id) {
    case route_id::symbols:
      if (auto e = known({"token"}))
        return *e;
      c.what = api_call::kind::symbols;
      return c;
    case route_id::charts:
      if (auto e
        = known({"exchange", "timeframe", "limit", "start", "end", "token"}))
        return *e;
      c.what = api_call::kind::chart;
      if (auto e = read_symbol(path_param("symbol"), c))
        return *e;
      if (auto e
        = read_history_params(t, c, "timeframe", "start", "end", 1000, 500))
        return *e;
      return c;
    case route_id::klines: {
      if (auto e = known(
            {"symbol", "interval", "startTime", "endTime", "limit", "token"}))
        return *e;
      c.what = api_call::kind::klines;
      const auto* sym = t.param("symbol");
      const auto* interval = t.param("interval");
      if (sym == nullptr || interval == nullptr)
        return error_response(
          400, "invalid_parameter", "symbol and interval are required");
      if (auto e = read_symbol(*sym, c))
        return *e;
      if (auto e = read_history_params(
            t, c, "interval", "startTime", "endTime", 1000, 500))
        return *e;
      return c;
    }
    case route_id::quality:
      if (auto e = known({"exchange", "token"}))
        return *e;
      c.what = api_call::kind::quality;
      if (auto e = read_symbol(path_param("symbol"), c))
        return *e;
      if (auto e = read_history_params(t, c, "timeframe", "start", "end", 1, 1))
        return *e;
      return c;
    case route_id::export_csv: {
      if (auto e = known({"exchange", "timeframe", "format", "limit", "start",
            "end", "token"}))
        return *e;
      c.what = api_call::kind::export_csv;
      if (const auto* f = t.param("format"); f != nullptr && *f != "csv")
        return error_response(400, "invalid_parameter", "format must be csv");
      if (auto e = read_symbol(path_param("symbol"), c))
        return *e;
      if (auto e = read_history_params(
            t, c, "timeframe", "start", "end", 100'000, 100'000))
        return *e;
      return c;
    }
    case route_id::admin_add_symbol: {
      c.what = api_call::kind::add_symbol;
      auto body = nlohmann::json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object())
        return error_response(400, "invalid_body", "the body must be JSON");
      for (auto& [k, v] : body.items())
        if (k != "exchange" && k != "symbol" && k != "asset_class")
          return error_response(400, "invalid_body", "unknown member " + k);
      if (!body.contains("exchange") || !body["exchange"].is_string()
        || !body.contains("symbol") || !body["symbol"].is_string())
        return error_response(
          400, "invalid_body", "exchange and symbol (strings) are required");
      c.exchange = body["exchange"].get<std::string>();
      c.asset_class = body.value("asset_class", std::string{"crypto"});
      if (c.asset_class != "crypto" && c.asset_class != "stock")
        return error_response(
          400, "invalid_body", "asset_class must be crypto or stock");
      if (auto e = read_symbol(body["symbol"].get<std::string>(), c))
        return *e;
      return c;
    }
    case route_id::admin_remove_symbol:
      c.what = api_call::kind::remove_symbol;
      c.exchange = path_param("exchange");
      if (auto e = read_symbol(path_param("symbol"), c))
        return *e;
      return c;
    default:
      break;
  }
  return error_response(500, "internal_error", "not a data route");
}

server_response static_asset(const web_asset& a, const server_request& req) {
  server_response res;
  res.headers.emplace_back("ETag", std::string{a.etag});
  res.headers.emplace_back("Cache-Control", "no-cache");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (a.path == "/index.html")
    res.headers.emplace_back("Content-Security-Policy",
      "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
      // The chart library positions its canvases with style attributes.
      "style-src 'self' 'unsafe-inline'; script-src 'self'; "
      "frame-ancestors 'none'");
  if (req.header("if-none-match") == a.etag) {
    res.status = 304;
    res.content_type = std::string{a.content_type};
    return res;
  }
  res.content_type = std::string{a.content_type};
  res.body = std::string{a.body};
  return res;
}

/// A worker for a data request; without one (no database) the request is
/// answered 503 and the result is invalid.
caf::actor worker_or_refuse(api_context& ctx, const responder& reply) {
  auto w = ctx.worker();
  if (!w)
    reply(
      error_response(503, "unavailable", "this node runs without a database"));
  return w;
}

/// The response carrying a chart body: gzip when the client takes it and
/// the body has that form. The body is shared, never copied.
server_response chart_response(const chart_body_ptr& b, bool gzip) {
  server_response res;
  res.status = b->status;
  if (gzip && !b->gzip.empty()) {
    res.shared_body = std::shared_ptr<const std::string>(b, &b->gzip);
    res.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    res.shared_body = std::shared_ptr<const std::string>(b, &b->json);
  }
  res.headers.emplace_back("Vary", "Accept-Encoding");
  return res;
}

/// The /metrics response: the text exposition, gzipped when the scraper
/// takes it (zlib's fastest level: about 3 ms for the 1.1 MB of 1,000
/// symbols, 12x smaller; exposition_bench).
server_response metrics_response(std::string text, bool gzip) {
  server_response res;
  res.content_type = "text/plain; version=0.0.4; charset=utf-8";
  res.headers.emplace_back("Vary", "Accept-Encoding");
  std::optional<std::string> z;
  if (gzip)
    z = gzip_compress(text, 1);
  if (z) {
    res.body = std::move(*z);
    res.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    res.body = std::move(text);
  }
  return res;
}

/// A chart request: from the cache, by joining a fill under way, or by
/// starting one on a worker.
void serve_chart(const std::shared_ptr<api_context>& ctx, api_call c,
  const server_request& req, const responder& reply) {
  auto key = chart_key_of(c);
  auto gzip = accepts_gzip(req.header("accept-encoding"));
  auto now = chart_cache_clock_ms();
  if (auto b = ctx->charts->find(key, now)) {
    reply(chart_response(b, gzip));
    return;
  }
  auto w = worker_or_refuse(*ctx, reply);
  if (!w)
    return;
  auto waiter = [reply, gzip](
                  const chart_body_ptr& b) { reply(chart_response(b, gzip)); };
  if (!ctx->charts->join(key, std::move(waiter), now))
    return;
  c.fill_chart_cache = true;
  caf::anon_send(w, std::move(c), reply);
}

/// Handles one request on an I/O thread.
void handle(const std::shared_ptr<api_context>& ctx, const server_request& req,
  const responder& reply) {
  auto t0 = std::chrono::steady_clock::now();
  auto parsed = parse_target(req.target);
  const route* r = nullptr;
  route_match m;
  static const route asset_route{
    route_id::web_asset, "GET", "/", access::open, true};
  if (auto* t = std::get_if<parsed_target>(&parsed)) {
    m = match_route(req.method, t->segments);
    r = m.r;
    if (r == nullptr && !m.wrong_method && req.method == "GET"
      && find_web_asset(t->path) != nullptr)
      r = &asset_route;
  }
  auto endpoint = std::string{endpoint_label(r)};
  ctx->metrics.begin(endpoint);
  // CORS headers and the metrics on the way out, whoever answers.
  auto origin = std::string{req.header("origin")};
  auto cors
    = origin.empty() ? std::nullopt : cors_for(ctx->cors, origin, false);
  reply.decorate([ctx, t0, endpoint, method = req.method,
                   cors = std::move(cors)](server_response& res) {
    if (cors)
      for (const auto& h : cors->headers)
        res.headers.push_back(h);
    auto took
      = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
    ctx->metrics.end(method, endpoint, res.status, took);
  });
  auto* target = std::get_if<parsed_target>(&parsed);
  if (target == nullptr) {
    reply(error_response(400, "bad_request", std::get<std::string>(parsed)));
    return;
  }
  if (req.method == "OPTIONS") {
    auto pre = cors_for(ctx->cors, origin, true);
    if (!pre) {
      reply(error_response(403, "cors_forbidden", "origin not allowed"));
      return;
    }
    server_response res;
    res.status = 204;
    res.headers = pre->headers;
    reply(std::move(res));
    return;
  }
  if (r == nullptr) {
    if (m.wrong_method) {
      auto res = error_response(405, "method_not_allowed",
        req.method + " is not allowed here (allowed: " + m.allow + ")");
      res.headers.emplace_back("Allow", m.allow);
      reply(std::move(res));
      return;
    }
    reply(
      error_response(404, "not_found", "no such endpoint: " + target->path));
    return;
  }
  auto who = authenticate(*ctx, req, target);
  if (auto refused = authorize(*ctx, r->level, who)) {
    reply(std::move(*refused));
    return;
  }
  if (r->limited && ctx->limiter) {
    auto key = who.claims && !who.claims->subject.empty()
      ? "sub:" + who.claims->subject
      : "ip:" + req.remote_address;
    auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch())
                    .count();
    auto d = ctx->limiter->check(key, now_ns);
    if (!d.allowed) {
      ctx->metrics.limited(endpoint);
      auto res = error_response(429, "rate_limited",
        "too many requests; retry after " + std::to_string(d.retry_after_s)
          + " s");
      res.headers.emplace_back("Retry-After", std::to_string(d.retry_after_s));
      reply(std::move(res));
      return;
    }
  }
  switch (r->id) {
    case route_id::health_live:
      reply(json_response(R"({"status":"ok"})"));
      return;
    case route_id::openapi:
      reply(json_response(openapi_json()));
      return;
    case route_id::web_asset:
      reply(static_asset(*find_web_asset(target->path), req));
      return;
    case route_id::health:
      caf::anon_send(ctx->api_actor(), messages::health_atom_v, reply);
      return;
    case route_id::metrics: {
      auto gzip = accepts_gzip(req.header("accept-encoding"));
      // Rendered here on the I/O thread when the node shares its
      // exposition: no actor between a scrape and its answer.
      if (ctx->opts.metrics_text)
        reply(metrics_response(ctx->opts.metrics_text(), gzip));
      else
        caf::anon_send(
          ctx->api_actor(), messages::snapshot_atom_v, reply, gzip);
      return;
    }
    case route_id::websocket:
      reply(error_response(
        426, "upgrade_required", "this endpoint speaks WebSocket only"));
      return;
    default:
      break;
  }
  auto call = make_call(*r, m, *target, req);
  if (auto* res = std::get_if<server_response>(&call)) {
    reply(std::move(*res));
    return;
  }
  auto& c = std::get<api_call>(call);
  if (c.what == api_call::kind::chart && ctx->charts) {
    serve_chart(ctx, std::move(c), req, reply);
    return;
  }
  auto w = worker_or_refuse(*ctx, reply);
  if (!w)
    return;
  caf::anon_send(w, std::move(c), reply);
}

/// Accepts or refuses a WebSocket upgrade on an I/O thread.
std::optional<server_response> upgrade(const std::shared_ptr<api_context>& ctx,
  const server_request& req, const std::shared_ptr<net::ws_peer>& peer,
  net::ws_handlers& handlers) {
  auto parsed = parse_target(req.target);
  auto* target = std::get_if<parsed_target>(&parsed);
  if (target == nullptr)
    return error_response(400, "bad_request", std::get<std::string>(parsed));
  auto m = match_route("GET", target->segments);
  if (m.r == nullptr || m.r->id != route_id::websocket)
    return error_response(404, "not_found", "WebSocket endpoint is /ws");
  auto who = authenticate(*ctx, req, target);
  if (auto refused = authorize(*ctx, m.r->level, who))
    return refused;
  if (ctx->limiter) {
    auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch())
                    .count();
    auto d = ctx->limiter->check("ip:" + req.remote_address, now_ns);
    if (!d.allowed) {
      ctx->metrics.limited("/ws");
      auto res = error_response(429, "rate_limited", "too many connections");
      res.headers.emplace_back("Retry-After", std::to_string(d.retry_after_s));
      return res;
    }
  }
  auto id = peer->id();
  std::weak_ptr<api_context> weak = ctx;
  handlers.on_message = [weak, id](std::string_view text) {
    if (auto c = weak.lock())
      caf::anon_send(c->ws(), ws_text{id, std::string{text}});
  };
  handlers.on_sent = [weak, id](std::size_t n) {
    if (auto c = weak.lock())
      caf::anon_send(c->ws(), ws_sent{id, n});
  };
  handlers.on_close = [weak, id](const std::string& reason) {
    if (auto c = weak.lock())
      caf::anon_send(c->ws(), ws_gone{id, reason});
  };
  caf::anon_send(ctx->ws(), ws_open{peer, who.claims.has_value()});
  return std::nullopt;
}

// -- the supervising actor
// ------------------------------------------------------

struct api_state {
  std::shared_ptr<api_context> ctx;
  std::unique_ptr<net::http_server> server;
  std::uint16_t port = 0;
  std::shared_ptr<spdlog::logger> log = monitoring::get_logger("api");

  ~api_state() {
    if (server)
      server->stop();
  }

  static inline const char* name = "api";
};

using api_actor = caf::stateful_actor<api_state>;

/// Messages a WebSocket connection may have in the server's write queue
/// (beyond them they wait, conflated, in the broadcaster's outbox).
std::size_t socket_queue(const config::api_config& a) {
  return static_cast<std::size_t>(std::max<std::int64_t>(64, a.ws_queue_limit));
}

caf::actor spawn_worker(api_actor* self) {
  const auto& o = self->state.ctx->opts;
  api_worker_options wo;
  wo.db = o.db;
  wo.redis = o.redis;
  wo.history.max_limit = 100'000;
  wo.history.cache.prefix = o.cache_prefix;
  // Symbol commands go through the API actor, which knows the current
  // collector supervisor.
  wo.collectors = caf::actor_cast<caf::actor>(self);
  wo.metrics = o.metrics;
  wo.charts = self->state.ctx->charts;
  auto w = spawn_api_worker(self->system(), std::move(wo));
  self->monitor(w);
  return w;
}

caf::actor spawn_broadcaster(api_actor* self) {
  const auto& ctx = *self->state.ctx;
  const auto& a = ctx.opts.api;
  ws_broadcaster_options bo;
  bo.workers = ctx.workers;
  bo.metrics = ctx.opts.metrics;
  bo.forming_interval_ms = a.ws_forming_interval_ms;
  bo.max_pending = static_cast<std::size_t>(a.ws_queue_limit);
  bo.socket_queue = socket_queue(a);
  bo.max_subscriptions = static_cast<std::size_t>(a.ws_max_subscriptions);
  bo.snapshot_bars = static_cast<std::size_t>(a.ws_snapshot_bars);
  bo.now_ms = ctx.opts.now_ms;
  auto b = spawn_ws_broadcaster(self->system(), std::move(bo));
  self->monitor(b);
  return b;
}

/// Asks the components for their health and answers the request.
void answer_health(api_actor* self, responder reply) {
  struct collect {
    explicit collect(responder r) : reply(std::move(r)) {}
    std::vector<messages::health_status> parts;
    int waiting = 0;
    responder reply;
    std::int64_t now = 0;
  };
  auto& ctx = *self->state.ctx;
  auto acc = std::make_shared<collect>(std::move(reply));
  acc->now = ctx.opts.now_ms();
  auto finish = [acc] {
    if (--acc->waiting > 0)
      return;
    int worst = 0;
    nlohmann::json comps = nlohmann::json::array();
    for (const auto& p : acc->parts) {
      worst = std::max(worst,
        p.status == "unhealthy"    ? 2
          : p.status == "degraded" ? 1
                                   : 0);
      comps.push_back(nlohmann::json{{"component", p.component},
        {"status", p.status}, {"detail", p.detail}});
    }
    static const char* names[] = {"healthy", "degraded", "unhealthy"};
    std::string when;
    append_iso8601_ms(when, acc->now);
    nlohmann::json body{
      {"status", names[worst]}, {"time", when}, {"components", comps}};
    acc->reply(json_response(body.dump(), worst == 2 ? 503 : 200));
  };
  auto unreachable = [acc, finish](const std::string& component) {
    return [acc, finish, component](caf::error&) {
      acc->parts.push_back({component, "unhealthy", "no answer", acc->now});
      finish();
    };
  };
  constexpr auto timeout = std::chrono::seconds{2};
  caf::actor collectors;
  caf::actor storage;
  {
    std::lock_guard<std::mutex> guard{ctx.mtx};
    collectors = ctx.opts.collectors;
    storage = ctx.opts.storage;
  }
  acc->waiting = 1; // released at the end of this function
  if (collectors) {
    ++acc->waiting;
    self->request(collectors, timeout, messages::health_atom_v)
      .then(
        [acc, finish](std::vector<messages::health_status>& xs) {
          for (auto& x : xs)
            acc->parts.push_back(std::move(x));
          finish();
        },
        unreachable("collectors"));
  }
  if (storage) {
    ++acc->waiting;
    self->request(storage, timeout, caf::get_atom_v)
      .then(
        [acc, finish](std::vector<messages::writer_stats>& xs) {
          std::size_t up = 0;
          std::int64_t spooled = 0;
          for (const auto& w : xs) {
            up += w.connected ? 1 : 0;
            spooled += w.spool_rows;
          }
          messages::health_status h;
          h.component = "database";
          h.time_ms = acc->now;
          // Writers connect when they first have rows, so an idle one
          // is not a problem; rows waiting in the spool are.
          h.status = spooled == 0 ? "healthy"
            : up > 0              ? "degraded"
                                  : "unhealthy";
          h.detail = std::to_string(up) + "/" + std::to_string(xs.size())
            + " writers connected, " + std::to_string(spooled)
            + " rows waiting in the spool";
          acc->parts.push_back(std::move(h));
          finish();
        },
        unreachable("database"));
  }
  if (auto b = ctx.ws()) {
    ++acc->waiting;
    self->request(b, timeout, messages::health_atom_v)
      .then(
        [acc, finish](std::vector<messages::health_status>& xs) {
          for (auto& x : xs)
            acc->parts.push_back(std::move(x));
          finish();
        },
        unreachable("websocket"));
  }
  finish();
}

caf::behavior api(api_actor* self, api_options opts) {
  auto& init = self->state;
  if (!opts.now_ms)
    opts.now_ms = messages::wall_clock_ms;
  auto ctx = std::make_shared<api_context>();
  ctx->opts = std::move(opts);
  const auto& a = ctx->opts.api;
  ctx->cors.allowed_origins = a.cors_origins;
  rate_limit_config rl;
  rl.per_second = a.rate_limit_per_second;
  rl.burst = a.rate_limit_burst;
  rl.max_clients = static_cast<std::size_t>(a.rate_limit_clients);
  ctx->limiter = std::make_unique<rate_limiter>(rl);
  ctx->self = caf::actor_cast<caf::actor>(self);
  ctx->charts = std::make_shared<chart_cache>(ctx->opts.chart_cache);
  init.ctx = ctx;
  if (ctx->opts.database)
    for (std::size_t i = 0; i < std::max<std::size_t>(1, ctx->opts.workers);
         ++i)
      ctx->workers.push_back(spawn_worker(self));
  ctx->broadcaster = spawn_broadcaster(self);
  net::server_options so;
  so.bind = a.bind;
  so.port = a.port;
  so.threads = static_cast<std::size_t>(a.threads);
  so.ws_threads = static_cast<std::size_t>(a.ws_threads);
  so.max_body_bytes = static_cast<std::size_t>(a.max_body_bytes);
  so.max_header_bytes = static_cast<std::size_t>(a.max_header_bytes);
  so.read_timeout = std::chrono::milliseconds{a.read_timeout_ms};
  so.idle_timeout = std::chrono::milliseconds{a.idle_timeout_ms};
  so.ws_queue_limit = socket_queue(a);
  so.ws_ping_interval = std::chrono::milliseconds{a.ws_ping_interval_ms};
  so.make_error = error_response;
  net::server_handlers sh;
  sh.on_request = [ctx](const server_request& req, const responder& r) {
    handle(ctx, req, r);
  };
  sh.on_upgrade = [ctx](const server_request& req,
                    const std::shared_ptr<net::ws_peer>& peer,
                    net::ws_handlers& h) { return upgrade(ctx, req, peer, h); };
  init.server = std::make_unique<net::http_server>(so, std::move(sh));
  if (auto err = init.server->start(); !err.empty()) {
    monitoring::log_event(*init.log, config::log_level::error,
      "API server cannot start", {{"error", err}});
    init.server.reset();
    self->quit(caf::make_error(caf::sec::cannot_open_port, err));
    return {};
  }
  init.port = init.server->port();
  monitoring::log_event(*init.log, config::log_level::info, "API listening",
    {{"address", a.bind}, {"port", std::to_string(init.port)}});
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto& c = *st.ctx;
    std::lock_guard<std::mutex> guard{c.mtx};
    for (auto& w : c.workers)
      if (w.address() == dm.source) {
        monitoring::log_event(*st.log, config::log_level::warning,
          "api worker died; restarting",
          {{"reason", self->system().render(dm.reason)}});
        w = spawn_worker(self);
      }
    if (c.broadcaster.address() == dm.source) {
      monitoring::log_event(*st.log, config::log_level::warning,
        "ws_broadcaster died; restarting (its clients reconnect)",
        {{"reason", self->system().render(dm.reason)}});
      c.broadcaster = spawn_broadcaster(self);
    }
  });
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    if (st.server)
      st.server->stop();
    std::lock_guard<std::mutex> guard{st.ctx->mtx};
    for (auto& w : st.ctx->workers)
      self->send_exit(w, em.reason);
    self->send_exit(st.ctx->broadcaster, em.reason);
    st.ctx->self = caf::actor{};
    self->quit(em.reason);
  });
  // A stray message must never become an error reply to its sender.
  self->set_default_handler(caf::print_and_drop);
  self->delayed_send(
    self, std::chrono::seconds{1}, messages::flush_timer_atom_v);
  return {
    [self](caf::get_atom) { return self->state.port; },
    [self](caf::put_atom, const std::string& role, const caf::actor& who) {
      auto& c = *self->state.ctx;
      std::lock_guard<std::mutex> guard{c.mtx};
      if (role == "collectors")
        c.opts.collectors = who;
      else if (role == "storage")
        c.opts.storage = who;
    },
    [self](messages::symbol_command& cmd) {
      caf::actor dest;
      {
        auto& c = *self->state.ctx;
        std::lock_guard<std::mutex> guard{c.mtx};
        dest = c.opts.collectors;
      }
      // No reply wanted (the supervisor answers whether it routed it).
      if (dest)
        caf::anon_send(dest, std::move(cmd));
    },
    [self](std::vector<messages::bar>& xs) {
      auto& charts = *self->state.ctx->charts;
      for (const auto& b : xs)
        charts.on_bar(b);
      self->send(self->state.ctx->ws(), std::move(xs));
    },
    [self](std::vector<messages::indicator_snapshot>& xs) {
      auto& charts = *self->state.ctx->charts;
      for (const auto& x : xs)
        charts.on_indicators(x);
      self->send(self->state.ctx->ws(), std::move(xs));
    },
    [](const messages::quality_report&) {
      // Served from the database (GET /api/v1/quality/{symbol}).
    },
    [self](messages::health_atom, responder& r) {
      answer_health(self, std::move(r));
    },
    [self](messages::snapshot_atom, responder& r, bool gzip) {
      auto& m = self->state.ctx->opts.metrics;
      if (!m) {
        r(error_response(503, "unavailable", "no metrics on this node"));
        return;
      }
      self->request(m, std::chrono::seconds{5}, messages::snapshot_atom_v)
        .then(
          [r, gzip](
            std::string& text) { r(metrics_response(std::move(text), gzip)); },
          [r](caf::error&) {
            r(error_response(503, "unavailable", "metrics did not answer"));
          });
    },
    [self](messages::flush_timer_atom) {
      auto& st = self->state;
      if (auto mu = st.ctx->metrics.take(); mu && st.ctx->opts.metrics)
        self->send(st.ctx->opts.metrics, std::move(*mu));
      self->delayed_send(
        self, std::chrono::seconds{1}, messages::flush_timer_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_api(caf::actor_system& sys, api_options opts) {
  return sys.spawn(api, std::move(opts));
}

} // namespace csp::api
