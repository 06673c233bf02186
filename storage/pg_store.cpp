#include "storage/pg_store.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include <libpq-fe.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "messages/calendar.hpp"

// tablewriter is libpqxx 6's only public way to send pre-encoded COPY
// text (stream_to keeps write_raw_line private); 7.x replaces both.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <pqxx/tablewriter>
#pragma GCC diagnostic pop

namespace csp::storage {

struct pg_store::connection_holder {
  explicit connection_holder(const std::string& conninfo) : conn(conninfo) {}
  pqxx::connection conn;
  /// Staging tables created on this connection.
  bool staged[table_kind_count] = {};
};

namespace {

/// A double precision field. libpqxx 6 parses floating point through an
/// iostream (locale, sentry, num_get): for the 9 500 values of a 500-bar
/// indicator read that was most of the API worker's CPU time. PostgreSQL
/// prints doubles in the shortest form that reads back exactly, which
/// std::from_chars reads exactly; anything else (Infinity, NaN) goes
/// through libpqxx as before.
double field_double(const pqxx::field& f) {
  const char* text = f.c_str();
  const char* end = text + f.size();
  double v = 0;
  auto [p, ec] = std::from_chars(text, end, v);
  if (ec == std::errc{} && p == end)
    return v;
  return f.as<double>();
}

std::string stage_name(table_kind t) {
  if (t == table_kind::trades)
    return "stage_named_trades";
  return "stage_" + std::string{to_string(t)};
}

/// Creates the staging table of `t` on this connection (rows vanish at
/// commit). Trades that name their instrument have no symbol_id column.
std::string create_stage_sql(table_kind t) {
  auto stage = stage_name(t);
  auto table = std::string{to_string(t)};
  if (t == table_kind::trades)
    return "CREATE TEMP TABLE IF NOT EXISTS " + stage
      + " ON COMMIT DELETE ROWS AS SELECT " + std::string{copy_columns(t)}
    + " FROM " + table + " WITH NO DATA";
  return "CREATE TEMP TABLE IF NOT EXISTS " + stage + " (LIKE " + table
    + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS";
}

/// The key of symbol_ids_.
std::string symbol_key(std::string_view exchange, std::string_view symbol) {
  std::string key;
  key.reserve(exchange.size() + symbol.size() + 1);
  key.append(exchange);
  key += '\t';
  key.append(symbol);
  return key;
}

/// The conflict clause of a per-bar value table (indicators, features):
/// the newest values replace the stored ones.
template <class Names>
std::string replace_values(const Names& names) {
  std::string sets;
  for (auto name : names) {
    if (!sets.empty())
      sets += ", ";
    sets += std::string{name} + " = EXCLUDED." + std::string{name};
  }
  return "(exchange, symbol, timeframe, time) DO UPDATE SET " + sets
    + ", updated_at = now()";
}

std::vector<std::string> column_list(table_kind t) {
  std::vector<std::string> out;
  std::string_view cols = copy_columns(t);
  while (!cols.empty()) {
    auto comma = cols.find(',');
    auto name = cols.substr(0, comma);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    out.emplace_back(name);
    if (comma == std::string_view::npos)
      break;
    cols.remove_prefix(comma + 1);
  }
  return out;
}

/// The upsert from the staging table into the real one.
std::string upsert_sql(table_kind t) {
  auto cols = std::string{copy_columns(t)};
  auto table = std::string{to_string(t)};
  auto head = "INSERT INTO " + table + " (" + cols + ") SELECT " + cols
    + " FROM " + stage_name(t) + " ON CONFLICT ";
  switch (t) {
    case table_kind::trades: {
      // Rows that name their instrument: the id comes from `symbols`
      // (registered first, see write_upsert).
      std::string named;
      for (const auto& c : column_list(t))
        named += "s." + c + ", ";
      return "INSERT INTO trades (" + cols + ", symbol_id) SELECT " + named
        + "y.id FROM " + stage_name(t)
        + " s JOIN symbols y ON y.exchange = s.exchange AND y.symbol ="
          " s.symbol ON CONFLICT DO NOTHING";
    }
    case table_kind::trades_by_id:
      return head + "DO NOTHING";
    case table_kind::candles:
      return head
        + "(exchange, symbol, timeframe, time) DO UPDATE SET"
          " open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,"
          " close = EXCLUDED.close, volume = EXCLUDED.volume,"
          " quote_volume = EXCLUDED.quote_volume,"
          " taker_buy_volume = EXCLUDED.taker_buy_volume,"
          " taker_buy_quote_volume = EXCLUDED.taker_buy_quote_volume,"
          " trade_count = EXCLUDED.trade_count,"
          " first_trade_id = EXCLUDED.first_trade_id,"
          " last_trade_id = EXCLUDED.last_trade_id,"
          " close_time = EXCLUDED.close_time, revision = EXCLUDED.revision,"
          " updated_at = now()"
          " WHERE candles.revision <= EXCLUDED.revision"
          " AND (candles.open, candles.high, candles.low, candles.close,"
          " candles.volume, candles.quote_volume, candles.trade_count,"
          " candles.revision) IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high,"
          " EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume,"
          " EXCLUDED.quote_volume, EXCLUDED.trade_count, EXCLUDED.revision)";
    case table_kind::indicators:
      return head + replace_values(messages::indicator_names);
    case table_kind::features:
      return head + replace_values(messages::feature_names);
    case table_kind::data_quality:
      return head
        + "(exchange, symbol, time) DO UPDATE SET"
          " window_ms = EXCLUDED.window_ms, score = EXCLUDED.score,"
          " observations = EXCLUDED.observations,"
          " failed_checks = EXCLUDED.failed_checks,"
          " recent_issues = EXCLUDED.recent_issues";
  }
  return {};
}

/// libpqxx 6 keeps the transaction's libpq connection to itself, except
/// for its large-object class, whose derived classes may ask for it. Binary
/// COPY needs it: libpqxx sends COPY data only as text lines.
class raw_connection_of : pqxx::largeobject {
public:
  static PGconn* get(const pqxx::dbtransaction& tx) {
    return largeobject::raw_connection(tx);
  }
};

/// Throws the libpqxx exception for a failed command's result (so that
/// classify_db_error and the unique-violation fallback see what libpqxx
/// itself would have thrown).
[[noreturn]] void throw_result_error(
  PGconn* conn, const PGresult* res, const std::string& query) {
  std::string msg
    = res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  const char* state
    = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  if (PQstatus(conn) != CONNECTION_OK)
    throw pqxx::broken_connection{msg};
  if (state != nullptr && std::string_view{state} == "23505")
    throw pqxx::unique_violation{msg, query, state};
  throw pqxx::sql_error{msg, query, state};
}

/// Sends a binary batch with `COPY ... FROM STDIN (FORMAT binary)` on the
/// transaction's connection; a failure leaves the transaction aborted.
void copy_binary(
  pqxx::dbtransaction& tx, const std::string& sql, const copy_batch& b) {
  PGconn* conn = raw_connection_of::get(tx);
  std::unique_ptr<PGresult, void (*)(PGresult*)> res{
    PQexec(conn, sql.c_str()), PQclear};
  if (res == nullptr || PQresultStatus(res.get()) != PGRES_COPY_IN)
    throw_result_error(conn, res.get(), sql);
  auto put = [conn](std::string_view data) {
    return PQputCopyData(conn, data.data(), static_cast<int>(data.size())) == 1;
  };
  // Large batches go in pieces of at most 1 MiB (PQputCopyData takes an
  // int length; smaller pieces also keep libpq's buffer small).
  constexpr std::size_t piece = std::size_t{1} << 20;
  bool sent = put(binary_copy_header());
  std::string_view rows = b.rows;
  for (std::size_t at = 0; sent && at < rows.size(); at += piece)
    sent = put(rows.substr(at, piece));
  sent = sent && put(binary_copy_trailer());
  PQputCopyEnd(conn, sent ? nullptr : "client could not send the rows");
  // The COPY's own result, then the end of the command.
  res.reset(PQgetResult(conn));
  bool ok = res != nullptr && PQresultStatus(res.get()) == PGRES_COMMAND_OK;
  if (!ok) {
    std::unique_ptr<PGresult, void (*)(PGresult*)> failed{
      res.release(), PQclear};
    while (auto* rest = PQgetResult(conn))
      PQclear(rest);
    throw_result_error(conn, failed.get(), sql);
  }
  while (auto* rest = PQgetResult(conn))
    PQclear(rest);
}

void copy_rows(pqxx::dbtransaction& tx, const std::string& table, table_kind t,
  const copy_batch& b) {
  if (b.format == copy_format::binary) {
    copy_binary(tx,
      "COPY " + table + " (" + std::string{copy_columns(t)}
        + ") FROM STDIN (FORMAT binary)",
      b);
    return;
  }
  auto cols = column_list(t);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  pqxx::tablewriter w{tx, table, cols.begin(), cols.end()};
  w.write_raw_line(b.rows);
  w.complete();
#pragma GCC diagnostic pop
}

/// Parses PostgreSQL's numeric text ("123.45000000") into 1e-8 units.
bool parse_units(std::string_view s, messages::int128& out) {
  bool neg = !s.empty() && s.front() == '-';
  if (neg)
    s.remove_prefix(1);
  messages::int128 units = 0;
  int frac = -1;
  for (char c : s) {
    if (c == '.') {
      if (frac >= 0)
        return false;
      frac = 0;
      continue;
    }
    if (c < '0' || c > '9')
      return false;
    if (frac >= 0) {
      if (frac == messages::decimal_digits) {
        if (c != '0')
          return false;
        continue;
      }
      ++frac;
    }
    units = units * 10 + (c - '0');
  }
  for (int i = std::max(frac, 0); i < messages::decimal_digits; ++i)
    units *= 10;
  out = neg ? -units : units;
  return !s.empty();
}

messages::decimal field_decimal(const pqxx::field& f) {
  messages::int128 u = 0;
  if (!parse_units(f.c_str(), u))
    throw pg_error{"query", std::string{"bad numeric value "} + f.c_str()};
  return messages::decimal::from_units(static_cast<std::int64_t>(u));
}

messages::wide_decimal field_wide(const pqxx::field& f) {
  messages::wide_decimal out;
  if (!parse_units(f.c_str(), out.units))
    throw pg_error{"query", std::string{"bad numeric value "} + f.c_str()};
  return out;
}

} // namespace

std::string classify_db_error(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr)
    return "connection";
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr)
    return "connection";
  if (auto sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const auto& state = sql->sqlstate();
    if (state == "57014")
      return "timeout"; // query_canceled (statement_timeout)
    // Class 08 connection exceptions, 57P01..57P03 shutdown / cannot
    // connect now (a server restarting).
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02"
      || state == "57P03")
      return "connection";
    if (state.rfind("23", 0) == 0)
      return "constraint";
    if (state.rfind("40", 0) == 0)
      return "conflict";
    return "query";
  }
  if (auto err = dynamic_cast<const pg_error*>(&e))
    return err->error_type();
  return "other";
}

