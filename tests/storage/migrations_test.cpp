#define CAF_SUITE storage.migrations
#include "caf/test/unit_test.hpp"

#include <algorithm>

#include <pqxx/pqxx>

#include "storage/migrations.hpp"
#include "tests/storage/pg_test_db.hpp"

using namespace csp;
using namespace csp::storage;

CAF_TEST(migration file names) {
  auto m = parse_migration_name("0001_tables.sql");
  CAF_REQUIRE(m.has_value());
  CAF_CHECK_EQUAL(m->version, 1);
  CAF_CHECK_EQUAL(m->name, "tables");
  CAF_CHECK(!m->only_in.has_value());
  auto t = parse_migration_name("0012_hyper_tables.timescale.sql");
  CAF_REQUIRE(t.has_value());
  CAF_CHECK_EQUAL(t->version, 12);
  CAF_CHECK(t->only_in == schema_mode::timescale);
  auto p = parse_migration_name("0003_x.plain.sql");
  CAF_REQUIRE(p.has_value());
  CAF_CHECK(p->only_in == schema_mode::plain);
  for (auto bad :
    {"0001_tables.txt", "001_tables.sql", "0000_zero.sql", "00a1_x.sql",
      "0001-tables.sql", "0001_Tables.sql", "0001_.sql", "0001_x.other.sql"})
    if (parse_migration_name(bad).has_value())
      CAF_FAIL("accepted bad migration name " << bad);
}

CAF_TEST(embedded migrations are ordered and timescale drops partitioning) {
  auto ms = embedded_migrations();
  CAF_REQUIRE_GREATER_OR_EQUAL(ms.size(), 2u);
  CAF_CHECK_EQUAL(ms.front().version, 1);
  for (std::size_t i = 1; i < ms.size(); ++i)
    CAF_CHECK_LESS_OR_EQUAL(ms[i - 1].version, ms[i].version);
  const auto& tables = ms.front();
  CAF_CHECK_NOT_EQUAL(
    tables.sql.find("PARTITION BY RANGE (time)"), std::string::npos);
  auto ts = sql_for(tables, schema_mode::timescale);
  CAF_CHECK_EQUAL(ts.find("PARTITION BY"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(ts.find("CREATE TABLE candles"), std::string::npos);
  CAF_CHECK_EQUAL(sql_for(tables, schema_mode::plain), tables.sql);
  // The features table: partitioned in plain mode, a hypertable made by a
  // timescale-only step otherwise.
  auto features = std::find_if(ms.begin(), ms.end(),
    [](const migration& m) { return m.name == "features" && !m.only_in; });
  CAF_REQUIRE(features != ms.end());
  CAF_CHECK_EQUAL(
    sql_for(*features, schema_mode::timescale).find("PARTITION BY"),
    std::string::npos);
  auto hyper = std::find_if(ms.begin(), ms.end(), [](const migration& m) {
    return m.only_in == schema_mode::timescale
      && m.sql.find("create_hypertable('features'") != std::string::npos;
  });
  CAF_CHECK(hyper != ms.end());
}

namespace {

/// The primary key's columns of `table`, comma-separated in key order.
std::string primary_key(const test::test_database& db, const char* table) {
  return db.scalar(std::string{"SELECT string_agg(a.attname, ',' ORDER BY k.n)"
                               " FROM pg_index i, unnest(i.indkey) WITH"
                               " ORDINALITY k(attnum, n), pg_attribute a"
                               " WHERE i.indrelid = '"}
    + table
    + "'::regclass AND i.indisprimary AND a.attrelid = i.indrelid"
      " AND a.attnum = k.attnum");
}

} // namespace

CAF_TEST(a fresh database is migrated once in plain mode) {
  test::test_database db{"migr", false};
  pqxx::connection c{db.settings().conninfo()};
  CAF_REQUIRE(!timescale_available(c)); // Debian 12 has no package
  auto first = migrate(c);
  CAF_CHECK(first.mode == schema_mode::plain);
  // The timescale-only versions are skipped in plain mode.
  CAF_CHECK_EQUAL(first.applied,
    (std::vector<std::string>{"0001_tables", "0003_features", "0005_symbol_ids",
      "0007_trades_symbol_key"}));
  CAF_CHECK_EQUAL(first.version, 7);
  // Every table exists; the time-series ones are range-partitioned.
  for (auto table :
    {"symbols", "trades", "candles", "indicators", "data_quality", "features"})
    CAF_CHECK_EQUAL(
      db.scalar(std::string{"SELECT to_regclass('"} + table + "') IS NOT NULL"),
      "t");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM pg_partitioned_table"), "5");
  for (auto table : {"candles", "features"})
    CAF_CHECK_EQUAL(primary_key(db, table), "exchange,symbol,timeframe,time");
  CAF_CHECK_EQUAL(primary_key(db, "trades"), "symbol_id,trade_id,time");
  auto second = migrate(c);
  CAF_CHECK(second.applied.empty());
  CAF_CHECK_EQUAL(second.version, 7);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM schema_migrations"), "4");
  // The recorded mode wins over a different preference.
  CAF_CHECK(test::throws<std::runtime_error>(
    [&] { migrate(c, schema_mode::timescale); }));
}

CAF_TEST(a failing migration leaves no trace) {
  test::test_database db{"migr_fail", false};
  pqxx::connection c{db.settings().conninfo()};
  // TimescaleDB is not installed: its first migration fails as a whole.
  try {
    migrate(c, schema_mode::timescale);
    CAF_FAIL("migrating in timescale mode without the extension succeeded");
  } catch (const std::runtime_error& e) {
    CAF_CHECK_NOT_EQUAL(
      std::string{e.what()}.find("0002_timescale"), std::string::npos);
  }
  CAF_CHECK_EQUAL(db.scalar("SELECT string_agg(version::text, ',')"
                            " FROM schema_migrations"),
    "1");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM pg_extension"
                            " WHERE extname = 'timescaledb'"),
    "0");
}

