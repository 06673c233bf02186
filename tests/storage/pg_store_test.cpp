#define CAF_SUITE storage.pg_store
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string_view>

#include <pqxx/pqxx>

#include "messages/calendar.hpp"
#include "storage/copy_batch.hpp"
#include "storage/pg_store.hpp"
#include "tests/storage/pg_test_db.hpp"

using namespace csp;
using namespace csp::messages;
using namespace csp::storage;

namespace {

constexpr std::int64_t t0 = 1764028800000; // 2025-11-25T00:00:00Z
constexpr std::int64_t minute = 60'000;

bar make_bar(const std::string& symbol, std::int64_t open_ms, std::int64_t px,
  std::int32_t revision = 0) {
  bar b;
  b.exchange = "binance";
  b.symbol = symbol;
  b.tf = timeframe::m1;
  b.open_time_ms = open_ms;
  b.close_time_ms = open_ms + minute - 1;
  b.open.units = px;
  b.high.units = px + 150'000'000;
  b.low.units = px - 1;
  b.close.units = px + 12'345'678;
  // Beyond int64 range in units: exercises the 128-bit volume path.
  b.volume.units
    = static_cast<int128>(std::numeric_limits<std::int64_t>::max()) * 3 + 7;
  b.quote_volume.units = 123'456'789'012;
  b.taker_buy_volume.units = 5;
  b.taker_buy_quote_volume.units = 0;
  b.trade_count = 42 + revision;
  b.first_trade_id = 1000;
  b.last_trade_id = 1041 + revision;
  b.revision = revision;
  b.closed = true;
  return b;
}

copy_batch candles(const std::vector<bar>& bars) {
  copy_batch b;
  b.table = table_kind::candles;
  for (const auto& x : newest_revisions(bars))
    append_candle(b, x);
  return b;
}

candle_query query(const std::string& symbol) {
  candle_query q;
  q.exchange = "binance";
  q.symbol = symbol;
  q.tf = timeframe::m1;
  return q;
}

} // namespace

CAF_TEST(candles round - trip exactly and replays change nothing) {
  test::test_database db{"store_candles"};
  pg_store store{db.settings()};
  std::vector<bar> bars;
  for (int i = 0; i < 5; ++i)
    bars.push_back(make_bar("BTCUSDT", t0 + i * minute, 5'000'012'345'678 + i));
  auto batch = candles(bars);
  CAF_CHECK_EQUAL(store.write(batch), 5u);
  CAF_CHECK_EQUAL(store.load_candles(query("BTCUSDT")), bars);
  // The same batch again: no row inserted or changed.
  CAF_CHECK_EQUAL(store.write(batch), 0u);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM candles"), "5");
  // The database holds the exact decimal text.
  CAF_CHECK_EQUAL(db.scalar("SELECT close::text FROM candles ORDER BY time"
                            " LIMIT 1"),
    "50000.24691356");
  CAF_CHECK_EQUAL(db.scalar("SELECT volume::text FROM candles LIMIT 1"),
    "276701161105.64327428");
  // Range and limit: the newest `limit` bars of the range, oldest first.
  auto q = query("BTCUSDT");
  q.start_ms = t0 + minute;
  q.end_ms = t0 + 3 * minute;
  q.limit = 2;
  auto some = store.load_candles(q);
  CAF_REQUIRE_EQUAL(some.size(), 2u);
  CAF_CHECK_EQUAL(some[0], bars[2]);
  CAF_CHECK_EQUAL(some[1], bars[3]);
  CAF_CHECK(store.load_candles(query("ETHUSDT")).empty());
  CAF_CHECK_EQUAL(store.last_candle_time("binance", "BTCUSDT", timeframe::m1),
    std::optional<std::int64_t>{t0 + 4 * minute});
  CAF_CHECK(!store.last_candle_time("binance", "BTCUSDT", timeframe::h1));
}