pg_store::pg_store(pg_settings settings) : settings_(std::move(settings)) {}

pg_store::~pg_store() = default;

template <class F>
auto pg_store::guarded(F&& f) -> decltype(f()) {
  try {
    connect();
    return f();
  } catch (const pg_error& e) {
    if (e.transient())
      disconnect();
    throw;
  } catch (const std::exception& e) {
    auto type = classify_db_error(e);
    pg_error err{type, e.what()};
    if (err.transient() || (conn_ && !conn_->conn.is_open()))
      disconnect();
    throw err;
  }
}

void pg_store::connect() {
  if (conn_)
    return;
  try {
    auto holder = std::make_unique<connection_holder>(settings_.conninfo());
    pqxx::nontransaction tx{holder->conn};
    tx.exec("SET statement_timeout = '60s'");
    // A batch counts as stored (its spool record or buffer is let go) when
    // its commit returns, so the commit must wait for its WAL to be flushed
    // whatever the server's default.
    tx.exec("SET synchronous_commit = on");
    tx.exec("SET TIME ZONE 'UTC'");
    auto r = tx.exec(
      "SELECT mode FROM schema_migrations ORDER BY version DESC LIMIT 1");
    mode_ = !r.empty() && r[0][0].as<std::string>() == "timescale"
      ? schema_mode::timescale
      : schema_mode::plain;
    tx.commit();
    conn_ = std::move(holder);
    partitions_.forget();
  } catch (const std::exception& e) {
    auto type = classify_db_error(e);
    // A missing schema_migrations table means `csp migrate` never ran.
    if (auto sql = dynamic_cast<const pqxx::sql_error*>(&e);
        sql != nullptr && sql->sqlstate() == "42P01")
      throw pg_error{
        "schema", "the database has no schema yet: run `csp migrate`"};
    throw pg_error{
      type == "query" || type == "other" ? "connection" : type, e.what()};
  }
}

