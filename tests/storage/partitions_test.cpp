#define CAF_SUITE storage.partitions
#include "caf/test/unit_test.hpp"

#include <pqxx/pqxx>

#include "messages/calendar.hpp"
#include "storage/partitions.hpp"
#include "storage/pg_store.hpp"
#include "tests/storage/pg_test_db.hpp"

using namespace csp;
using namespace csp::storage;

namespace {

constexpr std::int64_t day = 86'400'000;

std::int64_t date_ms(int y, int m, int d) {
  return messages::days_from_civil(y, m, d) * day;
}

std::vector<std::string> names(const std::vector<partition_range>& xs) {
  std::vector<std::string> out;
  for (const auto& x : xs)
    out.push_back(x.name);
  return out;
}

} // namespace

CAF_TEST(partition ranges follow UTC days and months) {
  auto p = partition_for(table_kind::candles, date_ms(2026, 11, 25) + 5);
  CAF_CHECK_EQUAL(p.name, "candles_p2026_11");
  CAF_CHECK_EQUAL(p.from_ms, date_ms(2026, 11, 1));
  CAF_CHECK_EQUAL(p.to_ms, date_ms(2026, 12, 1));
  auto dec = partition_for(table_kind::indicators, date_ms(2026, 12, 31));
  CAF_CHECK_EQUAL(dec.name, "indicators_p2026_12");
  CAF_CHECK_EQUAL(dec.to_ms, date_ms(2027, 1, 1));
  // The last millisecond of a day is still that day; a trade at midnight
  // starts the next partition.
  auto t = partition_for(table_kind::trades, date_ms(2024, 2, 29) - 1);
  CAF_CHECK_EQUAL(t.name, "trades_p2024_02_28");
  auto leap = partition_for(table_kind::trades, date_ms(2024, 2, 29));
  CAF_CHECK_EQUAL(leap.name, "trades_p2024_02_29");
  CAF_CHECK_EQUAL(leap.to_ms - leap.from_ms, day);
  // Names parse back; anything else is not a partition of that table.
  auto back = parse_partition(table_kind::trades, "trades_p2024_02_29");
  CAF_REQUIRE(back.has_value());
  CAF_CHECK_EQUAL(back->from_ms, leap.from_ms);
  for (auto bad :
    {"trades_p2023_02_29", "trades_p2024_13_01", "trades_p2024_02",
      "candles_p2024_02_01", "trades_2024_02_01", "trades_p2024_2_01"})
    CAF_CHECK(!parse_partition(table_kind::trades, bad).has_value());
  CAF_CHECK(
    parse_partition(table_kind::candles, "candles_p2024_02").has_value());
  CAF_CHECK(!parse_partition(table_kind::candles, "candles_p2024_02_01"));
}

CAF_TEST(partitions are created on demand and dropped after the retention) {
  test::test_database db{"parts"};
  pqxx::connection c{db.settings().conninfo()};
  partition_manager pm;
  pm.ensure(c, table_kind::candles, date_ms(2025, 1, 20), date_ms(2025, 3, 2));
  pm.ensure(c, table_kind::trades, date_ms(2025, 1, 31), date_ms(2025, 2, 1));
  CAF_CHECK_EQUAL(names(partition_manager::list(c, table_kind::candles)),
    (std::vector<std::string>{
      "candles_p2025_01", "candles_p2025_02", "candles_p2025_03"}));
  CAF_CHECK_EQUAL(names(partition_manager::list(c, table_kind::trades)),
    (std::vector<std::string>{"trades_p2025_01_31", "trades_p2025_02_01"}));
  // A second manager (another writer) creating the same ones is harmless.
  partition_manager other;
  other.ensure(
    c, table_kind::candles, date_ms(2025, 2, 3), date_ms(2025, 2, 3));
  CAF_CHECK_EQUAL(partition_manager::list(c, table_kind::candles).size(), 3u);
  // Rows land in their partition.
  db.scalar("SELECT 1"); // separate connection sees the DDL
  pqxx::work tx{c};
  tx.exec("INSERT INTO trades (time, exchange, symbol, trade_id, price,"
          " quantity, buyer_is_maker, symbol_id) VALUES ('2025-02-01"
          " 00:00:00+00', 'binance', 'BTCUSDT', 1, 1, 1, true, 1)");
  tx.commit();
  CAF_CHECK_EQUAL(db.scalar("SELECT tableoid::regclass::text FROM trades"),
    "trades_p2025_02_01");
  // Retention 365 days at 2026-02-15: January 2025 ended 2025-02-01, more
  // than 365 days before, so it goes; February 2025 ends 2025-03-01,
  // within the year, so it stays (as does everything newer).
  auto dropped = pm.drop_expired(c, date_ms(2026, 2, 15), 365 * day);
  std::sort(dropped.begin(), dropped.end());
  CAF_CHECK_EQUAL(dropped,
    (std::vector<std::string>{
      "candles_p2025_01", "trades_p2025_01_31", "trades_p2025_02_01"}));
  CAF_CHECK_EQUAL(names(partition_manager::list(c, table_kind::candles)),
    (std::vector<std::string>{"candles_p2025_02", "candles_p2025_03"}));
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades"), "0");
  // The manager forgot the dropped partition: ensuring it again recreates it.
  pm.ensure(c, table_kind::candles, date_ms(2025, 1, 5), date_ms(2025, 1, 5));
  CAF_CHECK_EQUAL(partition_manager::list(c, table_kind::candles).size(), 3u);
}