CAF_TEST(a revision overwrites its bar and an older one never does) {
  test::test_database db{"store_revisions"};
  pg_store store{db.settings()};
  auto r0 = make_bar("ETHUSDT", t0, 300'000'000'000, 0);
  auto r1 = make_bar("ETHUSDT", t0, 300'100'000'000, 1);
  auto r2 = make_bar("ETHUSDT", t0, 300'200'000'000, 2);
  CAF_CHECK_EQUAL(store.write(candles({r0})), 1u);
  CAF_CHECK_EQUAL(store.write(candles({r2})), 1u);
  CAF_CHECK_EQUAL(store.write(candles({r1})), 0u); // late replay of rev 1
  CAF_CHECK_EQUAL(store.load_candles(query("ETHUSDT")), std::vector<bar>{r2});
  // Several revisions of one bar in one batch: the newest wins (one upsert
  // statement may not touch a row twice, so the batch is de-duplicated).
  auto r3 = make_bar("ETHUSDT", t0, 300'300'000'000, 3);
  auto r4 = make_bar("ETHUSDT", t0, 300'400'000'000, 4);
  auto batch = candles({r4, r3});
  CAF_CHECK_EQUAL(batch.row_count, 1u);
  CAF_CHECK_EQUAL(store.write(batch), 1u);
  CAF_CHECK_EQUAL(store.load_candles(query("ETHUSDT")), std::vector<bar>{r4});
}

CAF_TEST(trades are archived once even when a batch repeats) {
  test::test_database db{"store_trades"};
  pg_store store{db.settings()};
  trade_batch tb;
  tb.exchange = "binance";
  tb.symbol = "BTCUSDT";
  for (int i = 0; i < 100; ++i) {
    trade t;
    t.id = 500 + i;
    t.price.units = 4'200'000'000'000 + i;
    t.quantity.units = 1'000 * (i + 1);
    t.trade_time_ms = t0 - 50 + i; // spans midnight: two daily partitions
    t.event_time_ms = t.trade_time_ms + 1;
    t.buyer_is_maker = i % 2 == 0;
    tb.trades.push_back(t);
  }
  // The writers' path: the symbol's id (registered on first use), then
  // one COPY.
  CAF_CHECK(!store.known_symbol_id("binance", "BTCUSDT"));
  auto id = store.symbol_id("binance", "BTCUSDT");
  CAF_CHECK_EQUAL(store.known_symbol_id("binance", "BTCUSDT"), id);
  CAF_CHECK_EQUAL(db.scalar("SELECT id FROM symbols WHERE exchange ="
                            " 'binance' AND symbol = 'BTCUSDT'"),
    std::to_string(id));
  CAF_CHECK_EQUAL(store.symbol_id("binance", "ETHUSDT"), id + 1);
  copy_batch b;
  append_trades(b, tb, id);
  CAF_CHECK(b.table == table_kind::trades_by_id);
  CAF_CHECK_EQUAL(store.write(b), 100u);
  CAF_CHECK_EQUAL(
    db.scalar("SELECT count(DISTINCT tableoid) FROM trades"), "2");
  // A replay that overlaps stored trades, naming its instrument (as older
  // spool records do): only the new ones are added, with the same id.
  trade_batch more = tb;
  trade extra = tb.trades.back();
  extra.id += 1;
  extra.trade_time_ms += 1;
  more.trades.push_back(extra);
  copy_batch b2;
  append_trades(b2, more);
  CAF_CHECK(b2.table == table_kind::trades);
  CAF_CHECK_EQUAL(store.write(b2), 1u);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades"), "101");
  CAF_CHECK_EQUAL(db.scalar("SELECT string_agg(DISTINCT symbol_id::text, ',')"
                            " FROM trades"),
    std::to_string(id));
  // The same rows again by id: nothing changes.
  copy_batch b3;
  append_trades(b3, more, id);
  CAF_CHECK_EQUAL(store.write(b3), 0u);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades"), "101");
  // Named rows of an instrument without a row in `symbols` register it.
  trade_batch fresh{"binance", "SOLUSDT", {tb.trades.front()}};
  copy_batch b4;
  append_trades(b4, fresh);
  CAF_CHECK_EQUAL(store.write(b4), 1u);
  CAF_CHECK_EQUAL(db.scalar("SELECT t.symbol_id = s.id FROM trades t JOIN"
                            " symbols s USING (exchange, symbol)"
                            " WHERE t.symbol = 'SOLUSDT'"),
    "t");
  // A batch holds one kind of trade rows.
  CAF_CHECK(
    test::throws<std::invalid_argument>([&] { append_trades(b4, fresh, id); }));
  CAF_CHECK_EQUAL(db.scalar("SELECT price::text || ' ' || quantity::text || ' '"
                            " || buyer_is_maker || ' ' ||"
                            " (extract(epoch FROM event_time) * 1000)::bigint"
                            " FROM trades WHERE trade_id = 501"),
    "42000.00000001 0.00002 false " + std::to_string(t0 - 50 + 1 + 1));
}

CAF_TEST(indicators keep nulls and quality reports keep their checks) {
  test::test_database db{"store_misc"};
  pg_store store{db.settings()};
  indicator_snapshot s;
  s.exchange = "binance";
  s.symbol = "BTCUSDT";
  s.tf = timeframe::h1;
  s.open_time_ms = t0;
  s.closed = true;
  s.values.fill(std::numeric_limits<double>::quiet_NaN());
  s.values[0] = 0.1; // sma_20: not exactly representable
  s.values[18] = 49999.123456789;
  copy_batch b;
  b.table = table_kind::indicators;
  append_indicators(b, s);
  CAF_CHECK_EQUAL(store.write(b), 1u);
  CAF_CHECK_EQUAL(store.write(b), 1u); // upsert: rewritten, still one row
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM indicators"), "1");
  CAF_CHECK_EQUAL(
    db.scalar("SELECT sma_20 = 0.1::float8 FROM indicators"), "t");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM indicators WHERE rsi_14 IS"
                            " NULL AND macd IS NULL AND vwap IS NOT NULL"),
    "1");
  quality_report rep;
  rep.exchange = "binance";
  rep.symbol = "BTCUSDT";
  rep.time_ms = t0 + 5000;
  rep.window_ms = 300'000;
  rep.score = 87.5;
  rep.observations = 1200;
  rep.failed_checks = {{"id_gap", 3}, {"duplicate", 2}};
  rep.recent_issues
    = {{"id_gap", "ids 101..103 missing\tand a \"quote\"", 101, t0 + 4000}};
  copy_batch q;
  q.table = table_kind::data_quality;
  append_quality(q, rep);
  CAF_CHECK_EQUAL(store.write(q), 1u);
  CAF_CHECK_EQUAL(db.scalar("SELECT score || ' ' || (failed_checks->>'id_gap')"
                            " || ' ' || (recent_issues->0->>'detail')"
                            " FROM data_quality"),
    "87.5 3 ids 101..103 missing\tand a \"quote\"");
  // Read back: the newest report, every field.
  auto back = store.load_quality("binance", "BTCUSDT");
  CAF_REQUIRE(back.has_value());
  auto sorted = [](std::vector<quality_check_count> xs) {
    std::sort(xs.begin(), xs.end(),
      [](const auto& x, const auto& y) { return x.check_type < y.check_type; });
    return xs;
  };
  back->failed_checks = sorted(back->failed_checks);
  rep.failed_checks = sorted(rep.failed_checks);
  CAF_CHECK_EQUAL(*back, rep);
  CAF_CHECK(!store.load_quality("binance", "ETHUSDT").has_value());
  // Indicators read back with their nulls, in range, oldest first.
  auto later = s;
  later.open_time_ms = t0 + 3'600'000;
  later.values[0] = 0.2;
  copy_batch b2;
  b2.table = table_kind::indicators;
  append_indicators(b2, later);
  store.write(b2);
  candle_query iq;
  iq.exchange = "binance";
  iq.symbol = "BTCUSDT";
  iq.tf = timeframe::h1;
  auto all = store.load_indicators(iq);
  CAF_REQUIRE_EQUAL(all.size(), 2u);
  CAF_CHECK_EQUAL(all[0], s);
  CAF_CHECK_EQUAL(all[1], later);
  iq.limit = 1;
  auto newest = store.load_indicators(iq);
  CAF_REQUIRE_EQUAL(newest.size(), 1u);
  CAF_CHECK_EQUAL(newest[0].open_time_ms, later.open_time_ms);
  iq.limit = 10;
  iq.end_ms = t0;
  CAF_CHECK_EQUAL(store.load_indicators(iq).size(), 1u);
  iq.tf = timeframe::m1;
  CAF_CHECK(store.load_indicators(iq).empty());
}

CAF_TEST(feature vectors round - trip with nulls and upsert idempotently) {
  test::test_database db{"store_features"};
  pg_store store{db.settings()};
  feature_vector fv;
  fv.exchange = "binance";
  fv.symbol = "ETHUSDT";
  fv.tf = timeframe::m5;
  fv.open_time_ms = t0 + 5 * minute;
  fv.closed = true;
  for (std::size_t i = 0; i < feature_count; ++i)
    fv.values[i] = -0.5 + static_cast<double>(i) / 7.0;
  fv.values[0] = std::numeric_limits<double>::quiet_NaN();
  fv.values[2] = 1e-300;
  fv.values[14] = std::numeric_limits<double>::quiet_NaN();
  auto batch_of = [](const std::vector<feature_vector>& xs) {
    copy_batch b;
    b.table = table_kind::features;
    for (const auto& x : newest_features(xs))
      append_features(b, x);
    return b;
  };
  // Every column as stored: its text, or NULL.
  auto stored = [&](const feature_vector& x) {
    std::vector<std::string> out;
    for (auto name : feature_names)
      out.push_back(db.scalar("SELECT coalesce(" + std::string{name}
        + "::text, 'NULL') FROM features WHERE exchange = 'binance'"
          " AND symbol = 'ETHUSDT' AND timeframe = '5m' AND time = '"
        + utc_ms_text(x.open_time_ms) + "'"));
    return out;
  };
  auto check_exact = [&](const feature_vector& x) {
    auto texts = stored(x);
    for (std::size_t i = 0; i < feature_count; ++i) {
      CAF_MESSAGE(feature_names[i] << " = " << texts[i]);
      if (std::isnan(x.values[i]))
        CAF_CHECK_EQUAL(texts[i], "NULL");
      else
        CAF_CHECK(texts[i] != "NULL"
          && std::strtod(texts[i].c_str(), nullptr) == x.values[i]);
    }
  };
  CAF_CHECK_EQUAL(store.write(batch_of({fv})), 1u);
  check_exact(fv);
  // A replay changes nothing; a revision of the bar replaces its values.
  store.write(batch_of({fv}));
  auto revised = fv;
  revised.values[0] = 0.015;
  revised.values[5] = std::numeric_limits<double>::quiet_NaN();
  // Two versions in one batch: the last one wins.
  store.write(batch_of({fv, revised}));
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM features"), "1");
  check_exact(revised);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM features"
                            " WHERE updated_at IS NOT NULL"),
    "1");
}

CAF_TEST(an unreachable server is a connection error) {
  auto settings = test::server_settings();
  settings.port = 1; // nothing listens there
  settings.connect_timeout_s = 2;
  pg_store store{settings};
  try {
    store.connect();
    CAF_FAIL("connected to port 1");
  } catch (const pg_error& e) {
    CAF_CHECK_EQUAL(e.error_type(), "connection");
    CAF_CHECK(e.transient());
  }
  CAF_CHECK(!store.connected());
  // A database without the schema says what to do.
  test::test_database db{"store_noschema", false};
  pg_store bare{db.settings()};
  try {
    bare.connect();
    CAF_FAIL("connected to a database without schema");
  } catch (const pg_error& e) {
    CAF_CHECK_NOT_EQUAL(
      std::string{e.what()}.find("csp migrate"), std::string::npos);
  }
}

CAF_TEST(symbols are registered once and checked by the table) {
  test::test_database db{"store_symbols"};
  pg_store store{db.settings()};
  store.upsert_symbols({{"binance", "BTCUSDT", "crypto"},
    {"yahoo", "BRK-B", "stock"}, {"yahoo", "^GSPC", "stock"}});
  store.upsert_symbols({{"binance", "BTCUSDT", "crypto"}});
  auto rows = store.load_symbols();
  CAF_REQUIRE_EQUAL(rows.size(), 3u);
  CAF_CHECK_EQUAL(rows[0].symbol, "BTCUSDT");
  CAF_CHECK_EQUAL(rows[1].symbol, "BRK-B");
  CAF_CHECK_EQUAL(rows[2].asset_class, "stock");
  // Injection attempts and lower case never reach the table.
  for (auto bad : {"BTC'; DROP TABLE candles; --", "btcusdt", ""}) {
    try {
      store.upsert_symbols({{"binance", bad, "crypto"}});
      CAF_FAIL("stored symbol " << bad);
    } catch (const pg_error& e) {
      CAF_CHECK_EQUAL(e.error_type(), "constraint");
    }
  }
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM symbols"), "3");
  // Deactivation hides a symbol until it is added again.
  CAF_CHECK(store.deactivate_symbol("yahoo", "BRK-B"));
  CAF_CHECK(!store.deactivate_symbol("yahoo", "BRK-B"));
  CAF_CHECK(!store.deactivate_symbol("yahoo", "NOPE"));
  CAF_CHECK_EQUAL(store.load_symbols().size(), 2u);
  store.upsert_symbols({{"yahoo", "BRK-B", "stock"}});
  CAF_CHECK_EQUAL(store.load_symbols().size(), 3u);
}

namespace {

/// The rows of `table` for `exchange` as text, one string per row: every
/// column cast to text by the server (numeric keeps its display scale,
/// times in UTC), ordered by the table's key.
std::vector<std::string> stored_rows(const test::test_database& db,
  const std::string& table, const std::string& exchange) {
  pqxx::connection c{db.settings().conninfo()};
  pqxx::nontransaction tx{c};
  tx.exec("SET TIME ZONE 'UTC'");
  auto r = tx.exec("SELECT t::text FROM (SELECT " + std::string{[&] {
    for (auto t : all_tables)
      if (to_string(t) == table)
        return copy_columns(t);
    return std::string_view{};
  }()}
    + " FROM " + table + " WHERE exchange = " + tx.quote(exchange)
    + ") t ORDER BY 1");
  std::vector<std::string> out;
  for (const auto& row : r)
    out.emplace_back(row[0].c_str());
  return out;
}

/// Writes the same rows once through the text format (exchange "text") and
/// once through the binary format (exchange "binary").
template <class Append>
void write_both(pg_store& store, table_kind t, Append append) {
  for (auto fmt : {copy_format::text, copy_format::binary}) {
    copy_batch b;
    b.table = t;
    b.format = fmt;
    append(b, fmt == copy_format::text ? "text" : "binary");
    CAF_REQUIRE_EQUAL(store.write(b), b.row_count);
  }
}

/// Replaces the exchange column's value (the rows' first text field after
/// the time) so that text and binary rows compare equal.
std::vector<std::string> without_exchange(
  std::vector<std::string> rows, const std::string& exchange) {
  for (auto& r : rows) {
    auto at = r.find("," + exchange + ",");
    if (at != std::string::npos)
      r.replace(at, exchange.size() + 2, ",X,");
  }
  return rows;
}

void check_same_rows(const test::test_database& db, const std::string& table) {
  auto text = without_exchange(stored_rows(db, table, "text"), "text");
  auto binary = without_exchange(stored_rows(db, table, "binary"), "binary");
  CAF_CHECK(!text.empty());
  CAF_CHECK_EQUAL(text, binary);
}

// Awkward fixed-point values: zero, the smallest unit, negatives, trailing
// zeros in every position of a digit group, the int64 limits.
constexpr std::int64_t awkward_units[]
  = {0, 1, -1, 5'000'000, 250'000'000, 1'000'000'000'000, 10'000, 100'000'000,
    -12'345'678'910'000'000, 123'456'789'012, 99'999'999, 100'010'001, 7,
    123'456'789'012'345'678, std::numeric_limits<std::int64_t>::max(),
    std::numeric_limits<std::int64_t>::min()};

// Times on both sides of PostgreSQL's epoch (2000-01-01) and of the Unix
// one, in two groups (a batch creates the partitions of its whole range).
constexpr std::int64_t awkward_times[2][3]
  = {{946'684'799'999, 946'684'800'000, 946'684'800'001}, {-1, 0, 1}};

const char* const awkward_names[] = {"BTC\tUSDT", "back\\slash",
  "l\u00e9on \u20ac\u2713", "new\nline\r", "\\N", "plain"};

} // namespace

CAF_TEST(binary rows store exactly what text rows store) {
  test::test_database db{"store_binary"};
  pg_store store{db.settings()};
  // Trades: every awkward price against every time, names with escapes
  // (with made-up symbol ids: the symbols table would refuse such names).
  for (const auto& times : awkward_times)
    write_both(
      store, table_kind::trades_by_id, [&](copy_batch& b, const char* ex) {
        std::int64_t id = times[0];
        // Ids per exchange: the key (symbol_id, trade_id, time) must tell
        // the text rows from the binary ones.
        std::int32_t symbol_id = std::string_view{ex} == "text" ? 0 : 100;
        for (const char* name : awkward_names) {
          trade_batch tb{ex, name, {}};
          for (auto units : awkward_units)
            for (auto time : times) {
              trade t;
              t.id = id++;
              t.price.units = units;
              t.quantity.units = -units / 3;
              t.trade_time_ms = time;
              t.event_time_ms = id % 3 == 0 ? 0 : time + 1; // 0: NULL
              t.buyer_is_maker = id % 2 == 0;
              tb.trades.push_back(t);
            }
          append_trades(b, tb, ++symbol_id);
        }
      });
  check_same_rows(db, "trades");
  // Values checked against the server's own reading of their text.
  CAF_CHECK_EQUAL(db.scalar("SELECT string_agg(DISTINCT price::text, ' '"
                            " ORDER BY price::text) FROM trades"
                            " WHERE exchange = 'binary'"),
    "-0.00000001 -123456789.1 -92233720368.54775808 0 0.00000001 "
    "0.00000007 0.0001 0.05 0.99999999 1 1.00010001 10000 1234.56789012 "
    "1234567890.12345678 2.5 "
    "92233720368.54775807");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades WHERE exchange ="
                            " 'binary' AND event_time IS NULL"),
    db.scalar("SELECT count(*) FROM trades WHERE exchange = 'text'"
              " AND event_time IS NULL"));
  CAF_CHECK_EQUAL(db.scalar("SELECT string_agg(DISTINCT time::text, ' '"
                            " ORDER BY time::text) FROM trades"
                            " WHERE exchange = 'binary'"),
    "1969-12-31 23:59:59.999+00 1970-01-01 00:00:00+00 "
    "1970-01-01 00:00:00.001+00 1999-12-31 23:59:59.999+00 "
    "2000-01-01 00:00:00+00 2000-01-01 00:00:00.001+00");

  // Candles, including 128-bit volumes and unknown trade ids, first new
  // (COPY into the table), then as revisions (the staging upsert).
  auto make = [](const char* ex, const std::int64_t(&times)[3],
                std::int32_t revision) {
    std::vector<bar> bars;
    std::size_t i = 0;
    for (auto time : times)
      for (auto units : awkward_units) {
        bar b;
        b.exchange = ex;
        b.symbol = awkward_names[i++ % std::size(awkward_names)];
        b.open_time_ms = time;
        b.close_time_ms = time + minute - 1;
        b.open.units = units;
        b.high.units = units / 7;
        b.low.units = -units;
        b.close.units = units % 100'000'000;
        b.volume.units = static_cast<int128>(units) * units;
        b.quote_volume.units = std::numeric_limits<int128>::max() - revision;
        b.taker_buy_volume.units = std::numeric_limits<int128>::min() + 1;
        b.taker_buy_quote_volume.units = units;
        b.trade_count = units;
        b.first_trade_id = units < 0 ? -1 : units;
        b.last_trade_id = -1;
        b.revision = revision;
        b.open_time_ms += static_cast<std::int64_t>(i) * minute; // unique
        bars.push_back(b);
      }
    return bars;
  };
  for (std::int32_t revision : {0, 1}) {
    for (const auto& times : awkward_times)
      write_both(
        store, table_kind::candles, [&](copy_batch& b, const char* ex) {
          for (const auto& x : make(ex, times, revision))
            append_candle(b, x);
        });
    check_same_rows(db, "candles");
  }
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM candles WHERE revision = 1"),
    std::to_string(2 * 2 * 3 * std::size(awkward_units)));
  CAF_CHECK_EQUAL(db.scalar("SELECT max(quote_volume)::text FROM candles"),
    "1701411834604692317316873037158.84105726");

  // Indicators: doubles at the edges, infinities, NaN as NULL.
  write_both(store, table_kind::indicators, [](copy_batch& b, const char* ex) {
    const double edges[] = {0.1, -0.0, 5e-324, 1.7976931348623157e308, -1e-300,
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      std::numeric_limits<double>::quiet_NaN(), 42.0, 1.0 / 3.0};
    for (std::size_t k = 0; k < 3; ++k) {
      indicator_snapshot s;
      s.exchange = ex;
      s.symbol = awkward_names[k % std::size(awkward_names)];
      s.open_time_ms = awkward_times[0][k];
      for (std::size_t i = 0; i < s.values.size(); ++i)
        s.values[i] = edges[(i + k) % std::size(edges)];
      append_indicators(b, s);
    }
  });
  check_same_rows(db, "indicators");

  // Quality reports: JSON with escapes and UTF-8 through jsonb.
  write_both(
    store, table_kind::data_quality, [](copy_batch& b, const char* ex) {
      quality_report rep;
      rep.exchange = ex;
      rep.symbol = "BTC\tUSDT";
      rep.time_ms = 946'684'799'999;
      rep.window_ms = 300'000;
      rep.score = 12.5;
      rep.observations = 3;
      rep.failed_checks = {{"id_gap", 2}, {"caf\u00e9\t\\", 1}};
      rep.recent_issues = {{"id_gap", "ids 5..6 \"missing\"\n\u20ac", 5, -1}};
      append_quality(b, rep);
    });
  check_same_rows(db, "data_quality");
}

