#include "actors/pg_writer.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/local_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/type_ids.hpp"
#include "monitoring/logging.hpp"
#include "monitoring/metrics_batch.hpp"
#include "storage/copy_batch.hpp"
#include "storage/pg_store.hpp"
#include "storage/spool.hpp"
#include "messages/calendar.hpp"

namespace csp::actors {

namespace {

using monitoring::log_event;

using storage::copy_batch;
using storage::table_kind;

struct pg_writer_state {
  pg_writer_options opts;
  std::shared_ptr<pg_writer_memory> mem;
  std::unique_ptr<storage::pg_store> store;
  std::unique_ptr<storage::spool> spool;
  std::unique_ptr<storage::spool> rejected;
  std::shared_ptr<spdlog::logger> log;
  monitoring::metric_batch metrics;
  monitoring::metric_batch::series_id pool_size = 0;
  monitoring::metric_batch::series_id pool_available = 0;
  /// Whether this writer counts as available in the pool gauge: connected
  /// (its last operation succeeded) and not inside a database operation.
  bool available = false;
  /// No write is tried before this steady time (after a failure).
  std::int64_t retry_at_ms = 0;
  std::int64_t retry_delay_ms = 0;
  std::int64_t next_maintenance_ms = 0;
  std::int64_t next_metrics_ms = 0;
  /// rows_settled as last sent to opts.progress.
  std::int64_t reported_settled = 0;
  bool started = false;

  static inline const char* name = "pg_writer";

  pg_writer_state() = default;
  pg_writer_state(const pg_writer_state&) = delete;
  pg_writer_state& operator=(const pg_writer_state&) = delete;

  ~pg_writer_state() {
    if (!started)
      return;
    // Whatever is buffered goes to the database or, failing that, to the
    // spool: an orderly stop loses nothing.
    try {
      flush();
    } catch (const std::exception& e) {
      log_event(*log, config::log_level::error, "final flush failed",
        {{"writer", opts.name}, {"rows", mem->rows}, {"error", e.what()}});
    }
    metrics.add(pool_size, -1);
    set_available(false);
    send_metrics();
    report_progress();
  }

  void init() {
    log = monitoring::get_logger("pg_writer");
    store = std::make_unique<storage::pg_store>(opts.db);
    spool = std::make_unique<storage::spool>(opts.spool_path);
    if (spool->torn_records() > 0)
      log_event(*log, config::log_level::warning,
        "spool had a damaged tail; its bytes were moved to <spool>.damaged",
        {{"writer", opts.name}, {"spool", opts.spool_path}});
    if (spool->has_pending())
      log_event(*log, config::log_level::info,
        "spooled batches wait for replay",
        {{"writer", opts.name}, {"batches", spool->pending()},
          {"rows", spool->pending_rows()}});
    pool_size = metrics.gauge_delta("db_connection_pool_size", {});
    pool_available = metrics.gauge_delta("db_connection_pool_available", {});
    metrics.add(pool_size, 1);
    retry_delay_ms = opts.retry_min_ms;
    started = true;
  }

  void set_available(bool x) {
    if (x != available) {
      available = x;
      metrics.add(pool_available, x ? 1.0 : -1.0);
    }
  }

  void send_metrics() {
    if (opts.metrics && !metrics.empty())
      caf::anon_send(opts.metrics, metrics.take());
  }

  /// Tells opts.progress about rows settled since the last report.
  void report_progress() {
    if (!opts.progress || mem->stats.rows_settled == reported_settled)
      return;
    reported_settled = mem->stats.rows_settled;
    caf::anon_send(opts.progress, stats());
  }

  /// Counts rows received and not kept (nothing to store).
  void settle_ignored(std::size_t n) {
    mem->stats.rows_settled += static_cast<std::int64_t>(n);
  }

  messages::writer_stats stats() const {
    auto s = mem->stats;
    s.name = opts.name;
    s.spool_batches = static_cast<std::int64_t>(spool->pending());
    s.spool_rows = static_cast<std::int64_t>(spool->pending_rows());
    s.buffered_rows = static_cast<std::int64_t>(mem->rows);
    s.connected = available;
    return s;
  }

  void note_rows(std::size_t n) {
    if (mem->rows == 0)
      mem->oldest_ms = messages::steady_clock_ms();
    mem->rows += n;
  }

