#define CAF_SUITE api.server
#include "caf/test/unit_test.hpp"

// The API end to end: a real actor system, the HTTP/WebSocket server on
// loopback, real PostgreSQL and Redis (scripts/services.sh), and clients
// speaking HTTP and WebSocket over sockets.

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/binance_klines.hpp"
#include "api/api_server.hpp"
#include "api/jwt.hpp"
#include "storage/cache_store.hpp"
#include "tests/api/api_test_support.hpp"
#include "tests/monitoring/exposition_parser.hpp"
#include "messages/type_ids.hpp"
#include "monitoring/metrics.hpp"
#include "monitoring/metrics_exposition.hpp"
#include "monitoring/metrics_store.hpp"
#include "storage/cache_layout.hpp"
#include "storage/copy_batch.hpp"
#include "storage/pg_store.hpp"
#include "tests/storage/pg_test_db.hpp"
#include "tests/storage/redis_test_support.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace csp;
using namespace csp::messages;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr std::int64_t t0 = 1764028800000; // 2025-11-25T00:00:00Z
constexpr std::int64_t hour = 3'600'000;
const std::string secret = "api-test-secret";

struct test_config : caf::actor_system_config {
  test_config() { register_types(*this); }
};

bar make_bar(std::int64_t i, bool closed = true) {
  bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.tf = timeframe::h1;
  b.open_time_ms = t0 + i * hour;
  b.close_time_ms = b.open_time_ms + hour - 1;
  b.open.units = 4'200'000'000'000 + i * 100'000'000;
  b.high.units = b.open.units + 50'000'000;
  b.low.units = b.open.units - 25'000'001;
  b.close.units = b.open.units + 12'345'678;
  b.volume.units = 1'000'000'000 + i;
  b.quote_volume.units = 42'000'000'000'000 + i;
  b.taker_buy_volume.units = 400'000'000;
  b.taker_buy_quote_volume.units = 16'800'000'000'000;
  b.trade_count = 10 + i;
  b.first_trade_id = 1000 * i;
  b.last_trade_id = 1000 * i + 9 + i;
  b.closed = closed;
  return b;
}

indicator_snapshot make_ind(const bar& b) {
  indicator_snapshot s;
  s.exchange = b.exchange;
  s.symbol = b.symbol;
  s.tf = b.tf;
  s.open_time_ms = b.open_time_ms;
  s.closed = b.closed;
  s.values.fill(std::numeric_limits<double>::quiet_NaN());
  s.values[static_cast<std::size_t>(indicator::vwap)]
    = 42000.5 + static_cast<double>(b.open_time_ms - t0) / hour;
  s.values[static_cast<std::size_t>(indicator::rsi_14)] = 0.1;
  return s;
}

struct response {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  /// The body as JSON (discarded when it is not JSON).
  json parsed;
  json& j() { return parsed; }
  std::string code() {
    auto& x = j();
    if (x.is_object() && x.contains("error"))
      return x["error"].value("code", "");
    return "<" + body.substr(0, 200) + ">";
  }
};

/// One HTTP request on a fresh connection.
response request(std::uint16_t port, const std::string& method,
  const std::string& target,
  const std::map<std::string, std::string>& hdrs = {},
  const std::string& body = {}) {
  asio::io_context ioc;
  tcp::socket sock{ioc};
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval tv{10, 0};
  setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  http::request<http::string_body> req{
    http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : hdrs)
    req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(sock, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  boost::system::error_code ec;
  http::read(sock, buf, res, ec);
  response out;
  if (ec)
    return out;
  out.status = res.result_int();
  out.body = res.body();
  for (const auto& f : res)
    out.headers[std::string{f.name_string()}] = std::string{f.value()};
  out.parsed = json::parse(out.body, nullptr, false);
  return out;
}

response get(std::uint16_t port, const std::string& target,
  const std::map<std::string, std::string>& hdrs = {}) {
  return request(port, "GET", target, hdrs);
}

std::string token(api::role r, std::int64_t exp_s, const std::string& key) {
  api::jwt_claims c;
  c.subject = "tester";
  c.r = r;
  c.exp_s = exp_s;
  return api::jwt_sign_hs256(c, key);
}

std::map<std::string, std::string> bearer(const std::string& tok) {
  return {{"Authorization", "Bearer " + tok}};
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
    std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// A blocking WebSocket client with bounded reads.
struct ws_client {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buf;
  bool ok = false;

  ws_client(
    std::uint16_t port, const std::string& target = "/ws", int rcvbuf = 0) {
    boost::system::error_code ec;
    ws.next_layer().open(tcp::v4(), ec);
    if (rcvbuf > 0)
      setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVBUF,
        &rcvbuf, sizeof(rcvbuf));
    ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec)
      return;
    timeval tv{10, 0};
    setsockopt(ws.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv,
      sizeof(tv));
    ws.handshake("127.0.0.1", target, ec);
    ok = !ec;
  }

  void send(const std::string& text) { ws.write(asio::buffer(text)); }

  /// The next message as JSON (discarded JSON on error).
  json next() {
    buf.consume(buf.size());
    boost::system::error_code ec;
    ws.read(buf, ec);
    if (ec)
      return json::value_t::discarded;
    return json::parse(beast::buffers_to_string(buf.data()), nullptr, false);
  }

  /// Reads until a message satisfies `pred` (at most `max` messages).
  json until(const std::function<bool(const json&)>& pred, int max = 200) {
    for (int i = 0; i < max; ++i) {
      auto m = next();
      if (m.is_discarded())
        return m;
      if (pred(m))
        return m;
    }
    return json::value_t::discarded;
  }
};

