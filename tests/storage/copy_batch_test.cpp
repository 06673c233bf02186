#define CAF_SUITE storage.copy_batch
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

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
  cb.format = copy_format::text;
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
  cb.format = copy_format::text;
  append_indicators(cb, s);
  CAF_CHECK_EQUAL(cb.rows,
    "1970-01-01 00:00:00.000+00\tbinance\tX\t1m\t\\N\t0.10000000000000001"
    "\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N"
    "\t\\N\t\\N\t\\N\n");
}

namespace {

/// Bytes from a list of values 0..255 (readable expected encodings).
std::string bytes(std::initializer_list<int> xs) {
  std::string out;
  for (int x : xs)
    out += static_cast<char>(x);
  return out;
}

std::string numeric(int128 units) {
  std::string out;
  append_binary_numeric(out, units);
  return out;
}

/// Splits one binary COPY tuple into its fields (nullopt-like: "\xff" marks
/// NULL); fails the test when lengths run past the end.
std::vector<std::string> fields_of(const std::string& row, std::size_t& at) {
  auto u16 = [&](std::size_t i) {
    return static_cast<unsigned>(static_cast<unsigned char>(row[i])) << 8
      | static_cast<unsigned char>(row[i + 1]);
  };
  std::vector<std::string> out;
  CAF_REQUIRE(at + 2 <= row.size());
  auto n = u16(at);
  at += 2;
  for (unsigned i = 0; i < n; ++i) {
    CAF_REQUIRE(at + 4 <= row.size());
    auto len = static_cast<std::int32_t>(u16(at) << 16 | u16(at + 2));
    at += 4;
    if (len < 0) {
      out.emplace_back("\xff");
      continue;
    }
    CAF_REQUIRE(at + static_cast<std::size_t>(len) <= row.size());
    out.push_back(row.substr(at, static_cast<std::size_t>(len)));
    at += static_cast<std::size_t>(len);
  }
  return out;
}

} // namespace