  /// Writes one batch. Returns false when it could not be written now
  /// (the caller spools it); a batch the database refuses for good is put
  /// in the rejected file and counts as handled.
  bool try_write(const copy_batch& b) {
    auto table = std::string{storage::to_string(b.table)};
    auto op
      = storage::table_of(b.table) == table_kind::trades ? "copy" : "upsert";
    // The connection is busy for the duration of the write: the pool gauge
    // says so right away (a long write would otherwise hide it until the
    // next metrics tick).
    if (available) {
      set_available(false);
      send_metrics();
    }
    auto start = std::chrono::steady_clock::now();
    try {
      store->write(b);
      auto secs = std::chrono::duration<double>(
        std::chrono::steady_clock::now() - start)
                    .count();
      metrics.add(metrics.counter(
        "db_queries_total", {{"operation", op}, {"table", table}}));
      metrics.observe(metrics.histogram("db_query_duration_seconds",
                        {{"operation", op}, {"table", table}}),
        secs);
      mem->stats.rows_written += static_cast<std::int64_t>(b.row_count);
      // Idle again: said at once too, or frequent writes would net the
      // busy/idle deltas to zero between metric ticks and the gauge would
      // keep showing the connection busy.
      set_available(true);
      send_metrics();
      retry_delay_ms = opts.retry_min_ms;
      retry_at_ms = 0;
      return true;
    } catch (const storage::pg_error& e) {
      ++mem->stats.errors;
      metrics.add(metrics.counter("db_errors_total",
        {{"operation", op}, {"error_type", e.error_type()}}));
      if (e.transient()) {
        if (available || retry_delay_ms == opts.retry_min_ms)
          log_event(*log, config::log_level::warning,
            "database unavailable, spooling batches",
            {{"writer", opts.name}, {"error_type", e.error_type()},
              {"error", e.what()}});
        set_available(false);
        retry_at_ms = messages::steady_clock_ms() + retry_delay_ms;
        retry_delay_ms = std::min(retry_delay_ms * 2, opts.retry_max_ms);
        return false;
      }
      log_event(*log, config::log_level::error,
        "database refused a batch; kept in <spool>.rejected",
        {{"writer", opts.name}, {"table", table}, {"rows", b.row_count},
          {"error_type", e.error_type()}, {"error", e.what()}});
      if (!rejected)
        rejected
          = std::make_unique<storage::spool>(opts.spool_path + ".rejected");
      rejected->append(b);
      mem->stats.rows_rejected += static_cast<std::int64_t>(b.row_count);
      return true;
    }
  }

  void to_spool(const copy_batch& b) {
    spool->append(b);
    mem->stats.rows_spooled += static_cast<std::int64_t>(b.row_count);
  }

  /// Replays spooled batches, oldest first, while the database takes them.
  void replay() {
    if (!spool->has_pending() || messages::steady_clock_ms() < retry_at_ms)
      return;
    auto before = spool->pending();
    while (spool->has_pending()) {
      auto b = spool->front();
      if (!try_write(*b))
        return;
      spool->pop();
    }
    log_event(*log, config::log_level::info,
      "database back, spooled batches replayed",
      {{"writer", opts.name}, {"batches", before}});
  }

  /// Buffers the closed rows of `xs` in `buf` (peeks are not stored).
  template <class T>
  void keep_closed(const std::vector<T>& xs, std::vector<T>& buf) {
    auto before = buf.size();
    for (const auto& x : xs)
      if (x.closed)
        buf.push_back(x);
    auto kept = buf.size() - before;
    note_rows(kept);
    settle_ignored(xs.size() - kept);
  }

  /// Encodes the buffered trades: with their symbol ids (one COPY into
  /// trades) when the ids are known or the database can be asked now, else
  /// naming their instrument (the database looks the ids up when the batch
  /// is written or replayed).
  template <class Add>
  void encode_trades(Add& add) {
    bool ask
      = !spool->has_pending() && messages::steady_clock_ms() >= retry_at_ms;
    copy_batch* by_id = nullptr;
    copy_batch* named = nullptr;
    for (const auto& tb : mem->trades) {
      auto id = store->known_symbol_id(tb.exchange, tb.symbol);
      if (!id && ask) {
        try {
          id = store->symbol_id(tb.exchange, tb.symbol);
        } catch (const storage::pg_error&) {
          ask = false; // the write that follows reports the failure
        }
      }
      if (id) {
        if (by_id == nullptr)
          by_id = &add(table_kind::trades_by_id);
        storage::append_trades(*by_id, tb, *id);
      } else {
        if (named == nullptr)
          named = &add(table_kind::trades);
        storage::append_trades(*named, tb);
      }
    }
  }

  /// Encodes and delivers everything buffered.
  void flush() {
    if (mem->rows == 0) {
      replay();
      return;
    }
    std::vector<copy_batch> batches;
    // At most one batch per kind: references from add() stay valid.
    batches.reserve(storage::table_kind_count);
    auto add = [&batches](table_kind t) -> copy_batch& {
      batches.emplace_back();
      batches.back().table = t;
      return batches.back();
    };
    if (!mem->bars.empty()) {
      auto& cb = add(table_kind::candles);
      for (const auto& b : storage::newest_revisions(mem->bars))
        storage::append_candle(cb, b);
    }
    if (!mem->snapshots.empty()) {
      auto& cb = add(table_kind::indicators);
      for (const auto& s : storage::newest_snapshots(mem->snapshots))
        storage::append_indicators(cb, s);
    }
    if (!mem->features.empty()) {
      auto& cb = add(table_kind::features);
      for (const auto& x : storage::newest_features(mem->features))
        storage::append_features(cb, x);
    }
    if (!mem->reports.empty()) {
      auto& cb = add(table_kind::data_quality);
      for (const auto& r : mem->reports)
        storage::append_quality(cb, r);
    }
    if (!mem->trades.empty())
      encode_trades(add);
    // Spooled batches go first, so the database sees every row in order.
    replay();
    for (const auto& b : batches) {
      if (b.empty())
        continue;
      if (spool->has_pending() || messages::steady_clock_ms() < retry_at_ms
        || !try_write(b))
        to_spool(b);
    }
    // Only now: a crash before this point re-delivers (idempotently).
    mem->bars.clear();
    mem->snapshots.clear();
    mem->features.clear();
    mem->reports.clear();
    mem->trades.clear();
    mem->stats.rows_settled += static_cast<std::int64_t>(mem->rows);
    mem->rows = 0;
    report_progress();
  }

