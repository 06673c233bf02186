#define CAF_SUITE storage.pg_writer
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/after.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include <pqxx/pqxx>

#include "actors/storage_supervisor.hpp"
#include "messages/calendar.hpp"
#include "messages/type_ids.hpp"
#include "storage/pg_store.hpp"
#include "tests/storage/pg_test_db.hpp"

using namespace csp;
using namespace csp::messages;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t day_ms = 86'400'000;
// UTC midnight two days ago: the rows must stay inside the writers' 365-day
// retention (writer 0 drops older partitions while the test runs), so the
// test data cannot have a fixed date.
const std::int64_t t0 = (wall_clock_ms() / day_ms - 2) * day_ms;
constexpr std::int64_t minute = 60'000;

struct config : caf::actor_system_config {
  config() { register_types(*this); }
};

bar make_bar(const std::string& symbol, std::int64_t open_ms,
  std::int64_t close_units, std::int32_t revision = 0) {
  bar b;
  b.exchange = "binance";
  b.symbol = symbol;
  b.open_time_ms = open_ms;
  b.close_time_ms = open_ms + minute - 1;
  b.open.units = 100'000'000;
  b.high.units = close_units + 1;
  b.low.units = 1;
  b.close.units = close_units;
  b.volume.units = 5 * close_units;
  b.trade_count = 3 + revision;
  b.first_trade_id = 1;
  b.last_trade_id = 3 + revision;
  b.revision = revision;
  b.closed = true;
  return b;
}

trade_batch make_trades(
  const std::string& symbol, std::int64_t first_id, int n) {
  trade_batch tb{"binance", symbol, {}};
  for (int i = 0; i < n; ++i) {
    trade t;
    t.id = first_id + i;
    t.price.units = 100'000'000 + i;
    t.quantity.units = 1'000'000;
    t.trade_time_ms = t0 + (first_id + i) * 10;
    t.event_time_ms = t.trade_time_ms;
    tb.trades.push_back(t);
  }
  return tb;
}

/// Collects the metric updates the writers send.
struct metric_log {
  std::mutex mtx;
  std::vector<metric_entry> entries;

  double sum(const std::string& name, const std::string& label_value = "") {
    std::lock_guard<std::mutex> guard{mtx};
    double out = 0;
    for (const auto& e : entries) {
      if (e.name != name)
        continue;
      bool match = label_value.empty();
      for (const auto& l : e.labels)
        match = match || l.second == label_value;
      if (match)
        out += e.value;
    }
    return out;
  }
};

caf::behavior metric_recorder(
  caf::event_based_actor*, std::shared_ptr<metric_log> log) {
  return {
    [log](const metric_update& u) {
      std::lock_guard<std::mutex> guard{log->mtx};
      log->entries.insert(
        log->entries.end(), u.entries.begin(), u.entries.end());
    },
  };
}

struct fixture {
  config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::shared_ptr<metric_log> metrics = std::make_shared<metric_log>();
  caf::actor recorder = sys.spawn(metric_recorder, metrics);
  std::string spool_dir
    = "/tmp/csp_pg_writer_test_" + std::to_string(::getpid());

  fixture() { cleanup(); }

  ~fixture() {
    caf::anon_send_exit(recorder, caf::exit_reason::user_shutdown);
    cleanup();
  }

  void cleanup() {
    for (int i = 0; i < 4; ++i) {
      auto base = spool_dir + "/pg_writer-" + std::to_string(i) + ".spool";
      for (auto suffix : {"", ".offset", ".rejected", ".damaged"})
        std::remove((base + suffix).c_str());
    }
    ::rmdir(spool_dir.c_str());
  }

  caf::actor start(const storage::pg_settings& db, std::size_t pool,
    std::int64_t max_inflight_rows = 0, std::size_t flush_rows = 20'000) {
    actors::storage_options so;
    so.max_inflight_rows = max_inflight_rows;
    so.writer.flush_rows = flush_rows;
    if (max_inflight_rows > 0)
      so.flow_listeners.emplace_back(self);
    so.pool_size = pool;
    so.spool_dir = spool_dir;
    so.writer.db = db;
    so.writer.flush_age_ms = 60'000; // flushes only when asked
    so.writer.retry_min_ms = 1;
    so.writer.retry_max_ms = 1;
    so.restart.initial_backoff_ms = 1;
    so.restart.jitter = 0;
    so.metrics = recorder;
    return actors::spawn_storage_supervisor(sys, so);
  }