CAF_TEST(a binary batch the server refuses is a query error and nothing of it is
    stored) {
  test::test_database db{"store_refused"};
  pg_store store{db.settings()};
  trade_batch tb{"binance", "BTCUSDT", {}};
  trade t;
  t.id = 1;
  t.price.units = 100;
  t.quantity.units = 1;
  t.trade_time_ms = t0;
  tb.trades = {t};
  t.id = 2;
  tb.trades.push_back(t);
  copy_batch good;
  good.table = table_kind::trades;
  append_trades(good, tb);
  // The second row claims 9 fields: the server rejects the whole COPY.
  copy_batch bad = good;
  auto second = bad.rows.size() / 2;
  CAF_REQUIRE_EQUAL(bad.rows[second + 1], '\x08');
  bad.rows[second + 1] = '\x09';
  try {
    store.write(bad);
    CAF_FAIL("the server took a row with a wrong field count");
  } catch (const pg_error& e) {
    CAF_CHECK_EQUAL(e.error_type(), "query");
    CAF_CHECK(!e.transient());
    CAF_CHECK_NOT_EQUAL(
      std::string{e.what()}.find("field count"), std::string::npos);
  }
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades"), "0");
  // The connection stays usable for the next batch.
  CAF_CHECK(store.connected());
  CAF_CHECK_EQUAL(store.write(good), 2u);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades"), "2");
}