CAF_TEST(stored trades get symbol ids when the trades key changes) {
  test::test_database db{"migr_ids", false};
  pqxx::connection c{db.settings().conninfo()};
  // The schema before symbol ids (versions 1-4 in plain mode), with trades
  // of a registered and of an unregistered instrument.
  {
    pqxx::work tx{c};
    tx.exec("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, mode text NOT NULL, applied_at timestamptz"
            " NOT NULL DEFAULT now())");
    for (const auto& m : embedded_migrations()) {
      if (m.version > 4 || m.only_in == schema_mode::timescale)
        continue;
      tx.exec(sql_for(m, schema_mode::plain));
      tx.exec_params("INSERT INTO schema_migrations (version, name, mode)"
                     " VALUES ($1, $2, 'plain')",
        m.version, m.name);
    }
    tx.exec("CREATE TABLE trades_d PARTITION OF trades DEFAULT");
    tx.exec("INSERT INTO symbols (exchange, symbol) VALUES ('binance',"
            " 'ETHUSDT'), ('binance', 'BTCUSDT')");
    tx.exec("INSERT INTO trades (time, exchange, symbol, trade_id, price,"
            " quantity, buyer_is_maker) SELECT '2025-01-01'::timestamptz"
            " + n * interval '1 ms', 'binance', s, n, 1, 1, true FROM"
            " generate_series(1, 50) n, unnest(ARRAY['BTCUSDT', 'ETHUSDT',"
            " 'SOLUSDT']) s");
    tx.commit();
  }
  CAF_REQUIRE_EQUAL(primary_key(db, "trades"), "exchange,symbol,trade_id,time");
  auto r = migrate(c);
  CAF_CHECK_EQUAL(r.applied,
    (std::vector<std::string>{"0005_symbol_ids", "0007_trades_symbol_key"}));
  CAF_CHECK_EQUAL(primary_key(db, "trades"), "symbol_id,trade_id,time");
  // Registered instruments keep their rows, ids in insertion order; the
  // unregistered one is added; every trade carries its instrument's id.
  CAF_CHECK_EQUAL(db.scalar("SELECT string_agg(symbol || '=' || id, ','"
                            " ORDER BY id) FROM symbols"),
    "ETHUSDT=1,BTCUSDT=2,SOLUSDT=3");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades t JOIN symbols s"
                            " ON s.id = t.symbol_id AND s.exchange ="
                            " t.exchange AND s.symbol = t.symbol"),
    "150");
  // The key still refuses a trade stored twice.
  CAF_CHECK(test::throws<pqxx::unique_violation>([&] {
    pqxx::work tx{c};
    tx.exec("INSERT INTO trades SELECT * FROM trades LIMIT 1");
    tx.commit();
  }));
}