  std::vector<writer_stats> flush(const caf::actor& storage) {
    std::vector<writer_stats> out;
    self->request(storage, 30s, caf::flush_atom_v)
      .receive([&](std::vector<writer_stats>& xs) { out = std::move(xs); },
        [&](caf::error& err) { CAF_FAIL("flush: " << sys.render(err)); });
    return out;
  }

  static std::int64_t total(
    const std::vector<writer_stats>& xs, std::int64_t writer_stats::*field) {
    std::int64_t out = 0;
    for (const auto& x : xs)
      out += x.*field;
    return out;
  }

  void stop(caf::actor& storage) {
    self->monitor(storage);
    self->send_exit(storage, caf::exit_reason::user_shutdown);
    self->receive([](caf::down_msg&) {});
    storage = nullptr;
  }
};

void set_connections(const test::test_database& db, bool allowed) {
  auto admin = test::server_settings().with_dbname("postgres");
  pqxx::connection c{admin.conninfo()};
  pqxx::nontransaction tx{c};
  tx.exec("ALTER DATABASE " + tx.quote_name(db.settings().dbname)
    + " ALLOW_CONNECTIONS " + (allowed ? "true" : "false"));
  if (!allowed)
    tx.exec_params("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                   " WHERE datname = $1",
      db.settings().dbname);
}

} // namespace

namespace {

/// A closed bar's feature vector: range_pct 0.25, the rest null.
feature_vector features_of(const char* symbol, std::int64_t open_ms) {
  feature_vector fv;
  fv.exchange = "binance";
  fv.symbol = symbol;
  fv.open_time_ms = open_ms;
  fv.closed = true;
  fv.values.fill(std::nan(""));
  fv.values[static_cast<std::size_t>(feature::range_pct)] = 0.25;
  return fv;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(pg_writer_tests, fixture)

CAF_TEST(everything the pipeline sends is stored once) {
  test::test_database db{"writer_all"};
  auto storage = start(db.settings(), 2);
  std::vector<bar> expected;
  for (const auto* sym : {"BTCUSDT", "ETHUSDT", "BNBUSDT"}) {
    std::vector<bar> bars;
    for (int i = 0; i < 10; ++i)
      bars.push_back(make_bar(sym, t0 + i * minute, 200'000'000 + i));
    self->send(storage, bars);
    // A revision of minute 3 and a forming bar (not stored).
    auto rev = make_bar(sym, t0 + 3 * minute, 777'000'000, 1);
    auto forming = make_bar(sym, t0 + 10 * minute, 1);
    forming.closed = false;
    self->send(storage, std::vector<bar>{rev, forming});
    bars[3] = rev;
    expected.insert(expected.end(), bars.begin(), bars.end());
    self->send(storage, make_trades(sym, 1, 50));
    self->send(storage, make_trades(sym, 40, 20)); // ids 40..49 repeat
    indicator_snapshot snap;
    snap.exchange = "binance";
    snap.symbol = sym;
    snap.open_time_ms = t0;
    snap.closed = true;
    snap.values.fill(std::nan(""));
    snap.values[7] = 55.5;
    self->send(storage, std::vector<indicator_snapshot>{snap});
    // Features of a closed bar, and a peek of the forming one (not stored).
    auto fv = features_of(sym, t0 + minute);
    auto peek = features_of(sym, t0 + 10 * minute);
    peek.closed = false;
    self->send(storage, std::vector<feature_vector>{fv, peek});
    quality_report rep;
    rep.exchange = "binance";
    rep.symbol = sym;
    rep.time_ms = t0 + 1;
    rep.score = 99;
    self->send(storage, rep);
  }
  auto stats = flush(storage);
  CAF_CHECK_EQUAL(stats.size(), 2u);
  CAF_CHECK_EQUAL(total(stats, &writer_stats::rows_spooled), 0);
  CAF_CHECK_EQUAL(total(stats, &writer_stats::buffered_rows), 0);
  storage::pg_store store{db.settings()};
  for (const auto* sym : {"BTCUSDT", "ETHUSDT", "BNBUSDT"}) {
    storage::candle_query q;
    q.exchange = "binance";
    q.symbol = sym;
    std::vector<bar> want;
    for (const auto& b : expected)
      if (b.symbol == sym)
        want.push_back(b);
    CAF_CHECK_EQUAL(store.load_candles(q), want);
  }
  // Ids 1..50 and 40..59: 59 distinct trades per symbol, each with its
  // symbol's id (three instruments, three ids).
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades"), "177");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(DISTINCT symbol_id) FROM trades t"
                            " JOIN symbols s ON s.id = t.symbol_id AND"
                            " s.exchange = t.exchange AND s.symbol = t.symbol"),
    "3");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM indicators WHERE rsi_14 ="
                            " 55.5 AND sma_20 IS NULL"),
    "3");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM data_quality"), "3");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM features"), "3");
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM features WHERE range_pct ="
                            " 0.25 AND log_return_1 IS NULL AND time = '"
                    + messages::utc_ms_text(t0 + minute) + "'"),
    "3");
  stop(storage);
  CAF_CHECK_GREATER(metrics->sum("db_queries_total", "candles"), 0.0);
  CAF_CHECK_EQUAL(metrics->sum("db_errors_total"), 0.0);
  // Every writer added itself to the pool and left it on stop; each
  // available/busy change was undone.
  CAF_CHECK_EQUAL(metrics->sum("db_connection_pool_size"), 0.0);
  CAF_CHECK_EQUAL(metrics->sum("db_connection_pool_available"), 0.0);
}