  void maintain() {
    if (!opts.maintain_partitions
      || messages::steady_clock_ms() < next_maintenance_ms
      || messages::steady_clock_ms() < retry_at_ms)
      return;
    next_maintenance_ms = messages::steady_clock_ms() + opts.maintenance_ms;
    try {
      auto now = messages::wall_clock_ms();
      store->ensure_partitions(now, now + opts.partitions_ahead_ms);
      auto dropped = store->drop_expired(now, opts.retention_ms);
      for (const auto& partition : dropped)
        log_event(*log, config::log_level::info,
          "dropped a partition older than the retention",
          {{"writer", opts.name}, {"partition", partition}});
    } catch (const storage::pg_error& e) {
      metrics.add(metrics.counter("db_errors_total",
        {{"operation", "maintenance"}, {"error_type", e.error_type()}}));
      next_maintenance_ms = messages::steady_clock_ms() + opts.retry_max_ms;
    }
  }

  void tick() {
    if (mem->rows > 0
      && messages::steady_clock_ms() - mem->oldest_ms >= opts.flush_age_ms)
      flush();
    else
      replay();
    maintain();
    if (messages::steady_clock_ms() >= next_metrics_ms) {
      next_metrics_ms = messages::steady_clock_ms() + 1000;
      send_metrics();
    }
    report_progress();
  }
};

caf::behavior pg_writer_actor(
  caf::stateful_actor<pg_writer_state>* self, pg_writer_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.mem
    = st.opts.memory ? st.opts.memory : std::make_shared<pg_writer_memory>();
  try {
    st.init();
  } catch (const std::exception& e) {
    self->quit(caf::make_error(
      caf::sec::runtime_error, st.opts.name + ": cannot start: " + e.what()));
    return {};
  }
  auto tick_ms = std::max<std::int64_t>(20, st.opts.flush_age_ms / 4);
  auto arm = [self, tick_ms] {
    self->delayed_send(
      self, std::chrono::milliseconds{tick_ms}, messages::flush_timer_atom_v);
  };
  // First contact right away: replays a spool left by a previous run.
  self->send(self, messages::flush_timer_atom_v);
  auto full = [self] {
    auto& s = self->state;
    if (s.mem->rows >= s.opts.flush_rows)
      s.flush();
  };
  return {
    [self, full](const std::vector<messages::bar>& bars) {
      auto& s = self->state;
      auto before = s.mem->bars.size();
      for (const auto& b : bars)
        if (b.closed)
          s.mem->bars.push_back(b);
      auto kept = s.mem->bars.size() - before;
      s.note_rows(kept);
      s.settle_ignored(bars.size() - kept);
      full();
    },
    [self, full](const std::vector<messages::indicator_snapshot>& snaps) {
      self->state.keep_closed(snaps, self->state.mem->snapshots);
      full();
    },
    [self, full](const std::vector<messages::feature_vector>& xs) {
      self->state.keep_closed(xs, self->state.mem->features);
      full();
    },
    [self, full](const messages::quality_report& rep) {
      auto& s = self->state;
      s.mem->reports.push_back(rep);
      s.note_rows(1);
      full();
    },
    [self, full](messages::trade_batch& batch) {
      auto& s = self->state;
      if (!s.opts.archive_trades || batch.trades.empty()) {
        s.settle_ignored(batch.trades.size());
        return;
      }
      s.note_rows(batch.trades.size());
      s.mem->trades.push_back(std::move(batch));
      full();
    },
    [self, arm](messages::flush_timer_atom) {
      self->state.tick();
      arm();
    },
    [self](caf::flush_atom) {
      auto& s = self->state;
      s.retry_at_ms = 0; // an explicit flush tries the database now
      s.flush();
      s.send_metrics();
      return s.stats();
    },
    [self](caf::get_atom) { return self->state.stats(); },
  };
}

} // namespace

caf::actor spawn_pg_writer(caf::actor_system& sys, pg_writer_options opts) {
  return sys.spawn<caf::detached>(pg_writer_actor, std::move(opts));
}

caf::actor spawn_pg_writer(caf::local_actor* parent, pg_writer_options opts) {
  return parent->spawn<caf::detached>(pg_writer_actor, std::move(opts));
}

} // namespace csp::actors