void pg_store::disconnect() noexcept {
  conn_.reset();
}

pqxx::connection_base& pg_store::connection() {
  connect();
  return conn_->conn;
}

void pg_store::execute(const std::string& sql) {
  guarded([&] {
    pqxx::work tx{conn_->conn};
    tx.exec(sql);
    tx.commit();
    return 0;
  });
}

void pg_store::ensure_partitions(std::int64_t from_ms, std::int64_t to_ms) {
  guarded([&] {
    if (mode_ == schema_mode::plain)
      for (auto t : all_tables)
        partitions_.ensure(conn_->conn, t, from_ms, to_ms);
    return 0;
  });
}

std::vector<std::string> pg_store::drop_expired(
  std::int64_t now_ms, std::int64_t retention_ms) {
  return guarded([&] {
    if (mode_ != schema_mode::plain)
      return std::vector<std::string>{};
    return partitions_.drop_expired(conn_->conn, now_ms, retention_ms);
  });
}

std::size_t pg_store::write(const copy_batch& b) {
  if (b.empty())
    return 0;
  return guarded([&] {
    if (mode_ == schema_mode::plain)
      partitions_.ensure(
        conn_->conn, table_of(b.table), b.min_time_ms, b.max_time_ms);
    return write_direct_first(b);
  });
}

