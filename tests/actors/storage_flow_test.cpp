#define CAF_SUITE storage_flow
#include "caf/test/unit_test.hpp"

#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "actors/storage_supervisor.hpp"
#include "messages/type_ids.hpp"

using namespace csp::actors;
using namespace csp::messages;
using std::chrono::milliseconds;

namespace {

struct test_config : caf::actor_system_config {
  test_config() { register_types(*this); }
};

/// The fake database behind the fake writers: how many rows one writer may
/// write per tick, and every trade id written per symbol.
struct fake_db {
  std::int64_t rows_per_tick = 0;
  std::map<std::string, std::vector<std::int64_t>> written;
  std::int64_t total_written = 0;
};

constexpr std::int64_t tick_ms = 100;

struct fake_writer_state {
  pg_writer_options opts;
  std::vector<trade_batch> buffer;
  static inline const char* name = "fake_pg_writer";
};

/// A scheduled stand-in for pg_writer that speaks its protocol: takes rows
/// at once, writes at most `rows_per_tick` of them per tick (a database
/// slower than the feed), keeps rows_settled in the shared memory and
/// reports progress like the real writer.
caf::behavior fake_writer(caf::stateful_actor<fake_writer_state>* self,
  pg_writer_options opts, const std::shared_ptr<fake_db>& db) {
  self->state.opts = std::move(opts);
  self->delayed_send(self, milliseconds{tick_ms}, flush_timer_atom_v);
  auto stats = [self] {
    auto st = self->state.opts.memory->stats;
    st.name = self->state.opts.name;
    return st;
  };
  return {
    [self](
      trade_batch& batch) { self->state.buffer.push_back(std::move(batch)); },
    [self, db, stats](flush_timer_atom) {
      auto& st = self->state;
      auto budget = db->rows_per_tick;
      std::int64_t done = 0;
      while (budget > 0 && !st.buffer.empty()) {
        auto& front = st.buffer.front();
        auto n = std::min<std::int64_t>(
          budget, static_cast<std::int64_t>(front.trades.size()));
        auto& ids = db->written[front.symbol];
        for (std::int64_t k = 0; k < n; ++k)
          ids.push_back(front.trades[static_cast<std::size_t>(k)].id);
        front.trades.erase(front.trades.begin(), front.trades.begin() + n);
        if (front.trades.empty())
          st.buffer.erase(st.buffer.begin());
        budget -= n;
        done += n;
      }
      if (done > 0) {
        db->total_written += done;
        st.opts.memory->stats.rows_written += done;
        st.opts.memory->stats.rows_settled += done;
        self->send(st.opts.progress, stats());
      }
      self->delayed_send(self, milliseconds{tick_ms}, flush_timer_atom_v);
    },
    [stats](caf::get_atom) { return stats(); },
  };
}

/// Records every flow_control it gets.
caf::behavior flow_recorder(caf::event_based_actor*,
  const std::shared_ptr<std::vector<flow_control>>& log) {
  return {
    [log](const flow_control& fc) { log->push_back(fc); },
  };
}

/// Records the storage_backpressure_active gauge.
caf::behavior gauge_recorder(
  caf::event_based_actor*, const std::shared_ptr<std::vector<double>>& values) {
  return {
    [values](const metric_update& up) {
      for (const auto& e : up.entries)
        if (e.name == "storage_backpressure_active")
          values->push_back(e.value);
    },
  };
}

trade_batch make_batch(const std::string& symbol, std::int64_t first, int n) {
  trade_batch tb{"binance", symbol, {}};
  for (int i = 0; i < n; ++i) {
    trade t;
    t.id = first + i;
    t.price.units = 100'000'000;
    t.quantity.units = 1'000'000;
    t.trade_time_ms = 1'764'028'800'000 + first + i;
    tb.trades.push_back(t);
  }
  return tb;
}

struct fixture : test_coordinator_fixture<test_config> {
  std::shared_ptr<fake_db> db = std::make_shared<fake_db>();
  std::shared_ptr<std::vector<flow_control>> first_log
    = std::make_shared<std::vector<flow_control>>();
  std::shared_ptr<std::vector<flow_control>> late_log
    = std::make_shared<std::vector<flow_control>>();
  std::shared_ptr<std::vector<double>> gauge
    = std::make_shared<std::vector<double>>();
  caf::actor first_listener = sys.spawn(flow_recorder, first_log);
  caf::actor late_listener = sys.spawn(flow_recorder, late_log);
  caf::actor metrics = sys.spawn(gauge_recorder, gauge);
  caf::actor storage;
  std::string spool_dir
    = "/tmp/csp_storage_flow_test_" + std::to_string(::getpid());
  std::map<std::string, std::int64_t> next_id;
  std::int64_t rows_sent = 0;

  fixture() {
    storage_options so;
    so.pool_size = 2;
    so.spool_dir = spool_dir;
    so.max_inflight_rows = 1000;
    so.metrics = metrics;
    so.flow_listeners.push_back(first_listener);
    auto fdb = db;
    so.spawn_writer = [fdb](caf::local_actor* parent, pg_writer_options o) {
      return parent->spawn(fake_writer, std::move(o), fdb);
    };
    storage = spawn_storage_supervisor(sys, so);
    sched.run();
  }

  ~fixture() override {
    for (auto* h : {&storage, &first_listener, &late_listener, &metrics})
      caf::anon_send_exit(*h, caf::exit_reason::user_shutdown);
    sched.run();
    ::rmdir(spool_dir.c_str());
  }

  /// Sends `n` trades of `symbol` (ids continue per symbol).
  void send_trades(const std::string& symbol, int n) {
    auto& id = next_id[symbol];
    if (id == 0)
      id = 1;
    self->send(storage, make_batch(symbol, id, n));
    id += n;
    rows_sent += n;
    sched.run();
  }

