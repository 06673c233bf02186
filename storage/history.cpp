#include "storage/history.hpp"

#include "storage/pg_store.hpp"

namespace csp::storage {

history_reader::history_reader(
  pg_settings db, redis_options redis, history_options opts)
    : db_(std::make_unique<pg_store>(std::move(db))), opts_(std::move(opts)),
      reader_(std::move(redis), opts_.cache, [this](const bar_query& q) {
        candle_query cq;
        cq.exchange = q.exchange;
        cq.symbol = q.symbol;
        cq.tf = q.tf;
        cq.start_ms = q.start_ms;
        cq.end_ms = q.end_ms;
        cq.limit = static_cast<std::int64_t>(q.limit);
        try {
          return db_->load_candles(cq);
        } catch (const std::exception& e) {
          db_error_ = e.what();
          return std::vector<messages::bar>{};
        }
      }) {}

history_reader::~history_reader() = default;

void history_reader::refresh_symbols() {
  std::set<std::pair<std::string, std::string>> fresh;
  for (auto& row : db_->load_symbols())
    fresh.emplace(std::move(row.exchange), std::move(row.symbol));
  symbols_ = std::move(fresh);
  symbols_loaded_ = true;
  symbols_read_ = std::chrono::steady_clock::now();
}

bool history_reader::known_symbol(
  const std::string& exchange, const std::string& symbol) {
  // Anything not in the table is unknown; the lookup needs no other check
  // (the table's constraints decided what a symbol may look like).
  auto key = std::make_pair(exchange, symbol);
  auto stale
    = std::chrono::steady_clock::now() - symbols_read_ >= opts_.symbols_refresh;
  if (symbols_.count(key) > 0 && !stale)
    return true;
  if (!symbols_loaded_ || stale)
    refresh_symbols();
  return symbols_.count(key) > 0;
}

std::optional<std::string> history_reader::exchange_of(
  const std::string& symbol) {
  auto find = [&]() -> std::optional<std::string> {
    for (const auto& [ex, sym] : symbols_)
      if (sym == symbol)
        return ex;
    return std::nullopt;
  };
  auto stale
    = std::chrono::steady_clock::now() - symbols_read_ >= opts_.symbols_refresh;
  if (auto ex = find(); ex && !stale)
    return ex;
  if (!symbols_loaded_ || stale)
    refresh_symbols();
  return find();
}

history_result history_reader::bars(const std::string& exchange,
  const std::string& symbol, std::string_view tf_label, std::int64_t start_ms,
  std::int64_t end_ms, std::size_t limit) {
  history_result out;
  auto refuse = [&out](history_errc e, std::string msg) {
    out.error = e;
    out.message = std::move(msg);
    return out;
  };
  auto tf = messages::parse_timeframe(tf_label);
  if (!tf)
    return refuse(history_errc::invalid_request,
      "unknown timeframe '" + std::string{tf_label}
        + "' (1m, 5m, 15m, 1h, 4h, 1d)");
  if (limit == 0 || limit > opts_.max_limit)
    return refuse(history_errc::invalid_request,
      "limit must be between 1 and " + std::to_string(opts_.max_limit));
  if (start_ms > end_ms)
    return refuse(history_errc::invalid_request, "start is after end");
  try {
    if (!known_symbol(exchange, symbol))
      return refuse(history_errc::unknown_symbol,
        "unknown symbol '" + symbol + "' on exchange '" + exchange + "'");
  } catch (const std::exception& e) {
    return refuse(history_errc::unavailable,
      std::string{"symbol table unavailable: "} + e.what());
  }
  db_error_.clear();
  out.bars = reader_.read_bars(exchange, symbol, *tf, start_ms, end_ms, limit);
  // A miss whose database read failed has no exact answer to give.
  if (!db_error_.empty()) {
    out.bars.clear();
    return refuse(history_errc::unavailable, "database: " + db_error_);
  }
  return out;
}

} // namespace csp::storage