std::size_t pg_store::write_upsert(const copy_batch& b) {
  auto& h = *conn_;
  auto idx = static_cast<std::size_t>(b.table);
  auto stage = stage_name(b.table);
  pqxx::work tx{h.conn};
  if (!h.staged[idx])
    tx.exec(create_stage_sql(b.table));
  copy_rows(tx, stage, b.table, b);
  if (b.table == table_kind::trades)
    tx.exec("INSERT INTO symbols (exchange, symbol) SELECT DISTINCT exchange,"
            " symbol FROM "
      + stage + " ON CONFLICT (exchange, symbol) DO NOTHING");
  auto r = tx.exec(upsert_sql(b.table));
  tx.commit();
  h.staged[idx] = true;
  return static_cast<std::size_t>(r.affected_rows());
}

std::size_t pg_store::write_direct_first(const copy_batch& b) {
  // Fast path: COPY straight into the table, for batches of new rows (most
  // batches: a bar is stored when it first closes; trades arrive once). A
  // batch touching stored rows (a revision, a replay after an
  // unacknowledged commit) violates the primary key and is redone through
  // the staging table and its upsert rules.
  // Rows that need the database's help first: quality reports (always an
  // upsert) and trades that name their instrument (their id is looked up).
  if (b.table == table_kind::data_quality || b.table == table_kind::trades)
    return write_upsert(b);
  try {
    pqxx::work tx{conn_->conn};
    copy_rows(tx, std::string{to_string(b.table)}, b.table, b);
    tx.commit();
    return b.row_count;
  } catch (const pqxx::unique_violation&) {
    return write_upsert(b);
  }
}