CAF_TEST(a database outage spools and replays without losing a row) {
  test::test_database db{"writer_outage"};
  auto storage = start(db.settings(), 1);
  std::vector<bar> bars;
  for (int i = 0; i < 30; ++i)
    bars.push_back(make_bar("BTCUSDT", t0 + i * minute, 300'000'000 + i));
  self->send(storage, std::vector<bar>(bars.begin(), bars.begin() + 10));
  auto s1 = flush(storage);
  CAF_REQUIRE_EQUAL(s1.size(), 1u);
  CAF_CHECK(s1[0].connected);
  CAF_CHECK_EQUAL(s1[0].rows_written, 10);
  // The database goes away: connections are cut and refused.
  set_connections(db, false);
  self->send(storage, std::vector<bar>(bars.begin() + 10, bars.begin() + 20));
  self->send(storage, make_trades("BTCUSDT", 1, 100));
  self->send(storage,
    std::vector<feature_vector>{features_of("BTCUSDT", t0 + 12 * minute)});
  auto s2 = flush(storage);
  CAF_CHECK(!s2[0].connected);
  CAF_CHECK_EQUAL(s2[0].rows_spooled, 111);
  CAF_CHECK_EQUAL(s2[0].spool_rows, 111);
  CAF_CHECK_GREATER(s2[0].errors, 0);
  // More arrives during the outage; a revision of a spooled bar too.
  auto rev = make_bar("BTCUSDT", t0 + 15 * minute, 999'000'000, 1);
  bars[15] = rev;
  self->send(storage, std::vector<bar>(bars.begin() + 20, bars.end()));
  self->send(storage, std::vector<bar>{rev});
  auto s3 = flush(storage);
  CAF_CHECK_EQUAL(s3[0].spool_rows, 122); // 111 + 10 bars + the revision
  // Back: the spool is replayed in order and emptied.
  set_connections(db, true);
  auto s4 = flush(storage);
  CAF_CHECK(s4[0].connected);
  CAF_CHECK_EQUAL(s4[0].spool_rows, 0);
  CAF_CHECK_EQUAL(s4[0].rows_written, 10 + 122);
  storage::pg_store store{db.settings()};
  storage::candle_query q;
  q.exchange = "binance";
  q.symbol = "BTCUSDT";
  CAF_CHECK_EQUAL(store.load_candles(q), bars);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades"), "100");
  // Encoded while the writer could not learn the symbol's id: stored with
  // the id the database looked up.
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM trades t JOIN symbols s"
                            " ON s.id = t.symbol_id AND s.exchange ="
                            " t.exchange AND s.symbol = t.symbol"),
    "100");
  CAF_CHECK_EQUAL(
    db.scalar("SELECT count(*) FROM features WHERE range_pct = 0.25"), "1");
  stop(storage);
  CAF_CHECK_GREATER(metrics->sum("db_errors_total", "connection"), 0.0);
}

CAF_TEST(a spool left by a stopped node is replayed by the next one) {
  test::test_database db{"writer_restart"};
  auto storage = start(db.settings(), 1);
  set_connections(db, false);
  std::vector<bar> bars;
  for (int i = 0; i < 5; ++i)
    bars.push_back(make_bar("ETHUSDT", t0 + i * minute, 400'000'000 + i));
  self->send(storage, bars);
  stop(storage); // the final flush goes to the spool
  set_connections(db, true);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM candles"), "0");
  auto next = start(db.settings(), 1);
  auto stats = flush(next);
  CAF_CHECK_EQUAL(stats[0].spool_rows, 0);
  CAF_CHECK_EQUAL(db.scalar("SELECT count(*) FROM candles"), "5");
  stop(next);
}