  /// One writer tick: every writer writes what the database lets it.
  void tick() {
    advance_time(milliseconds{tick_ms});
    sched.run();
  }

  std::size_t count(const std::vector<flow_control>& log, bool paused) {
    return static_cast<std::size_t>(std::count_if(log.begin(), log.end(),
      [paused](const flow_control& fc) { return fc.paused == paused; }));
  }
};

const std::vector<std::string> symbols{
  "BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"};

} // namespace

CAF_TEST_FIXTURE_SCOPE(storage_flow_tests, fixture)

CAF_TEST(a slow database pauses the producers once and resumes them) {
  self->send(storage, subscribe_flow_atom_v, late_listener);
  sched.run();
  CAF_CHECK(late_log->empty()); // nothing is paused yet
  CAF_REQUIRE_EQUAL(gauge->size(), 1u);
  CAF_CHECK_EQUAL(gauge->back(), 0.0);
  // The database is stuck: rows pile up in the writers.
  db->rows_per_tick = 0;
  for (int round = 0; round < 2; ++round)
    for (const auto& sym : symbols)
      send_trades(sym, 100);
  tick();
  CAF_CHECK(first_log->empty()); // 800 rows in flight: below the mark
  send_trades("BTCUSDT", 100);
  send_trades("ETHUSDT", 150); // 1050 >= 1000
  CAF_REQUIRE_EQUAL(first_log->size(), 1u);
  CAF_CHECK(first_log->front().paused);
  CAF_CHECK_EQUAL(first_log->front().inflight_rows, 1050);
  CAF_CHECK_EQUAL(first_log->front().reason, "storage_inflight_high");
  CAF_REQUIRE_EQUAL(late_log->size(), 1u);
  CAF_CHECK(late_log->front().paused);
  CAF_CHECK_EQUAL(gauge->back(), 1.0);
  // Producers that keep sending do not cause another signal.
  for (const auto& sym : symbols)
    send_trades(sym, 50);
  tick();
  CAF_CHECK_EQUAL(first_log->size(), 1u);
  // A listener subscribing now learns of the pause at once.
  auto third_log = std::make_shared<std::vector<flow_control>>();
  auto third = sys.spawn(flow_recorder, third_log);
  self->send(storage, subscribe_flow_atom_v, third);
  sched.run();
  CAF_REQUIRE_EQUAL(third_log->size(), 1u);
  CAF_CHECK(third_log->front().paused);
  // The database answers slowly: 60 rows per writer and tick.
  db->rows_per_tick = 60;
  CAF_REQUIRE_EQUAL(rows_sent, 1250);
  std::int64_t seen_above_low = 0;
  while (count(*first_log, false) == 0) {
    tick();
    if (count(*first_log, false) == 0) {
      // Still above the low mark (half of 1000): no resume yet.
      CAF_REQUIRE_GREATER(rows_sent - db->total_written, 500);
      ++seen_above_low;
    }
    CAF_REQUIRE_LESS(db->total_written, rows_sent + 1);
  }
  CAF_CHECK_GREATER(seen_above_low, 0);
  CAF_CHECK_LESS_OR_EQUAL(rows_sent - db->total_written, 500);
  CAF_REQUIRE_EQUAL(first_log->size(), 2u);
  CAF_CHECK(!first_log->back().paused);
  CAF_CHECK_EQUAL(first_log->back().reason, "storage_inflight_low");
  CAF_CHECK_EQUAL(count(*late_log, false), 1u);
  CAF_CHECK_EQUAL(count(*third_log, false), 1u);
  CAF_CHECK_EQUAL(gauge->back(), 0.0);
  // Everything is written, each trade exactly once and in order.
  for (int i = 0; i < 20 && db->total_written < rows_sent; ++i)
    tick();
  CAF_CHECK_EQUAL(db->total_written, rows_sent);
  for (const auto& [sym, ids] : db->written) {
    CAF_MESSAGE(sym << ": " << ids.size() << " rows");
    CAF_REQUIRE_EQUAL(static_cast<std::int64_t>(ids.size()), next_id[sym] - 1);
    for (std::size_t k = 0; k < ids.size(); ++k)
      CAF_REQUIRE_EQUAL(ids[k], static_cast<std::int64_t>(k) + 1);
  }
  // Only one pause and one resume in all.
  CAF_CHECK_EQUAL(count(*first_log, true), 1u);
  CAF_CHECK_EQUAL(count(*first_log, false), 1u);
  CAF_CHECK_EQUAL(*gauge, (std::vector<double>{0.0, 1.0, 0.0}));
  caf::anon_send_exit(third, caf::exit_reason::user_shutdown);
}

CAF_TEST(a stale progress report does not undo a newer one) {
  db->rows_per_tick = 0;
  send_trades("BTCUSDT", 400);
  send_trades("ETHUSDT", 300);
  tick();
  // Progress reports are cumulative: a stale one cannot undo a newer one.
  db->rows_per_tick = 1000;
  tick();
  CAF_CHECK_EQUAL(db->total_written, 700);
  self->send(
    storage, writer_stats{"pg_writer-0", 0, 0, 0, 0, 0, 0, 0, true, 0});
  self->send(
    storage, writer_stats{"pg_writer-1", 0, 0, 0, 0, 0, 0, 0, true, 0});
  sched.run();
  // A pause would be due if the stale reports had been taken.
  send_trades("SOLUSDT", 400);
  CAF_CHECK(first_log->empty());
  send_trades("SOLUSDT", 600);
  CAF_REQUIRE_EQUAL(first_log->size(), 1u);
  CAF_CHECK_EQUAL(first_log->front().inflight_rows, 1000);
}

CAF_TEST_FIXTURE_SCOPE_END()