bar decoded(const json& j) {
  bar b;
  auto text = j.dump();
  if (!storage::decode_bar(text, b))
    CAF_FAIL("not a bar: " << text);
  return b;
}

struct fixture {
  test::test_database db{"api_server"};
  storage::pg_store store{db.settings()};
  std::string prefix = test::unique_prefix("api");
  std::vector<bar> bars;
  test_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<monitoring::metrics_exposition> exposition
    = std::make_shared<monitoring::metrics_exposition>(
      monitoring::make_metrics_registry());
  caf::actor metrics;
  std::vector<caf::actor> apis;

  fixture() {
    store.upsert_symbols(
      {{"binance", "BTCUSDT", "crypto"}, {"yahoo", "AAPL", "stock"}});
    storage::copy_batch cb;
    cb.table = storage::table_kind::candles;
    storage::copy_batch ib;
    ib.table = storage::table_kind::indicators;
    for (int i = 0; i < 30; ++i) {
      bars.push_back(make_bar(i));
      storage::append_candle(cb, bars.back());
      storage::append_indicators(ib, make_ind(bars.back()));
    }
    store.write(cb);
    store.write(ib);
    quality_report rep;
    rep.exchange = "binance";
    rep.symbol = "BTCUSDT";
    rep.time_ms = t0;
    rep.window_ms = 300'000;
    rep.score = 97.5;
    rep.observations = 500;
    rep.failed_checks = {{"id_gap", 1}};
    rep.recent_issues = {{"id_gap", "ids 5..5 missing", 5, t0}};
    storage::copy_batch qb;
    qb.table = storage::table_kind::data_quality;
    storage::append_quality(qb, rep);
    store.write(qb);
    monitoring::metrics_options mo;
    mo.serve_http = false;
    mo.exposition = exposition;
    metrics = sys.spawn(monitoring::metrics_actor, mo);
  }

  ~fixture() {
    for (auto& a : apis)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(metrics, caf::exit_reason::user_shutdown);
    storage::redis_client redis{test::redis_test_options()};
    try {
      redis.connect();
      test::delete_prefix(redis, prefix);
    } catch (const std::exception&) {
      // Nothing cached.
    }
  }

  api::api_options options() {
    api::api_options o;
    o.api.port = 0;
    o.api.jwt_secret = secret;
    o.api.ws_forming_interval_ms = 1000;
    o.db = db.settings();
    o.redis = test::redis_test_options();
    o.cache_prefix = prefix;
    o.workers = 2;
    o.metrics = metrics;
    o.metrics_text = [x = exposition] { return x->render(); };
    return o;
  }

  std::uint16_t start(api::api_options o) {
    auto a = api::spawn_api(sys, std::move(o));
    apis.push_back(a);
    caf::scoped_actor self{sys};
    std::uint16_t port = 0;
    self->request(a, 10s, caf::get_atom_v)
      .receive([&](std::uint16_t p) { port = p; },
        [&](
          caf::error& e) { CAF_FAIL("API did not start: " << sys.render(e)); });
    return port;
  }

  std::uint16_t start() { return start(options()); }

