#define CAF_SUITE storage.history
#include "caf/test/unit_test.hpp"

#include "storage/copy_batch.hpp"
#include "storage/history.hpp"
#include "storage/pg_store.hpp"
#include "tests/storage/pg_test_db.hpp"
#include "tests/storage/redis_test_support.hpp"

using namespace csp;
using namespace csp::messages;
using namespace csp::storage;

namespace {

constexpr std::int64_t t0 = 1764028800000; // 2025-11-25T00:00:00Z
constexpr std::int64_t hour = 3'600'000;

std::vector<bar> stored_bars(pg_store& store, int n) {
  std::vector<bar> out;
  copy_batch cb;
  cb.table = table_kind::candles;
  for (int i = 0; i < n; ++i) {
    bar b;
    b.exchange = "binance";
    b.symbol = "BTCUSDT";
    b.tf = timeframe::h1;
    b.open_time_ms = t0 + i * hour;
    b.close_time_ms = b.open_time_ms + hour - 1;
    b.open.units = b.high.units = b.low.units = b.close.units
      = 4'200'000'000'000 + i;
    b.volume.units = 100 + i;
    b.trade_count = 1;
    b.closed = true;
    append_candle(cb, b);
    out.push_back(b);
  }
  store.write(cb);
  return out;
}

struct fixture {
  test::test_database db{"history"};
  pg_store store{db.settings()};
  std::string prefix = test::unique_prefix("history");
  redis_client redis{test::redis_test_options()};

  fixture() {
    store.upsert_symbols({{"binance", "BTCUSDT", "crypto"}});
    redis.connect();
  }

  ~fixture() { test::delete_prefix(redis, prefix); }

  history_options options() {
    history_options o;
    o.cache.prefix = prefix;
    // The range below reaches "now", so a miss may refill an empty key.
    o.cache.now_ms = [] { return t0 + 48 * hour; };
    return o;
  }

  std::int64_t keys() {
    auto r = redis.command({"KEYS", prefix + "*"});
    return r && r->is_array() ? static_cast<std::int64_t>(r->elements.size())
                              : -1;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(history_tests, fixture)

CAF_TEST(bad requests are refused before SQL or Redis) {
  history_reader h{db.settings(), test::redis_test_options(), options()};
  auto r = h.bars("binance", "DOGEUSDT", "1h", t0, t0 + hour, 10);
  CAF_CHECK(r.error == history_errc::unknown_symbol);
  r = h.bars("binance", "BTC'; DROP TABLE candles;--", "1h", t0, t0, 10);
  CAF_CHECK(r.error == history_errc::unknown_symbol);
  r = h.bars("binance", "BTCUSDT", "2h", t0, t0, 10);
  CAF_CHECK(r.error == history_errc::invalid_request);
  CAF_CHECK_NOT_EQUAL(r.message.find("unknown timeframe"), std::string::npos);
  r = h.bars("binance", "BTCUSDT", "1h", t0, t0, 0);
  CAF_CHECK(r.error == history_errc::invalid_request);
  r = h.bars("binance", "BTCUSDT", "1h", t0, t0, 1001);
  CAF_CHECK(r.error == history_errc::invalid_request);
  r = h.bars("binance", "BTCUSDT", "1h", t0 + 1, t0, 10);
  CAF_CHECK(r.error == history_errc::invalid_request);
  CAF_CHECK_EQUAL(keys(), 0); // nothing reached Redis
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM candles"), "0");
}

CAF_TEST(a symbol resolves to the exchange listing it) {
  history_reader h{db.settings(), test::redis_test_options(), options()};
  CAF_CHECK_EQUAL(h.exchange_of("BTCUSDT").value_or("none"), "binance");
  CAF_CHECK(!h.exchange_of("DOGEUSDT").has_value());
  CAF_CHECK(!h.exchange_of("btcusdt").has_value());
}

CAF_TEST(a miss reads PostgreSQL and refills Redis and the next read hits) {
  auto bars = stored_bars(store, 24);
  history_reader h{db.settings(), test::redis_test_options(), options()};
  auto first = h.bars("binance", "BTCUSDT", "1h", t0, t0 + 48 * hour, 500);
  CAF_REQUIRE(!first.error);
  CAF_CHECK_EQUAL(first.bars, bars);
  auto s1 = h.take_stats();
  CAF_CHECK_EQUAL(s1.misses, 1u);
  CAF_CHECK_EQUAL(s1.hits, 0u);
  CAF_CHECK_EQUAL(s1.refilled_bars, 24u);
  CAF_CHECK_EQUAL(keys(), 1);
  auto second
    = h.bars("binance", "BTCUSDT", "1h", t0 + 2 * hour, t0 + 10 * hour, 5);
  CAF_CHECK(!second.error);
  CAF_CHECK_EQUAL(
    second.bars, std::vector<bar>(bars.begin() + 6, bars.begin() + 11));
  auto s2 = h.take_stats();
  CAF_CHECK_EQUAL(s2.hits, 1u);
  CAF_CHECK_EQUAL(s2.misses, 0u);
}

CAF_TEST(with Redis down reads fall back to PostgreSQL) {
  auto bars = stored_bars(store, 5);
  auto down = test::redis_test_options();
  down.endpoint.port = test::free_port();
  history_reader h{db.settings(), down, options()};
  auto r = h.bars("binance", "BTCUSDT", "1h", t0, t0 + 48 * hour, 500);
  CAF_REQUIRE(!r.error);
  CAF_CHECK_EQUAL(r.bars, bars);
  auto s = h.take_stats();
  CAF_CHECK_EQUAL(s.misses, 1u);
  CAF_CHECK_GREATER_OR_EQUAL(s.errors, 1u);
}

CAF_TEST(with both down the answer is unavailable and not empty) {
  auto down = test::redis_test_options();
  down.endpoint.port = test::free_port();
  history_reader h{db.settings(), down, options()};
  CAF_CHECK(h.known_symbol("binance", "BTCUSDT")); // table read while up
  // The database goes away for this database: no connections accepted.
  {
    auto admin = test::server_settings().with_dbname("postgres");
    pqxx::connection c{admin.conninfo()};
    pqxx::nontransaction tx{c};
    tx.exec("ALTER DATABASE " + tx.quote_name(db.settings().dbname)
      + " ALLOW_CONNECTIONS false");
    tx.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                   " WHERE datname = $1",
      db.settings().dbname);
  }
  auto r = h.bars("binance", "BTCUSDT", "1h", t0, t0 + hour, 10);
  CAF_CHECK(r.error == history_errc::unavailable);
  CAF_CHECK(r.bars.empty());
  auto admin = test::server_settings().with_dbname("postgres");
  pqxx::connection c{admin.conninfo()};
  pqxx::nontransaction tx{c};
  tx.exec("ALTER DATABASE " + tx.quote_name(db.settings().dbname)
    + " ALLOW_CONNECTIONS true");
}

CAF_TEST_FIXTURE_SCOPE_END()
