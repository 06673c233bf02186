#pragma once

// Native range partitioning of the time-series tables (plain PostgreSQL):
// trades by UTC day, candles, indicators, data_quality and features by UTC
// month.
// Partitions are named after their range (candles_p2026_11,
// trades_p2026_11_25), created ahead of the rows that need them and
// dropped once their whole range is older than the retention period.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/copy_batch.hpp"

namespace pqxx {
class connection_base;
} // namespace pqxx

namespace csp::storage {

/// A partition's name and its range [from_ms, to_ms).
struct partition_range {
  std::string name;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
};

/// True when `table` is partitioned by day (trades), false by month.
bool daily_partitions(table_kind table) noexcept;

/// The partition of `table` holding time `ms`.
partition_range partition_for(table_kind table, std::int64_t ms);

/// Parses a partition name of `table` back into its range; nullopt for
/// names of another form.
std::optional<partition_range> parse_partition(
  table_kind table, std::string_view name);

/// Creates and drops partitions; remembers those it knows to exist, so a
/// write that needs no new partition costs no query.
class partition_manager {
public:
  /// Creates the partitions of `table` covering [from_ms, to_ms]. Safe
  /// against concurrent writers (an advisory lock per table).
  void ensure(pqxx::connection_base& c, table_kind table, std::int64_t from_ms,
    std::int64_t to_ms);

  /// Drops every partition of every table whose range ended at or before
  /// now_ms - retention_ms; returns the dropped names.
  std::vector<std::string> drop_expired(
    pqxx::connection_base& c, std::int64_t now_ms, std::int64_t retention_ms);

  /// Lists the partitions of `table` in the database.
  static std::vector<partition_range> list(
    pqxx::connection_base& c, table_kind table);

  /// Forgets the known partitions (after a reconnect).
  void forget() { known_.clear(); }

private:
  std::set<std::string> known_;
};

} // namespace csp::storage
