#include "storage/partitions.hpp"

#include <cstdio>

#include <pqxx/pqxx>

#include "messages/calendar.hpp"

namespace csp::storage {

namespace {

constexpr std::int64_t day_ms = 86'400'000;

std::int64_t floor_div(std::int64_t x, std::int64_t y) noexcept {
  return x / y - ((x % y != 0 && ((x < 0) != (y < 0))) ? 1 : 0);
}

std::int64_t month_start_ms(int year, int month) {
  return messages::days_from_civil(year, month, 1) * day_ms;
}

bool parse_number(std::string_view s, int& out) {
  if (s.empty())
    return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

} // namespace

bool daily_partitions(table_kind table) noexcept {
  return table_of(table) == table_kind::trades;
}

partition_range partition_for(table_kind table, std::int64_t ms) {
  auto days = floor_div(ms, day_ms);
  auto date = messages::civil_from_days(days);
  char buf[64];
  partition_range out;
  auto base = std::string{to_string(table)};
  if (daily_partitions(table)) {
    std::snprintf(
      buf, sizeof(buf), "_p%04d_%02d_%02d", date.year, date.month, date.day);
    out.from_ms = days * day_ms;
    out.to_ms = out.from_ms + day_ms;
  } else {
    std::snprintf(buf, sizeof(buf), "_p%04d_%02d", date.year, date.month);
    out.from_ms = month_start_ms(date.year, date.month);
    out.to_ms = date.month == 12 ? month_start_ms(date.year + 1, 1)
                                 : month_start_ms(date.year, date.month + 1);
  }
  out.name = base + buf;
  return out;
}

std::optional<partition_range> parse_partition(
  table_kind table, std::string_view name) {
  auto prefix = std::string{to_string(table)} + "_p";
  if (name.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  auto rest = name.substr(prefix.size());
  int year = 0;
  int month = 0;
  int day = 1;
  if (rest.size() < 7 || rest[4] != '_'
    || !parse_number(rest.substr(0, 4), year)
    || !parse_number(rest.substr(5, 2), month) || month < 1 || month > 12)
    return std::nullopt;
  if (daily_partitions(table)) {
    if (rest.size() != 10 || rest[7] != '_'
      || !parse_number(rest.substr(8, 2), day) || day < 1 || day > 31)
      return std::nullopt;
  } else if (rest.size() != 7) {
    return std::nullopt;
  }
  auto out = partition_for(
    table, messages::days_from_civil(year, month, day) * day_ms);
  if (out.name != name)
    return std::nullopt; // e.g. 2026_02_31
  return out;
}

void partition_manager::ensure(pqxx::connection_base& c, table_kind table,
  std::int64_t from_ms, std::int64_t to_ms) {
  std::vector<partition_range> missing;
  for (auto t = from_ms;;) {
    auto p = partition_for(table, t);
    if (known_.count(p.name) == 0)
      missing.push_back(p);
    if (p.to_ms > to_ms)
      break;
    t = p.to_ms;
  }
  if (missing.empty())
    return;
  pqxx::work tx{c};
  tx.exec("SELECT pg_advisory_xact_lock(hashtext('csp-partition-"
    + std::string{to_string(table)} + "'))");
  for (const auto& p : missing)
    tx.exec("CREATE TABLE IF NOT EXISTS " + tx.quote_name(p.name)
      + " PARTITION OF " + tx.quote_name(std::string{to_string(table)})
      + " FOR VALUES FROM (" + tx.quote(messages::utc_ms_text(p.from_ms))
      + ") TO (" + tx.quote(messages::utc_ms_text(p.to_ms)) + ")");
  tx.commit();
  for (auto& p : missing)
    known_.insert(std::move(p.name));
}

std::vector<partition_range> partition_manager::list(
  pqxx::connection_base& c, table_kind table) {
  pqxx::nontransaction tx{c};
  auto rows = tx.exec_params(
    "SELECT child.relname FROM pg_inherits"
    " JOIN pg_class parent ON parent.oid = pg_inherits.inhparent"
    " JOIN pg_class child ON child.oid = pg_inherits.inhrelid"
    " JOIN pg_namespace ns ON ns.oid = parent.relnamespace"
    " WHERE parent.relname = $1 AND ns.nspname = current_schema()"
    " ORDER BY child.relname",
    std::string{to_string(table)});
  std::vector<partition_range> out;
  for (const auto& row : rows)
    if (auto p = parse_partition(table, row[0].as<std::string>()))
      out.push_back(std::move(*p));
  return out;
}

std::vector<std::string> partition_manager::drop_expired(
  pqxx::connection_base& c, std::int64_t now_ms, std::int64_t retention_ms) {
  std::vector<std::string> dropped;
  auto horizon = now_ms - retention_ms;
  for (auto table : all_tables) {
    for (const auto& p : list(c, table)) {
      if (p.to_ms > horizon)
        continue;
      pqxx::work tx{c};
      tx.exec("DROP TABLE IF EXISTS " + tx.quote_name(p.name));
      tx.commit();
      known_.erase(p.name);
      dropped.push_back(p.name);
    }
  }
  return dropped;
}

} // namespace csp::storage