std::vector<messages::bar> pg_store::load_candles(const candle_query& q) {
  return guarded([&] {
    pqxx::nontransaction tx{conn_->conn};
    auto sql = std::string{
      "SELECT (extract(epoch FROM time) * 1000)::bigint,"
      " (extract(epoch FROM close_time) * 1000)::bigint,"
      " open, high, low, close, volume, quote_volume, taker_buy_volume,"
      " taker_buy_quote_volume, trade_count, coalesce(first_trade_id, -1),"
      " coalesce(last_trade_id, -1), revision FROM candles"
      " WHERE exchange = $1 AND symbol = $2 AND timeframe = $3"
      " AND time >= $4::timestamptz AND time <= $5::timestamptz"
      " ORDER BY time DESC LIMIT $6"};
    auto start = messages::utc_ms_text(q.start_ms.value_or(0));
    auto end = messages::utc_ms_text(q.end_ms.value_or(253'402'300'799'999));
    auto rows = tx.exec_params(sql, q.exchange, q.symbol,
      std::string{messages::to_string(q.tf)}, start, end,
      static_cast<long long>(std::max<std::int64_t>(q.limit, 0)));
    std::vector<messages::bar> out;
    out.reserve(rows.size());
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      const auto& row = *it;
      messages::bar b;
      b.exchange = q.exchange;
      b.symbol = q.symbol;
      b.tf = q.tf;
      b.open_time_ms = row[0].as<std::int64_t>();
      b.close_time_ms = row[1].as<std::int64_t>();
      b.open = field_decimal(row[2]);
      b.high = field_decimal(row[3]);
      b.low = field_decimal(row[4]);
      b.close = field_decimal(row[5]);
      b.volume = field_wide(row[6]);
      b.quote_volume = field_wide(row[7]);
      b.taker_buy_volume = field_wide(row[8]);
      b.taker_buy_quote_volume = field_wide(row[9]);
      b.trade_count = row[10].as<std::int64_t>();
      b.first_trade_id = row[11].as<std::int64_t>();
      b.last_trade_id = row[12].as<std::int64_t>();
      b.revision = row[13].as<std::int32_t>();
      b.closed = true;
      out.push_back(std::move(b));
    }
    return out;
  });
}

std::vector<messages::indicator_snapshot> pg_store::load_indicators(
  const candle_query& q) {
  return guarded([&] {
    pqxx::nontransaction tx{conn_->conn};
    std::string sql = "SELECT (extract(epoch FROM time) * 1000)::bigint";
    for (auto name : messages::indicator_names) {
      sql += ", ";
      sql += name;
    }
    sql += " FROM indicators WHERE exchange = $1 AND symbol = $2"
           " AND timeframe = $3 AND time >= $4::timestamptz"
           " AND time <= $5::timestamptz ORDER BY time DESC LIMIT $6";
    auto start = messages::utc_ms_text(q.start_ms.value_or(0));
    auto end = messages::utc_ms_text(q.end_ms.value_or(253'402'300'799'999));
    auto rows = tx.exec_params(sql, q.exchange, q.symbol,
      std::string{messages::to_string(q.tf)}, start, end,
      static_cast<long long>(std::max<std::int64_t>(q.limit, 0)));
    std::vector<messages::indicator_snapshot> out;
    out.reserve(rows.size());
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      const auto& row = *it;
      messages::indicator_snapshot x;
      x.exchange = q.exchange;
      x.symbol = q.symbol;
      x.tf = q.tf;
      x.open_time_ms = row[0].as<std::int64_t>();
      x.closed = true;
      for (std::size_t i = 0; i < messages::indicator_count; ++i) {
        const auto& f = row[static_cast<int>(i + 1)];
        x.values[i] = f.is_null() ? std::numeric_limits<double>::quiet_NaN()
                                  : field_double(f);
      }
      out.push_back(std::move(x));
    }
    return out;
  });
}

std::optional<messages::quality_report> pg_store::load_quality(
  const std::string& exchange, const std::string& symbol) {
  return guarded([&]() -> std::optional<messages::quality_report> {
    pqxx::nontransaction tx{conn_->conn};
    auto rows = tx.exec_params(
      "SELECT (extract(epoch FROM time) * 1000)::bigint, window_ms, score,"
      " observations, failed_checks::text, recent_issues::text"
      " FROM data_quality WHERE exchange = $1 AND symbol = $2"
      " ORDER BY time DESC LIMIT 1",
      exchange, symbol);
    if (rows.empty())
      return std::nullopt;
    const auto& row = rows[0];
    messages::quality_report rep;
    rep.exchange = exchange;
    rep.symbol = symbol;
    rep.time_ms = row[0].as<std::int64_t>();
    rep.window_ms = row[1].as<std::int64_t>();
    rep.score = row[2].as<double>();
    rep.observations = row[3].as<std::int64_t>();
    auto failed = nlohmann::json::parse(row[4].c_str(), nullptr, false);
    if (failed.is_object())
      for (auto& [k, v] : failed.items())
        if (v.is_number_integer())
          rep.failed_checks.push_back({k, v.get<std::int64_t>()});
    auto issues = nlohmann::json::parse(row[5].c_str(), nullptr, false);
    if (issues.is_array())
      for (const auto& i : issues) {
        messages::quality_issue qi;
        qi.check_type = i.value("check_type", std::string{});
        qi.detail = i.value("detail", std::string{});
        qi.trade_id = i.value("trade_id", std::int64_t{-1});
        qi.time_ms = i.value("time_ms", std::int64_t{0});
        rep.recent_issues.push_back(std::move(qi));
      }
    return rep;
  });
}