CAF_TEST(numerics in binary COPY form : digit groups of 10000 and scale) {
  // Zero: no digits, weight 0, positive, scale 0.
  CAF_CHECK_EQUAL(numeric(0), bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0}));
  // 0.00000001: one group (1) at 10000^-2, scale 8.
  CAF_CHECK_EQUAL(
    numeric(1), bytes({0, 0, 0, 10, 0, 1, 0xff, 0xfe, 0, 0, 0, 8, 0, 1}));
  // 2.5: groups 2 and 5000 (0x1388), weight 0, scale 1.
  CAF_CHECK_EQUAL(numeric(250'000'000),
    bytes({0, 0, 0, 12, 0, 2, 0, 0, 0, 0, 0, 1, 0, 2, 0x13, 0x88}));
  // 0.05: one group 500 (0x01f4) at 10000^-1, scale 2.
  CAF_CHECK_EQUAL(numeric(5'000'000),
    bytes({0, 0, 0, 10, 0, 1, 0xff, 0xff, 0, 0, 0, 2, 0x01, 0xf4}));
  // 10000: one group at weight 1, trailing zero groups left out, scale 0.
  CAF_CHECK_EQUAL(numeric(int128{10'000} * decimal_scale),
    bytes({0, 0, 0, 10, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1}));
  // -123456789.1: groups 1, 2345 (0x0929), 6789 (0x1a85), 1000 (0x03e8),
  // weight 2, sign 0x4000, scale 1.
  CAF_CHECK_EQUAL(numeric(-int128{1'234'567'891} * 10'000'000),
    bytes({0, 0, 0, 16, 0, 4, 0, 2, 0x40, 0, 0, 1, 0, 1, 0x09, 0x29, 0x1a, 0x85,
      0x03, 0xe8}));
  // 2^127 - 1 units, the widest sum: 1701411834604692317316873037158.84105727
  // = groups 170 1411 8346 0469 2317 3168 7303 7158 . 8410 5727, weight 7,
  // scale 8.
  CAF_CHECK_EQUAL(numeric(std::numeric_limits<int128>::max()),
    bytes({0, 0, 0, 28, 0, 10, 0, 7, 0, 0, 0, 8, 0x00, 0xaa, 0x05, 0x83, 0x20,
      0x9a, 0x01, 0xd5, 0x09, 0x0d, 0x0c, 0x60, 0x1c, 0x87, 0x1b, 0xf6, 0x20,
      0xda, 0x16, 0x5f}));
}

CAF_TEST(a binary candle row has every column in order) {
  bar b;
  b.exchange = "binance";
  b.symbol = "BTC\tUSDT";
  b.tf = timeframe::h4;
  b.open_time_ms = 0;
  b.close_time_ms = 1'000;
  b.open.units = 100'000'000;
  b.trade_count = 7;
  b.first_trade_id = -1;
  b.last_trade_id = 258;
  b.revision = 2;
  copy_batch cb;
  cb.table = table_kind::candles;
  append_candle(cb, b);
  CAF_CHECK(cb.format == copy_format::binary);
  CAF_CHECK_EQUAL(cb.row_count, 1u);
  std::size_t at = 0;
  auto f = fields_of(cb.rows, at);
  CAF_CHECK_EQUAL(at, cb.rows.size());
  auto commas = std::count(copy_columns(table_kind::candles).begin(),
    copy_columns(table_kind::candles).end(), ',');
  CAF_REQUIRE_EQUAL(f.size(), static_cast<std::size_t>(commas + 1));
  // 1970-01-01 is 946684800 s before PostgreSQL's epoch, in microseconds.
  CAF_CHECK_EQUAL(
    f[0], bytes({0xff, 0xfc, 0xa2, 0xfe, 0xc4, 0xc8, 0x20, 0x00}));
  CAF_CHECK_EQUAL(f[1], "binance");
  CAF_CHECK_EQUAL(f[2], "BTC\tUSDT"); // no escaping in binary
  CAF_CHECK_EQUAL(f[3], "4h");
  CAF_CHECK_EQUAL(f[4], bytes({0, 1, 0, 0, 0, 0, 0, 0, 0, 1})); // 1
  CAF_CHECK_EQUAL(f[5], bytes({0, 0, 0, 0, 0, 0, 0, 0}));       // 0
  CAF_CHECK_EQUAL(f[12], bytes({0, 0, 0, 0, 0, 0, 0, 7}));
  CAF_CHECK_EQUAL(f[13], "\xff"); // unknown first trade id: NULL
  CAF_CHECK_EQUAL(f[14], bytes({0, 0, 0, 0, 0, 0, 1, 2}));
  CAF_CHECK_EQUAL(
    f[15], bytes({0xff, 0xfc, 0xa2, 0xfe, 0xc4, 0xd7, 0x62, 0x40}));
  CAF_CHECK_EQUAL(f[16], bytes({0, 0, 0, 2})); // revision is an integer
  auto stream = copy_stream(cb);
  CAF_CHECK_EQUAL(stream.substr(0, 19),
    bytes({'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0, 0, 0, 0, 0,
      0, 0, 0, 0}));
  CAF_CHECK_EQUAL(stream.substr(19, cb.rows.size()), cb.rows);
  CAF_CHECK_EQUAL(stream.substr(19 + cb.rows.size()), bytes({0xff, 0xff}));
}

CAF_TEST(binary trades and quality rows have their field counts) {
  trade_batch tb{"binance", "ETHUSDT", {}};
  trade t;
  t.id = 1;
  t.trade_time_ms = 1'000;
  t.event_time_ms = 0; // unknown: NULL
  t.buyer_is_maker = true;
  tb.trades = {t, t};
  copy_batch cb;
  cb.table = table_kind::trades;
  append_trades(cb, tb);
  CAF_CHECK_EQUAL(cb.row_count, 2u);
  std::size_t at = 0;
  for (int row = 0; row < 2; ++row) {
    auto f = fields_of(cb.rows, at);
    CAF_REQUIRE_EQUAL(f.size(), 8u);
    CAF_CHECK_EQUAL(f[6], bytes({1}));
    CAF_CHECK_EQUAL(f[7], "\xff");
  }
  CAF_CHECK_EQUAL(at, cb.rows.size());
  quality_report rep;
  rep.exchange = "x";
  rep.symbol = "y";
  rep.failed_checks = {{"id_gap", 2}};
  copy_batch qb;
  qb.table = table_kind::data_quality;
  append_quality(qb, rep);
  at = 0;
  auto f = fields_of(qb.rows, at);
  CAF_REQUIRE_EQUAL(f.size(), 8u);
  CAF_CHECK_EQUAL(f[6], "\x01{\"id_gap\":2}"); // jsonb version 1, then text
  CAF_CHECK_EQUAL(f[7], "\x01[]");
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