CAF_TEST(a crashed writer is restarted and nothing it held is lost) {
  test::test_database db{"writer_crash"};
  auto storage = start(db.settings(), 1);
  std::vector<bar> bars;
  for (int i = 0; i < 8; ++i)
    bars.push_back(make_bar("BTCUSDT", t0 + i * minute, 500'000'000 + i));
  self->send(storage, std::vector<bar>(bars.begin(), bars.begin() + 4));
  caf::actor writer;
  self->request(storage, 5s, caf::get_atom_v, std::string{"pg_writer-0"})
    .receive([&](caf::actor& h) { writer = h; },
      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE(writer);
  // Make sure the writer has the first rows buffered, then crash it.
  caf::actor_addr old = writer.address();
  self->request(writer, 5s, caf::get_atom_v)
    .receive([&](writer_stats& s) { CAF_CHECK_EQUAL(s.buffered_rows, 4); },
      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  self->monitor(writer);
  caf::anon_send_exit(writer, caf::exit_reason::kill);
  self->receive([](caf::down_msg&) {});
  writer = nullptr;
  // Sent while the writer is down (or being restarted): held, not lost.
  self->send(storage, std::vector<bar>(bars.begin() + 4, bars.end()));
  auto stats = flush(storage);
  CAF_CHECK_EQUAL(stats.size(), 1u);
  storage::pg_store store{db.settings()};
  storage::candle_query q;
  q.exchange = "binance";
  q.symbol = "BTCUSDT";
  CAF_CHECK_EQUAL(store.load_candles(q), bars);
  self->request(storage, 5s, caf::get_atom_v, std::string{"pg_writer-0"})
    .receive([&](caf::actor& h) { CAF_CHECK(h && h.address() != old); },
      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  stop(storage);
}

CAF_TEST(a database slower than the feed pauses the producers once) {
  test::test_database db{"writer_slow"};
  // A transaction holding the trades table: every write of the writer
  // waits for it, as behind a database that cannot keep up.
  pqxx::connection locker{db.settings().conninfo()};
  auto lock = std::make_unique<pqxx::work>(locker);
  lock->exec("LOCK TABLE trades IN ACCESS EXCLUSIVE MODE");
  auto storage = start(db.settings(), 1, 1000, 100);
  constexpr int batches = 15;
  for (int i = 0; i < batches; ++i)
    self->send(storage, make_trades("BTCUSDT", 1 + i * 100, 100));
  std::vector<flow_control> flow;
  auto next_flow = [&](std::chrono::seconds timeout) {
    bool got = false;
    self->receive(
      [&](const flow_control& fc) {
        flow.push_back(fc);
        got = true;
      },
      caf::after(timeout) >> [] {});
    return got;
  };
  CAF_REQUIRE(next_flow(10s));
  CAF_CHECK(flow.back().paused);
  CAF_CHECK_GREATER_OR_EQUAL(flow.back().inflight_rows, 1000);
  // Held up by the lock: no resume.
  CAF_CHECK(!next_flow(1s));
  CAF_CHECK(metrics->sum("storage_backpressure_active") == 1.0);
  lock->commit();
  lock.reset();
  // The writer catches up: the producers may go on at 500 rows in flight.
  CAF_REQUIRE(next_flow(30s));
  CAF_CHECK(!flow.back().paused);
  CAF_CHECK_LESS_OR_EQUAL(flow.back().inflight_rows, 500);
  auto stats = flush(storage);
  CAF_CHECK_EQUAL(total(stats, &writer_stats::rows_settled), batches * 100);
  CAF_CHECK_EQUAL(total(stats, &writer_stats::buffered_rows), 0);
  // Every trade stored, once.
  CAF_CHECK_EQUAL(
    db.scalar("SELECT count(*) FROM trades"), std::to_string(batches * 100));
  CAF_CHECK_EQUAL(db.scalar("SELECT count(DISTINCT trade_id) FROM trades"),
    std::to_string(batches * 100));
  CAF_CHECK_EQUAL(
    db.scalar("SELECT max(trade_id) - min(trade_id) + 1 FROM trades"),
    std::to_string(batches * 100));
  // One pause and one resume in all.
  CAF_CHECK(!next_flow(0s));
  CAF_CHECK_EQUAL(flow.size(), 2u);
  CAF_CHECK(metrics->sum("storage_backpressure_active") == 1.0);
  stop(storage);
}

CAF_TEST_FIXTURE_SCOPE_END()
