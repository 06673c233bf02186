#define CAF_SUITE storage.copy_batch
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <limits>

#include "messages/calendar.hpp"
#include "storage/copy_batch.hpp"

using namespace csp;
using namespace csp::messages;
using namespace csp::storage;

CAF_TEST(utc timestamps in PostgreSQL form) {
  CAF_CHECK_EQUAL(utc_ms_text(0), "1970-01-01 00:00:00.000+00");
  CAF_CHECK_EQUAL(utc_ms_text(-1), "1969-12-31 23:59:59.999+00");
  // 2024-02-29T23:59:59.123Z, leap day.
  CAF_CHECK_EQUAL(
    utc_ms_text(days_from_civil(2024, 2, 29) * 86'400'000 + 86'399'123),
    "2024-02-29 23:59:59.123+00");
  CAF_CHECK_EQUAL(utc_ms_text(std::numeric_limits<std::int64_t>::max()),
    "9999-12-31 23:59:59.999+00");
}

CAF_TEST(text fields are escaped for COPY) {
  std::string out;
  append_copy_text(out, "a\tb\nc\\d\re");
  CAF_CHECK_EQUAL(out, "a\\tb\\nc\\\\d\\re");
}

CAF_TEST(a candle row has every column in order) {
  bar b;
  b.exchange = "binance";
  b.symbol = "BTCUSDT";
  b.tf = timeframe::h4;
  b.open_time_ms = 14'400'000;
  b.close_time_ms = 28'799'999;
  b.open.units = 100'000'000;
  b.high.units = 250'000'000;
  b.low.units = 1;
  b.close.units = 200'000'000;
  b.volume.units = 300'000'000;
  b.trade_count = 0;
  b.revision = 2;
  copy_batch cb;
  cb.table = table_kind::candles;
  append_candle(cb, b);
  CAF_CHECK_EQUAL(cb.rows,
    "1970-01-01 04:00:00.000+00\tbinance\tBTCUSDT\t4h\t1\t2.5\t0.00000001\t2"
    "\t3\t0\t0\t0\t0\t\\N\t\\N\t1970-01-01 07:59:59.999+00\t2\n");
  CAF_CHECK_EQUAL(cb.row_count, 1u);
  CAF_CHECK_EQUAL(cb.min_time_ms, 14'400'000);
  // Column count matches the column list.
  auto tabs = std::count(cb.rows.begin(), cb.rows.end(), '\t');
  auto commas = std::count(copy_columns(table_kind::candles).begin(),
    copy_columns(table_kind::candles).end(), ',');
  CAF_CHECK_EQUAL(tabs, commas);
}

CAF_TEST(indicator nulls and exact doubles) {
  indicator_snapshot s;
  s.exchange = "binance";
  s.symbol = "X";
  s.values.fill(std::numeric_limits<double>::quiet_NaN());
  s.values[1] = 0.1;
  copy_batch cb;
  cb.table = table_kind::indicators;
  append_indicators(cb, s);
  CAF_CHECK_EQUAL(cb.rows,
    "1970-01-01 00:00:00.000+00\tbinance\tX\t1m\t\\N\t0.10000000000000001"
    "\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N"
    "\t\\N\t\\N\t\\N\n");
}

CAF_TEST(newest revisions keep first - seen order) {
  auto mk = [](std::string sym, std::int64_t t, std::int32_t rev) {
    bar b;
    b.exchange = "binance";
    b.symbol = std::move(sym);
    b.open_time_ms = t;
    b.revision = rev;
    return b;
  };
  auto out = newest_revisions({mk("A", 0, 0), mk("B", 0, 0), mk("A", 0, 2),
    mk("A", 60, 0), mk("A", 0, 1)});
  CAF_REQUIRE_EQUAL(out.size(), 3u);
  CAF_CHECK_EQUAL(out[0].symbol, "A");
  CAF_CHECK_EQUAL(out[0].revision, 2);
  CAF_CHECK_EQUAL(out[1].symbol, "B");
  CAF_CHECK_EQUAL(out[2].open_time_ms, 60);
}