  /// Sends bars and their indicators as a processing shard would.
  void push(const std::vector<bar>& xs) {
    std::vector<indicator_snapshot> inds;
    for (const auto& b : xs)
      inds.push_back(make_ind(b));
    caf::anon_send(apis.front(), xs);
    caf::anon_send(apis.front(), inds);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(api_server_tests, fixture)

CAF_TEST(liveness symbols and the OpenAPI document) {
  auto port = start();
  auto live = get(port, "/health");
  CAF_CHECK_EQUAL(live.status, 200u);
  CAF_CHECK_EQUAL(live.j()["status"], "ok");
  auto syms = get(port, "/api/v1/symbols");
  CAF_REQUIRE_EQUAL(syms.status, 200u);
  auto j = syms.j();
  CAF_CHECK_EQUAL(j["exchanges"]["binance"][0]["symbol"], "BTCUSDT");
  CAF_CHECK_EQUAL(j["exchanges"]["yahoo"][0]["asset_class"], "stock");
  auto doc = get(port, "/openapi.json");
  CAF_CHECK_EQUAL(doc.status, 200u);
  CAF_CHECK(doc.j().contains("paths"));
}

CAF_TEST(charts serve the stored bars with their indicators) {
  auto port = start();
  auto res = get(port, "/api/v1/charts/BTCUSDT?timeframe=1h&limit=10");
  CAF_REQUIRE_EQUAL(res.status, 200u);
  auto j = res.j();
  CAF_CHECK_EQUAL(j["exchange"], "binance");
  CAF_REQUIRE_EQUAL(j["bars"].size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    const auto& jb = j["bars"][i];
    CAF_CHECK_EQUAL(decoded(jb), bars[20 + i]);
    auto want = make_ind(bars[20 + i]);
    CAF_CHECK_EQUAL(
      jb["indicators"]["vwap"].get<double>(), want.get(indicator::vwap));
    CAF_CHECK(jb["indicators"]["sma_20"].is_null());
  }
  // A range by ISO dates; the second read comes from the cache.
  auto ranged = get(port,
    "/api/v1/charts/BTCUSDT?timeframe=1h&start=2025-11-25T02:00:00Z&end="
      + std::to_string(t0 + 4 * hour));
  CAF_REQUIRE_EQUAL(ranged.status, 200u);
  CAF_REQUIRE_EQUAL(ranged.j()["bars"].size(), 3u);
  CAF_CHECK_EQUAL(decoded(ranged.j()["bars"][0]), bars[2]);
  // Other timeframes of a known symbol are empty, not errors.
  auto empty = get(port, "/api/v1/charts/BTCUSDT?timeframe=1d");
  CAF_CHECK_EQUAL(empty.status, 200u);
  CAF_CHECK(empty.j()["bars"].empty());
}

CAF_TEST(a cached chart follows closed bars and revisions) {
  auto port = start();
  const std::string chart = "/api/v1/charts/BTCUSDT?timeframe=1h&limit=5";
  auto first = get(port, chart);
  CAF_REQUIRE_EQUAL(first.status, 200u);
  CAF_REQUIRE_EQUAL(first.j()["bars"].size(), 5u);
  CAF_CHECK_EQUAL(decoded(first.j()["bars"][4]), bars[29]);
  // The cached body equals a read nothing cached (another key).
  auto uncached = get(port, chart + "&exchange=binance");
  auto cached = get(port, chart);
  CAF_CHECK_EQUAL(cached.body, uncached.body);
  CAF_CHECK_EQUAL(cached.headers["Vary"], "Accept-Encoding");
  // Storage gets bar 30 the way the writers store it, the API hears of it
  // as from a processing shard; the next response includes it with its
  // indicators (it would not if the cache were not dropped).
  storage::cache_store redis{test::redis_test_options(),
    storage::cache_store_options{prefix}, [] { return t0; }};
  CAF_REQUIRE(redis.connect_and_refill());
  auto store_bars = [&](const std::vector<bar>& xs) {
    storage::copy_batch cb;
    cb.table = storage::table_kind::candles;
    storage::copy_batch ib;
    ib.table = storage::table_kind::indicators;
    for (const auto& b : xs) {
      storage::append_candle(cb, b);
      storage::append_indicators(ib, make_ind(b));
    }
    store.write(cb);
    store.write(ib);
    CAF_REQUIRE(redis.put(xs));
  };
  caf::scoped_actor self{sys};
  auto announce = [&](const std::vector<bar>& xs) {
    std::vector<indicator_snapshot> inds;
    for (const auto& b : xs)
      inds.push_back(make_ind(b));
    self->send(apis.front(), xs);
    self->send(apis.front(), inds);
    // Answered after both (one sender's messages arrive in order).
    self->request(apis.front(), 10s, caf::get_atom_v)
      .receive(
        [](std::uint16_t) {}, [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
  };
  auto b30 = make_bar(30);
  store_bars({b30});
  announce({b30});
  auto after = get(port, chart);
  CAF_REQUIRE_EQUAL(after.status, 200u);
  CAF_REQUIRE_EQUAL(after.j()["bars"].size(), 5u);
  CAF_CHECK_EQUAL(decoded(after.j()["bars"][4]), b30);
  CAF_CHECK_EQUAL(after.j()["bars"][4]["indicators"]["vwap"].get<double>(),
    make_ind(b30).get(indicator::vwap));
  CAF_CHECK_EQUAL(decoded(after.j()["bars"][0]), bars[26]);
  // A revision of an older bar.
  auto revised = bars[28];
  revised.revision = 1;
  revised.close.units += 77'000'000;
  revised.trade_count += 3;
  store_bars({revised});
  announce({revised});
  auto rev = get(port, chart);
  CAF_REQUIRE_EQUAL(rev.status, 200u);
  CAF_REQUIRE_EQUAL(rev.j()["bars"].size(), 5u);
  CAF_CHECK_EQUAL(decoded(rev.j()["bars"][2]), revised);
  // gzip for a client that takes it: the same JSON.
  auto gz = get(port, chart, {{"Accept-Encoding", "gzip, br"}});
  CAF_REQUIRE_EQUAL(gz.status, 200u);
  CAF_CHECK_EQUAL(gz.headers["Content-Encoding"], "gzip");
  CAF_CHECK_EQUAL(api_test::gunzip(gz.body), rev.body);
  auto plain = get(port, chart, {{"Accept-Encoding", "gzip;q=0"}});
  CAF_CHECK_EQUAL(plain.headers.count("Content-Encoding"), 0u);
  CAF_CHECK_EQUAL(plain.body, rev.body);
}

CAF_TEST(klines are Binance arrays of the stored bars) {
  auto port = start();
  auto res = get(port, "/api/v1/klines?symbol=BTCUSDT&interval=1h&limit=5");
  CAF_REQUIRE_EQUAL(res.status, 200u);
  std::string err;
  auto parsed
    = actors::parse_klines(res.body, "binance", "BTCUSDT", timeframe::h1, err);
  CAF_REQUIRE(parsed.has_value());
  CAF_REQUIRE_EQUAL(parsed->size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    auto want = bars[25 + i];
    auto got = (*parsed)[i];
    CAF_CHECK_EQUAL(got.open_time_ms, want.open_time_ms);
    CAF_CHECK_EQUAL(got.close, want.close);
    CAF_CHECK_EQUAL(got.volume, want.volume);
    CAF_CHECK_EQUAL(got.trade_count, want.trade_count);
  }
  auto ranged = get(port,
    "/api/v1/klines?symbol=BTCUSDT&interval=1h&startTime="
      + std::to_string(t0 + hour)
      + "&endTime=" + std::to_string(t0 + 2 * hour));
  CAF_CHECK_EQUAL(ranged.j().size(), 2u);
}

CAF_TEST(bad requests get stable JSON errors) {
  auto port = start();
  struct bad_case {
    std::string target;
    unsigned status;
    std::string code;
  };
  std::vector<bad_case> cases{
    {"/api/v1/charts/DOGEUSDT", 404, "unknown_symbol"},
    {"/api/v1/charts/btcusdt", 400, "invalid_symbol"},
    {"/api/v1/charts/BTCUSDT?timeframe=2h", 400, "invalid_timeframe"},
    {"/api/v1/charts/BTCUSDT?limit=0", 400, "invalid_parameter"},
    {"/api/v1/charts/BTCUSDT?limit=1001", 400, "invalid_parameter"},
    {"/api/v1/charts/BTCUSDT?limit=abc", 400, "invalid_parameter"},
    {"/api/v1/charts/BTCUSDT?start=2025-13-45", 400, "invalid_parameter"},
    {"/api/v1/charts/BTCUSDT?start=5&end=4", 400, "invalid_parameter"},
    {"/api/v1/charts/BTCUSDT?colour=red", 400, "invalid_parameter"},
    {"/api/v1/charts/BTCUSDT?exchange=Binance", 400, "invalid_parameter"},
    {"/api/v1/charts/BTCUSDT?exchange=yahoo", 404, "unknown_symbol"},
    {"/api/v1/klines?symbol=BTCUSDT", 400, "invalid_parameter"},
    {"/api/v1/klines?symbol=BTCUSDT&interval=1w", 400, "invalid_timeframe"},
    {"/api/v1/quality/NOPE", 404, "unknown_symbol"},
    {"/api/v1/export/BTCUSDT?format=xlsx", 400, "invalid_parameter"},
    {"/api/v1/nothing", 404, "not_found"},
    {"/api/v1/charts/BTC%2FUSDT", 400, "bad_request"},
    {"/api/v1/charts/BTCUSDT?a=%zz", 400, "bad_request"},
  };
  for (const auto& c : cases) {
    auto res = get(port, c.target);
    CAF_CHECK_EQUAL(res.status, c.status);
    CAF_CHECK_EQUAL(res.code(), c.code);
    if (res.status != c.status)
      CAF_MESSAGE("target " << c.target << ": " << res.body);
  }
  auto wrong = request(port, "POST", "/api/v1/charts/BTCUSDT");
  CAF_CHECK_EQUAL(wrong.status, 405u);
  CAF_CHECK_EQUAL(wrong.headers["Allow"], "GET");
  auto ws_plain = get(port, "/ws");
  CAF_CHECK_EQUAL(ws_plain.status, 426u);
}

CAF_TEST(quality and CSV export) {
  auto port = start();
  auto q = get(port, "/api/v1/quality/BTCUSDT");
  CAF_REQUIRE_EQUAL(q.status, 200u);
  CAF_CHECK_EQUAL(q.j()["score"].get<double>(), 97.5);
  CAF_CHECK_EQUAL(q.j()["observations"].get<std::int64_t>(), 500);
  CAF_CHECK_EQUAL(
    get(port, "/api/v1/quality/AAPL").code(), "no_quality_report");
  auto csv = get(port, "/api/v1/export/BTCUSDT?timeframe=1h&limit=7");
  CAF_REQUIRE_EQUAL(csv.status, 200u);
  CAF_CHECK_EQUAL(csv.headers["Content-Type"], "text/csv; charset=utf-8");
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < csv.body.size()) {
    auto end = csv.body.find("\r\n", pos);
    if (end == std::string::npos)
      break;
    lines.push_back(csv.body.substr(pos, end - pos));
    pos = end + 2;
  }
  CAF_REQUIRE_EQUAL(lines.size(), 8u);
  CAF_CHECK_EQUAL(lines[0].rfind("open_time,close_time,open,", 0), 0u);
  CAF_CHECK_EQUAL(lines[7].rfind("2025-11-26T05:00:00.000Z,", 0), 0u);
}

CAF_TEST(admin endpoints need an admin token and change the symbols) {
  auto port = start();
  auto body = R"({"exchange":"binance","symbol":"SOLUSDT"})";
  auto post = [&](const std::map<std::string, std::string>& h) {
    return request(port, "POST", "/api/v1/admin/symbols", h, body);
  };
  CAF_CHECK_EQUAL(post({}).status, 401u);
  CAF_CHECK_EQUAL(
    post(bearer(token(api::role::viewer, now_s() + 60, secret))).code(),
    "forbidden");
  CAF_CHECK_EQUAL(
    post(bearer(token(api::role::admin, now_s() - 10, secret))).code(),
    "token_expired");
  CAF_CHECK_EQUAL(
    post(bearer(token(api::role::admin, now_s() + 60, "other-secret"))).code(),
    "token_bad_signature");
  CAF_CHECK_EQUAL(
    post({{"Authorization", "Basic abc"}}).code(), "missing_token");
  auto admin = bearer(token(api::role::admin, now_s() + 60, secret));
  auto bad = request(port, "POST", "/api/v1/admin/symbols", admin, "{");
  CAF_CHECK_EQUAL(bad.code(), "invalid_body");
  auto added = post(admin);
  CAF_CHECK_EQUAL(added.status, 201u);
  CAF_CHECK_EQUAL(db.scalar("SELECT active FROM symbols WHERE symbol = "
                            "'SOLUSDT'"),
    "t");
  auto del
    = request(port, "DELETE", "/api/v1/admin/symbols/binance/SOLUSDT", admin);
  CAF_CHECK_EQUAL(del.status, 200u);
  auto again
    = request(port, "DELETE", "/api/v1/admin/symbols/binance/SOLUSDT", admin);
  CAF_CHECK_EQUAL(again.code(), "unknown_symbol");
  // Without a secret the admin endpoints are off.
  auto o = options();
  o.api.jwt_secret.clear();
  auto port2 = start(o);
  CAF_CHECK_EQUAL(
    request(port2, "POST", "/api/v1/admin/symbols", admin, body).code(),
    "admin_disabled");
}

CAF_TEST(reads can require a token) {
  auto o = options();
  o.api.reads_require_auth = true;
  auto port = start(o);
  CAF_CHECK_EQUAL(get(port, "/api/v1/symbols").status, 401u);
  CAF_CHECK_EQUAL(get(port, "/health").status, 200u);
  auto viewer = bearer(token(api::role::viewer, now_s() + 60, secret));
  CAF_CHECK_EQUAL(get(port, "/api/v1/symbols", viewer).status, 200u);
  ws_client anon{port};
  CAF_CHECK(!anon.ok);
  ws_client with{
    port, "/ws?token=" + token(api::role::viewer, now_s() + 60, secret)};
  CAF_CHECK(with.ok);
}

CAF_TEST(the rate limit answers 429 with Retry - After and counts it) {
  auto o = options();
  o.api.rate_limit_burst = 3;
  o.api.rate_limit_per_second = 0.01;
  auto port = start(o);
  for (int i = 0; i < 3; ++i)
    CAF_CHECK_EQUAL(get(port, "/openapi.json").status, 200u);
  auto limited = get(port, "/openapi.json");
  CAF_CHECK_EQUAL(limited.status, 429u);
  CAF_CHECK_EQUAL(limited.code(), "rate_limited");
  CAF_CHECK_GREATER_OR_EQUAL(std::stoll(limited.headers["Retry-After"]), 1);
  // Liveness and scrapes are never limited; the count reaches /metrics.
  CAF_CHECK_EQUAL(get(port, "/health").status, 200u);
  bool counted = false;
  for (int i = 0; i < 50 && !counted; ++i) {
    auto m = get(port, "/metrics");
    counted
      = m.body.find("rate_limit_exceeded_total{endpoint=\"/openapi.json\"} "
                    "1")
      != std::string::npos;
    if (!counted)
      std::this_thread::sleep_for(100ms);
  }
  CAF_CHECK(counted);
  auto m = get(port, "/metrics");
  CAF_CHECK_NOT_EQUAL(m.body.find("http_requests_total{endpoint=\"/openapi."
                                  "json\",method=\"GET\",status=\"429\"}"),
    std::string::npos);
}

CAF_TEST(cache hit and miss series exist at 0 before the first read) {
  auto port = start();
  // The workers flush their metrics once a second; poll (bounded).
  const std::string pattern = "{key_pattern=\"bars:{exchange}:{symbol}:"
                              "{timeframe}\"} 0";
  bool hits = false;
  bool misses = false;
  for (int i = 0; i < 50 && !(hits && misses); ++i) {
    auto m = get(port, "/metrics");
    hits = m.body.find("cache_hits_total" + pattern) != std::string::npos;
    misses = m.body.find("cache_misses_total" + pattern) != std::string::npos;
    if (!(hits && misses))
      std::this_thread::sleep_for(100ms);
  }
  CAF_CHECK(hits);
  CAF_CHECK(misses);
}

CAF_TEST(metrics are gzipped for a scraper that takes gzip) {
  // Rendered on the I/O thread (as csp run does) and, without
  // metrics_text, by the metrics actor.
  auto port = start();
  auto without = options();
  without.metrics_text = nullptr;
  auto actor_port = start(without);
  auto from_actor = get(actor_port, "/metrics", {{"Accept-Encoding", "gzip"}});
  CAF_REQUIRE_EQUAL(from_actor.status, 200u);
  CAF_CHECK_EQUAL(from_actor.headers["Content-Encoding"], "gzip");
  auto plain = get(port, "/metrics");
  CAF_REQUIRE_EQUAL(plain.status, 200u);
  CAF_CHECK_EQUAL(plain.headers.count("Content-Encoding"), 0u);
  CAF_CHECK_EQUAL(plain.headers["Vary"], "Accept-Encoding");
  CAF_CHECK_EQUAL(
    plain.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8");
  // What Prometheus sends.
  auto gz = get(port, "/metrics", {{"Accept-Encoding", "gzip"}});
  CAF_REQUIRE_EQUAL(gz.status, 200u);
  CAF_CHECK_EQUAL(gz.headers["Content-Encoding"], "gzip");
  CAF_CHECK_EQUAL(gz.headers["Vary"], "Accept-Encoding");
  auto text = api_test::gunzip(gz.body);
  CAF_CHECK_LESS(gz.body.size(), text.size());
  // The same exposition as the plain one (values may have moved between
  // the scrapes; the series have not).
  auto x = test::parse_exposition(text);
  auto y = test::parse_exposition(plain.body);
  auto z = test::parse_exposition(api_test::gunzip(from_actor.body));
  CAF_REQUIRE_EQUAL(x.error, "");
  CAF_REQUIRE_EQUAL(y.error, "");
  CAF_REQUIRE_EQUAL(z.error, "");
  CAF_CHECK_EQUAL(x.types, y.types);
  CAF_CHECK_EQUAL(z.count("metrics_update_errors_total"), 6u);
  CAF_CHECK_EQUAL(x.count("metrics_update_errors_total"), 6u);
  CAF_CHECK_EQUAL(
    x.value("metrics_update_errors_total", {{"reason", "unknown_metric"}}),
    0.0);
  CAF_CHECK_EQUAL(x.count("process_cpu_seconds_total"), 1u);
  // gzip refused by weight: plain text.
  auto refused = get(port, "/metrics", {{"Accept-Encoding", "gzip;q=0"}});
  CAF_CHECK_EQUAL(refused.headers.count("Content-Encoding"), 0u);
  CAF_CHECK(test::parse_exposition(refused.body).error.empty());
}

CAF_TEST(CORS follows the allow - list) {
  auto o = options();
  o.api.cors_origins = {"https://charts.example.com"};
  auto port = start(o);
  auto ok
    = get(port, "/api/v1/symbols", {{"Origin", "https://charts.example.com"}});
  CAF_CHECK_EQUAL(
    ok.headers["Access-Control-Allow-Origin"], "https://charts.example.com");
  auto other
    = get(port, "/api/v1/symbols", {{"Origin", "https://evil.example"}});
  CAF_CHECK_EQUAL(other.headers.count("Access-Control-Allow-Origin"), 0u);
  auto pre = request(port, "OPTIONS", "/api/v1/symbols",
    {{"Origin", "https://charts.example.com"},
      {"Access-Control-Request-Method", "GET"}});
  CAF_CHECK_EQUAL(pre.status, 204u);
  CAF_CHECK_NOT_EQUAL(pre.headers["Access-Control-Allow-Methods"], "");
  auto bad = request(
    port, "OPTIONS", "/api/v1/symbols", {{"Origin", "https://evil.example"}});
  CAF_CHECK_EQUAL(bad.status, 403u);
}

CAF_TEST(the chart page is served with ETags) {
  auto port = start();
  auto page = get(port, "/");
  CAF_REQUIRE_EQUAL(page.status, 200u);
  CAF_CHECK_EQUAL(page.headers["Content-Type"], "text/html; charset=utf-8");
  CAF_CHECK_NOT_EQUAL(page.body.find("<html"), std::string::npos);
  auto etag = page.headers["ETag"];
  CAF_CHECK(!etag.empty());
  auto again = get(port, "/", {{"If-None-Match", etag}});
  CAF_CHECK_EQUAL(again.status, 304u);
  CAF_CHECK(again.body.empty());
}

CAF_TEST(health reports the components) {
  auto port = start();
  auto h = get(port, "/api/v1/health");
  CAF_REQUIRE_EQUAL(h.status, 200u);
  auto j = h.j();
  CAF_CHECK_EQUAL(j["status"], "healthy");
  auto when = j["time"].get<std::string>();
  CAF_CHECK_EQUAL(when.size(), 24u); // 2026-11-25T18:17:43.016Z
  CAF_CHECK_EQUAL(when.back(), 'Z');
  bool ws = false;
  for (const auto& c : j["components"])
    ws = ws || c["component"] == "websocket";
  CAF_CHECK(ws);
}

CAF_TEST(websocket clients get a snapshot then live bars) {
  auto port = start();
  ws_client native{port};
  CAF_REQUIRE(native.ok);
  native.send(R"({"op":"subscribe","symbol":"BTCUSDT","timeframe":"1h"})");
  auto ack = native.next();
  CAF_CHECK_EQUAL(ack["type"], "subscribed");
  auto snap = native.next();
  CAF_REQUIRE_EQUAL(snap["type"], "snapshot");
  CAF_REQUIRE_EQUAL(snap["bars"].size(), bars.size());
  for (std::size_t i = 0; i < bars.size(); ++i)
    CAF_CHECK_EQUAL(decoded(snap["bars"][i]), bars[i]);
  ws_client binance{port};
  CAF_REQUIRE(binance.ok);
  binance.send(
    R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1h"],"id":7})");
  auto result = binance.next();
  CAF_CHECK_EQUAL(result["id"], 7);
  CAF_CHECK(result.contains("result") && result["result"].is_null());
  // A new closed bar reaches both, at once.
  auto next_bar = make_bar(30);
  push({next_bar});
  auto live = native.until([](const json& m) { return m["type"] == "bar"; });
  CAF_REQUIRE(!live.is_discarded());
  CAF_CHECK_EQUAL(decoded(live["bar"]), next_bar);
  CAF_CHECK_EQUAL(live["bar"]["indicators"]["vwap"].get<double>(),
    make_ind(next_bar).get(indicator::vwap));
  auto kline
    = binance.until([](const json& m) { return m.value("e", "") == "kline"; });
  CAF_REQUIRE(!kline.is_discarded());
  CAF_CHECK_EQUAL(kline["s"], "BTCUSDT");
  CAF_CHECK_EQUAL(kline["k"]["t"].get<std::int64_t>(), next_bar.open_time_ms);
  CAF_CHECK_EQUAL(kline["k"]["T"].get<std::int64_t>(), next_bar.close_time_ms);
  CAF_CHECK_EQUAL(kline["k"]["i"], "1h");
  CAF_CHECK_EQUAL(kline["k"]["x"], true);
  CAF_CHECK_EQUAL(kline["k"]["n"].get<std::int64_t>(), next_bar.trade_count);
  // 42000 + 30 (the bar's index), 8 decimals as Binance prints them.
  CAF_CHECK_EQUAL(kline["k"]["c"], "42030.12345678");
  // Forming updates are conflated: of three sent at once, the first goes
  // out at once and the newest after the interval; the middle one never.
  auto forming = make_bar(31, false);
  for (int i = 0; i < 3; ++i) {
    forming.close.units += 100'000'000;
    forming.trade_count = 100 + i;
    push({forming});
  }
  auto f1 = native.until([](const json& m) { return m["type"] == "bar"; });
  auto f2 = native.until([](const json& m) { return m["type"] == "bar"; });
  CAF_REQUIRE(!f1.is_discarded() && !f2.is_discarded());
  CAF_CHECK_EQUAL(f1["bar"]["closed"], false);
  CAF_CHECK_EQUAL(f1["bar"]["trade_count"].get<std::int64_t>(), 100);
  CAF_CHECK_EQUAL(f2["bar"]["trade_count"].get<std::int64_t>(), 102);
  // Errors keep the connection open.
  native.send(R"({"op":"subscribe","symbol":"NOPE","timeframe":"1m"})");
  auto err = native.until([](const json& m) { return m["type"] == "error"; });
  CAF_CHECK_EQUAL(err["code"], "unknown_symbol");
  native.send(R"({"op":"ping"})");
  auto pong = native.until([](const json& m) { return m["type"] == "pong"; });
  CAF_CHECK(!pong.is_discarded());
}

CAF_TEST(a slow websocket client is dropped and the others keep up) {
  auto o = options();
  // 2,048 waiting messages (plus as many in the socket queue) let a
  // reading client ride out a scheduling hiccup of most of a second on a
  // loaded machine; the slow one still overflows long before 20,000.
  o.api.ws_queue_limit = 2048;
  auto port = start(o);
  ws_client slow{port, "/ws", 4096};
  ws_client fast{port};
  CAF_REQUIRE(slow.ok && fast.ok);
  for (auto* c : {&slow, &fast}) {
    c->send(R"({"op":"subscribe","symbol":"BTCUSDT","timeframe":"1h"})");
    c->until([](const json& m) { return m["type"] == "snapshot"; });
  }
  // 20,000 closed bars (~15 MB): more than the slow client's socket
  // buffers and queues hold. The fast client reads them all, in order.
  constexpr int total = 20000;
  std::thread producer{[&] {
    // Bursts of 10 bars, about 5,000 bars/s: a reading client keeps up.
    for (int k = 0; k < total / 10; ++k) {
      std::vector<bar> chunk;
      for (int i = 0; i < 10; ++i)
        chunk.push_back(make_bar(100 + k * 10 + i));
      push(chunk);
      std::this_thread::sleep_for(2ms);
    }
  }};
  std::int64_t expect_open = make_bar(100).open_time_ms;
  int got = 0;
  bool in_order = true;
  // Raw frames, no JSON parsing: the reader is quick, as a real client's
  // network loop is.
  while (got < total) {
    fast.buf.consume(fast.buf.size());
    boost::system::error_code rec;
    fast.ws.read(fast.buf, rec);
    if (rec)
      break;
    auto text = beast::buffers_to_string(fast.buf.data());
    if (text.find(R"("type":"bar")") == std::string::npos)
      continue;
    auto want = R"("open_time":)" + std::to_string(expect_open) + ",";
    in_order = in_order && text.find(want) != std::string::npos;
    expect_open += hour;
    ++got;
  }
  producer.join();
  CAF_CHECK_EQUAL(got, total);
  CAF_CHECK(in_order);
  // The slow client was closed with a reason after what it had queued.
  int read = 0;
  boost::system::error_code ec;
  for (; read < total + 10; ++read) {
    slow.buf.consume(slow.buf.size());
    slow.ws.read(slow.buf, ec);
    if (ec)
      break;
  }
  // Its socket was too full for the close frame to get through before the
  // close timeout, so the server cut the connection; either way it ended
  // early.
  CAF_MESSAGE(
    "slow client read " << read << " messages, then: " << ec.message());
  CAF_CHECK(ec == websocket::error::closed || ec == asio::error::eof
    || ec == asio::error::connection_reset);
  if (ec == websocket::error::closed)
    CAF_CHECK_EQUAL(static_cast<int>(slow.ws.reason().code), 1008);
  CAF_CHECK_LESS(read, total);
}

CAF_TEST_FIXTURE_SCOPE_END()