bool pg_store::deactivate_symbol(
  const std::string& exchange, const std::string& symbol) {
  return guarded([&] {
    pqxx::work tx{conn_->conn};
    auto r = tx.exec_params("UPDATE symbols SET active = false WHERE exchange"
                            " = $1 AND symbol = $2 AND active",
      exchange, symbol);
    tx.commit();
    return r.affected_rows() > 0;
  });
}

void pg_store::upsert_symbols(const std::vector<symbol_row>& rows) {
  guarded([&] {
    pqxx::work tx{conn_->conn};
    for (const auto& r : rows)
      tx.exec_params(
        "INSERT INTO symbols (exchange, symbol, asset_class) VALUES ($1, $2, "
        "$3)"
        " ON CONFLICT (exchange, symbol) DO UPDATE SET active = true,"
        " asset_class = EXCLUDED.asset_class",
        r.exchange, r.symbol, r.asset_class);
    tx.commit();
    return 0;
  });
}

std::vector<symbol_row> pg_store::load_symbols() {
  return guarded([&] {
    pqxx::nontransaction tx{conn_->conn};
    std::vector<symbol_row> out;
    for (const auto& row :
      tx.exec("SELECT exchange, symbol, asset_class FROM symbols"
              " WHERE active ORDER BY exchange, symbol"))
      out.push_back(symbol_row{row[0].as<std::string>(),
        row[1].as<std::string>(), row[2].as<std::string>()});
    return out;
  });
}

std::int32_t pg_store::symbol_id(
  const std::string& exchange, const std::string& symbol) {
  if (auto known = known_symbol_id(exchange, symbol))
    return *known;
  auto id = guarded([&] {
    // The insert's snapshot cannot see a row another writer commits while
    // it waits on the conflict: then the lookup runs again.
    for (int attempt = 0; attempt < 2; ++attempt) {
      pqxx::work tx{conn_->conn};
      auto r = tx.exec_params(
        "WITH fresh AS (INSERT INTO symbols (exchange, symbol) VALUES ($1, $2)"
        " ON CONFLICT (exchange, symbol) DO NOTHING RETURNING id)"
        " SELECT id FROM fresh UNION ALL"
        " SELECT id FROM symbols WHERE exchange = $1 AND symbol = $2",
        exchange, symbol);
      tx.commit();
      if (!r.empty())
        return r[0][0].as<std::int32_t>();
    }
    throw pg_error{"query", "no id for symbol " + exchange + ":" + symbol};
  });
  symbol_ids_.emplace(symbol_key(exchange, symbol), id);
  return id;
}

std::optional<std::int32_t> pg_store::known_symbol_id(
  std::string_view exchange, std::string_view symbol) const {
  auto i = symbol_ids_.find(symbol_key(exchange, symbol));
  if (i == symbol_ids_.end())
    return std::nullopt;
  return i->second;
}

std::optional<std::int64_t> pg_store::last_candle_time(
  std::string_view exchange, std::string_view symbol, messages::timeframe tf) {
  return guarded([&]() -> std::optional<std::int64_t> {
    pqxx::nontransaction tx{conn_->conn};
    auto r = tx.exec_params(
      "SELECT (extract(epoch FROM max(time)) * 1000)::bigint FROM candles"
      " WHERE exchange = $1 AND symbol = $2 AND timeframe = $3",
      std::string{exchange}, std::string{symbol},
      std::string{messages::to_string(tf)});
    if (r.empty() || r[0][0].is_null())
      return std::nullopt;
    return r[0][0].as<std::int64_t>();
  });
}

} // namespace csp::storage
