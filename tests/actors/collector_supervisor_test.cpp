#define CAF_SUITE collector_supervisor
#include "caf/test/unit_test.hpp"

#define FAIL(msg) CAF_FAIL(msg)
#include "caf/test/dsl.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/collector_supervisor.hpp"
#include "messages/type_ids.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace csp::actors;
using namespace csp::messages;
using std::chrono::milliseconds;

namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;

struct test_config : caf::actor_system_config {
  test_config() { register_types(*this); }
};

/// Everything the fake collectors and the fake metrics actor saw.
struct world {
  /// Every incarnation of every collector, in spawn order.
  std::map<std::string, std::vector<caf::actor>> spawned;
  /// Exit reasons of the collectors, in order.
  std::vector<std::pair<std::string, caf::error>> exits;
  /// metric_update batches received by the metrics actor.
  std::vector<metric_update> metrics;
};

/// A stand-in collector: forwards the collector_events it is told to report
/// to its supervisor and records the symbol commands it is given.
struct dummy_state {
  std::vector<symbol_command> commands;
  std::vector<flow_control> flows;
  static inline const char* name = "dummy_collector";
};

caf::behavior dummy_collector(caf::stateful_actor<dummy_state>* self,
  caf::actor parent, std::string name, std::shared_ptr<world> w) {
  self->attach_functor([w, name](const caf::error& reason) {
    w->exits.emplace_back(name, reason);
  });
  return {
    [=](const collector_event& ev) { self->send(parent, ev); },
    [=](const symbol_command& cmd) { self->state.commands.push_back(cmd); },
    [=](const flow_control& fc) { self->state.flows.push_back(fc); },
  };
}

caf::behavior fake_metrics(caf::event_based_actor*, std::shared_ptr<world> w) {
  return {
    [=](const metric_update& x) { w->metrics.push_back(x); },
  };
}

using csp::test_support::watcher;

metric_entry counter(
  std::string name, std::vector<std::pair<std::string, std::string>> labels) {
  return metric_entry{
    metric_kind::counter_add, std::move(name), std::move(labels), 1.0};
}

metric_entry state_gauge(const std::string& collector, double value) {
  return metric_entry{metric_kind::gauge_set, "circuit_breaker_state",
    {{"collector", collector}}, value};
}

metric_entry zero_counter(const char* name, const std::string& collector) {
  return metric_entry{
    metric_kind::counter_add, name, {{"collector", collector}}, 0.0};
}

metric_entry open_duration(const std::string& collector, double seconds) {
  return metric_entry{metric_kind::gauge_set,
    "circuit_breaker_open_duration_seconds", {{"collector", collector}},
    seconds};
}

metric_entry half_open_attempt(const std::string& collector) {
  return counter(
    "circuit_breaker_half_open_attempts_total", {{"collector", collector}});
}

metric_entry recovery(const std::string& collector, double seconds) {
  return metric_entry{metric_kind::histogram_observe,
    "circuit_breaker_recovery_duration_seconds", {{"collector", collector}},
    seconds};
}

/// What the supervisor reports for a collector at start: every series at 0.
std::vector<metric_entry> initial_series(const std::string& collector) {
  return {state_gauge(collector, 0), open_duration(collector, 0),
    zero_counter("circuit_breaker_failures_total", collector),
    zero_counter("circuit_breaker_successes_total", collector),
    zero_counter("circuit_breaker_half_open_attempts_total", collector)};
}

metric_entry transition(
  const std::string& collector, const char* from, const char* to) {
  return counter("circuit_breaker_transitions_total",
    {{"collector", collector}, {"from_state", from}, {"to_state", to}});
}

metric_entry failure(const std::string& collector) {
  return counter("circuit_breaker_failures_total", {{"collector", collector}});
}

metric_entry success(const std::string& collector) {
  return counter("circuit_breaker_successes_total", {{"collector", collector}});
}

struct fixture : test_coordinator_fixture<test_config> {
  std::shared_ptr<world> w = std::make_shared<world>();
  caf::actor metrics;
  caf::actor sup;
  caf::actor sup_watcher;
  std::shared_ptr<caf::error> sup_exit = std::make_shared<caf::error>();
  std::shared_ptr<bool> sup_down = std::make_shared<bool>(false);

  fixture() { metrics = sys.spawn(fake_metrics, w); }

  ~fixture() override {
    if (sup)
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(metrics, caf::exit_reason::user_shutdown);
    if (sup_watcher)
      caf::anon_send_exit(sup_watcher, caf::exit_reason::user_shutdown);
    sched.run();
  }

  child_spec spec(std::string name, std::string exchange) {
    auto ww = w;
    auto factory = [ww, name](caf::local_actor* parent) {
      auto h = parent->spawn(
        dummy_collector, caf::actor_cast<caf::actor>(parent), name, ww);
      ww->spawned[name].push_back(h);
      return h;
    };
    return child_spec{name, {std::move(exchange)}, factory};
  }

  /// Breaker 5 failures / 1 s open / 2 successes / 3 s cap; restart
  /// backoff 100, 200, 400 ms without jitter, 3 restarts per 10 s.
  static collector_supervisor_config make_config() {
    collector_supervisor_config cfg;
    cfg.breaker.failure_threshold = 5;
    cfg.breaker.open_timeout_ms = 1000;
    cfg.breaker.success_threshold = 2;
    cfg.breaker.max_open_timeout_ms = 3000;
    cfg.breaker.timeout_multiplier = 2.0;
    cfg.supervision.restart.initial_backoff_ms = 100;
    cfg.supervision.restart.max_backoff_ms = 400;
    cfg.supervision.restart.multiplier = 2.0;
    cfg.supervision.restart.jitter = 0.0;
    cfg.supervision.restart.max_restarts = 3;
    cfg.supervision.restart.within_ms = 10'000;
    cfg.supervision.restart.reset_after_ms = 5'000;
    cfg.supervision.wall_clock_ms = [] { return t0; };
    // No periodic open-duration updates unless a test asks for them.
    cfg.metrics_tick_ms = 0;
    return cfg;
  }

  void start(collector_supervisor_config conf = make_config()) {
    conf.supervision.metrics = metrics;
    std::vector<child_spec> specs{
      spec("binance-0", "binance"), spec("yahoo-0", "yahoo")};
    sup = sys.spawn(collector_supervisor, conf, std::move(specs));
    // Kept in the fixture: an actor nobody references is terminated.
    sup_watcher = sys.spawn(watcher, sup, sup_exit, sup_down);
    sched.run();
    CAF_REQUIRE_EQUAL(w->metrics.size(), 1u);
    // The series exist from the start: both circuits closed.
    auto want = initial_series("binance-0");
    for (auto& x : initial_series("yahoo-0"))
      want.push_back(x);
    CAF_CHECK_EQUAL(w->metrics[0].entries, want);
    w->metrics.clear();
  }

  caf::actor current(const std::string& name) {
    auto& xs = w->spawned[name];
    CAF_REQUIRE(!xs.empty());
    return xs.back();
  }

  std::size_t incarnations(const std::string& name) {
    return w->spawned[name].size();
  }

  collector_supervisor_state& sup_state() {
    return deref<caf::stateful_actor<collector_supervisor_state>>(sup).state;
  }

  child_status status(const std::string& name) {
    auto child = sup_state().core.find(name);
    CAF_REQUIRE(child != nullptr);
    return child->status;
  }

  /// Makes the current incarnation of `name` report an outcome and lets
  /// everything run; returns the metric batch it caused.
  std::vector<metric_entry> report(
    const std::string& name, collector_outcome outcome) {
    auto before = w->metrics.size();
    caf::anon_send(current(name), collector_event{name, outcome, "test", 0});
    sched.run();
    CAF_REQUIRE_EQUAL(w->metrics.size(), before + 1);
    return w->metrics.back().entries;
  }

  /// The supervisor's answer to a health request, as component -> status.
  std::map<std::string, std::string> health() {
    self->send(sup, csp::messages::health_atom_v);
    sched.run();
    std::map<std::string, std::string> out;
    self->receive([&](const std::vector<csp::messages::health_status>& xs) {
      for (const auto& x : xs)
        out[x.component] = x.status;
    });
    return out;
  }

  /// Advances the simulated clock and runs what became due.
  void advance(std::int64_t ms) {
    advance_time(milliseconds{ms});
    sched.run();
  }

  /// Sum of every counter entry named `name` for collector `collector`.
  double counter_sum(const std::string& name, const std::string& collector) {
    double sum = 0.0;
    for (auto& batch : w->metrics)
      for (auto& e : batch.entries)
        if (e.kind == metric_kind::counter_add && e.name == name
          && e.labels.size() >= 1 && e.labels[0].second == collector)
          sum += e.value;
    return sum;
  }
};

using entries = std::vector<metric_entry>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(collector_supervisor_tests, fixture)

CAF_TEST(events travel collector to supervisor to metrics) {
  start();
  auto child = current("binance-0");
  auto ev
    = collector_event{"binance-0", collector_outcome::failure, "stalled", 0};
  caf::anon_send(child, ev);
  expect((collector_event), from(_).to(child).with(ev));
  expect((collector_event), from(child).to(sup).with(ev));
  expect((metric_update),
    from(sup).to(metrics).with(metric_update{{failure("binance-0")}}));
  disallow((caf::exit_msg), from(sup).to(child));
}

CAF_TEST(five failures park the collector until the open timeout) {
  start();
  const std::string b = "binance-0";
  for (int i = 0; i < 4; ++i)
    CAF_CHECK_EQUAL(report(b, collector_outcome::failure), entries{failure(b)});
  CAF_CHECK(w->exits.empty());
  // The fifth opens the circuit: reported, and the collector is parked.
  CAF_CHECK_EQUAL(report(b, collector_outcome::failure),
    (entries{failure(b), state_gauge(b, 1), transition(b, "closed", "open")}));
  CAF_REQUIRE_EQUAL(w->exits.size(), 1u);
  CAF_CHECK_EQUAL(w->exits[0].first, b);
  CAF_CHECK(is_supervision_error(w->exits[0].second, supervision_errc::parked));
  CAF_CHECK(status(b) == child_status::parked);
  CAF_CHECK_EQUAL(health(),
    (std::map<std::string, std::string>{
      {"collector.binance-0", "unhealthy"}, {"collector.yahoo-0", "healthy"}}));
  // No reconnect storm: nothing until exactly the open timeout.
  advance(999);
  CAF_CHECK_EQUAL(incarnations(b), 1u);
  CAF_CHECK_EQUAL(w->metrics.size(), 5u);
  CAF_CHECK(!sched.has_job());
  advance(1);
  CAF_CHECK_EQUAL(incarnations(b), 2u);
  CAF_CHECK(status(b) == child_status::running);
  CAF_REQUIRE_EQUAL(w->metrics.size(), 6u);
  CAF_CHECK_EQUAL(w->metrics.back().entries,
    (entries{state_gauge(b, 2), transition(b, "open", "half_open"),
      half_open_attempt(b)}));
  CAF_CHECK(sup_state().slot(b)->breaker.state() == circuit_state::half_open);
  CAF_CHECK_EQUAL(health()["collector.binance-0"], "degraded");
  // Two successes close the circuit.
  CAF_CHECK_EQUAL(report(b, collector_outcome::success), entries{success(b)});
  CAF_CHECK_EQUAL(report(b, collector_outcome::success),
    (entries{success(b), state_gauge(b, 0),
      transition(b, "half_open", "closed"), recovery(b, 1.0),
      open_duration(b, 0)}));
  CAF_CHECK_EQUAL(incarnations(b), 2u);
  // The other collector never noticed.
  CAF_CHECK_EQUAL(incarnations("yahoo-0"), 1u);
  CAF_CHECK_EQUAL(w->exits.size(), 1u);
  CAF_CHECK(!*sup_down);
}

CAF_TEST(half open failures reopen with a doubled and capped timeout) {
  start();
  const std::string b = "binance-0";
  for (int i = 0; i < 5; ++i)
    report(b, collector_outcome::failure);
  CAF_CHECK(status(b) == child_status::parked);
  advance(1000);
  CAF_REQUIRE_EQUAL(incarnations(b), 2u);
  // Expected open timeouts after each half-open failure: 1000 * 2 = 2000,
  // then 4000 capped to 3000, then 3000 again.
  std::vector<std::int64_t> timeouts{2000, 3000, 3000};
  std::size_t expected_incarnations = 2;
  for (auto timeout : timeouts) {
    CAF_CHECK_EQUAL(report(b, collector_outcome::failure),
      (entries{
        failure(b), state_gauge(b, 1), transition(b, "half_open", "open")}));
    CAF_CHECK(status(b) == child_status::parked);
    CAF_CHECK_EQUAL(sup_state().slot(b)->breaker.open_timeout_ms(), timeout);
    advance(timeout - 1);
    CAF_CHECK_EQUAL(incarnations(b), expected_incarnations);
    advance(1);
    ++expected_incarnations;
    CAF_CHECK_EQUAL(incarnations(b), expected_incarnations);
    CAF_CHECK_EQUAL(w->metrics.back().entries,
      (entries{state_gauge(b, 2), transition(b, "open", "half_open"),
        half_open_attempt(b)}));
  }
  // Every park used the distinct exit reason; nothing was crash-restarted.
  CAF_CHECK_EQUAL(w->exits.size(), 4u);
  for (auto& x : w->exits)
    CAF_CHECK(is_supervision_error(x.second, supervision_errc::parked));
  CAF_CHECK_EQUAL(counter_sum("actor_restarts_total", b), 0.0);
  // Counters are cumulative over all incarnations: 5 + 3 failures.
  CAF_CHECK_EQUAL(counter_sum("circuit_breaker_failures_total", b), 8.0);
  CAF_CHECK_EQUAL(sup_state().slot(b)->breaker.total_failures(), 8u);
}

CAF_TEST(events while parked are counted but change nothing) {
  start();
  const std::string b = "binance-0";
  for (int i = 0; i < 5; ++i)
    report(b, collector_outcome::failure);
  // A late event from the parked collector (sent by someone else here).
  caf::anon_send(sup, collector_event{b, collector_outcome::failure, "x", 0});
  sched.run();
  CAF_CHECK_EQUAL(w->metrics.back().entries, entries{failure(b)});
  CAF_CHECK(status(b) == child_status::parked);
  // The open timeout still counts from the opening.
  advance(1000);
  CAF_CHECK_EQUAL(incarnations(b), 2u);
}

CAF_TEST(a crashing collector restarts with backoff then escalates) {
  start();
  const std::string b = "binance-0";
  const std::string y = "yahoo-0";
  // The other collector holds state that must survive.
  caf::anon_send(sup, symbol_command{symbol_action::add, "yahoo", "AAPL"});
  sched.run();
  auto yahoo = current(y);
  std::vector<std::int64_t> backoff{100, 200, 400};
  for (std::size_t i = 0; i < backoff.size(); ++i) {
    caf::anon_send_exit(current(b), caf::exit_reason::kill);
    sched.run();
    CAF_CHECK(status(b) == child_status::restart_pending);
    advance(backoff[i] - 1);
    CAF_CHECK_EQUAL(incarnations(b), i + 1);
    advance(1);
    CAF_CHECK_EQUAL(incarnations(b), i + 2);
    CAF_CHECK(status(b) == child_status::running);
    CAF_CHECK_EQUAL(w->metrics.back().entries,
      entries{counter("actor_restarts_total", {{"actor", b}})});
    // Meanwhile the other collector is the same actor with its state.
    CAF_CHECK_EQUAL(current(y), yahoo);
    CAF_CHECK_EQUAL(
      deref<caf::stateful_actor<dummy_state>>(yahoo).state.commands.size(), 1u);
  }
  CAF_CHECK_EQUAL(counter_sum("actor_restarts_total", b), 3.0);
  CAF_CHECK(!*sup_down);
  // The fourth crash within 10 s exceeds 3 restarts: escalate.
  caf::anon_send_exit(current(b), caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(*sup_down);
  CAF_CHECK(
    is_supervision_error(*sup_exit, supervision_errc::restart_intensity));
  CAF_CHECK_EQUAL(w->metrics.back().entries,
    entries{counter("supervisor_escalations_total",
      {{"supervisor", "collector_supervisor"}})});
  // The supervisor took its other child with it.
  CAF_REQUIRE(!w->exits.empty());
  CAF_CHECK_EQUAL(w->exits.back().first, y);
  CAF_CHECK_EQUAL(
    w->exits.back().second, caf::error{caf::exit_reason::user_shutdown});
  // Nothing is respawned later.
  advance(10'000);
  CAF_CHECK_EQUAL(incarnations(b), 4u);
  CAF_CHECK_EQUAL(incarnations(y), 1u);
  sup = nullptr;
}

CAF_TEST(a crash keeps the breaker state and counts) {
  start();
  const std::string b = "binance-0";
  for (int i = 0; i < 3; ++i)
    report(b, collector_outcome::failure);
  caf::anon_send_exit(current(b), caf::exit_reason::kill);
  sched.run();
  advance(100);
  CAF_REQUIRE_EQUAL(incarnations(b), 2u);
  CAF_CHECK(sup_state().slot(b)->breaker.state() == circuit_state::closed);
  CAF_CHECK_EQUAL(sup_state().slot(b)->breaker.consecutive_failures(), 3);
  // Two more failures from the new incarnation make five in a row: open.
  CAF_CHECK_EQUAL(report(b, collector_outcome::failure), entries{failure(b)});
  CAF_CHECK_EQUAL(report(b, collector_outcome::failure),
    (entries{failure(b), state_gauge(b, 1), transition(b, "closed", "open")}));
  CAF_CHECK(status(b) == child_status::parked);
  CAF_CHECK_EQUAL(counter_sum("circuit_breaker_failures_total", b), 5.0);
}

CAF_TEST(a crash restart does not touch the breaker while half open) {
  start();
  const std::string b = "binance-0";
  for (int i = 0; i < 5; ++i)
    report(b, collector_outcome::failure);
  advance(1000);
  report(b, collector_outcome::success);
  caf::anon_send_exit(current(b), caf::exit_reason::kill);
  sched.run();
  advance(100);
  CAF_REQUIRE_EQUAL(incarnations(b), 3u);
  CAF_CHECK(sup_state().slot(b)->breaker.state() == circuit_state::half_open);
  // One more success completes the two needed.
  CAF_CHECK_EQUAL(report(b, collector_outcome::success),
    (entries{success(b), state_gauge(b, 0),
      transition(b, "half_open", "closed"), recovery(b, 1.1),
      open_duration(b, 0)}));
}

CAF_TEST(breaker episode series follow virtual time) {
  auto conf = make_config();
  conf.metrics_tick_ms = 500;
  start(conf);
  const std::string b = "binance-0";
  // Opens at 0 s (virtual time since start).
  for (int i = 0; i < 5; ++i)
    report(b, collector_outcome::failure);
  auto durations = [&] {
    std::vector<double> xs;
    for (auto& batch : w->metrics)
      for (auto& e : batch.entries)
        if (e.name == "circuit_breaker_open_duration_seconds"
          && e.labels[0].second == b)
          xs.push_back(e.value);
    return xs;
  };
  // Open: the gauge grows on every tick; yahoo-0 stays closed and silent.
  advance(500);
  CAF_CHECK_EQUAL(durations(), (std::vector<double>{0.5}));
  advance(500); // the open timeout: half-open, and a tick
  CAF_CHECK(sup_state().slot(b)->breaker.state() == circuit_state::half_open);
  advance(500);
  CAF_CHECK_EQUAL(durations(), (std::vector<double>{0.5, 1.0, 1.5}));
  CAF_CHECK_EQUAL(
    counter_sum("circuit_breaker_half_open_attempts_total", b), 1.0);
  // Closed after 1.7 s: one recovery observation of exactly that, gauge 0.
  advance(200);
  report(b, collector_outcome::success);
  report(b, collector_outcome::success);
  CAF_CHECK(sup_state().slot(b)->breaker.state() == circuit_state::closed);
  std::vector<double> recoveries;
  for (auto& batch : w->metrics)
    for (auto& e : batch.entries)
      if (e.name == "circuit_breaker_recovery_duration_seconds") {
        CAF_CHECK(e.kind == metric_kind::histogram_observe);
        recoveries.push_back(e.value);
      }
  CAF_CHECK_EQUAL(recoveries, (std::vector<double>{1.7}));
  CAF_CHECK_EQUAL(durations(), (std::vector<double>{0.5, 1.0, 1.5, 0.0}));
  // Closed: later ticks leave the gauge at 0.
  advance(500);
  advance(500);
  CAF_CHECK_EQUAL(durations().size(), 4u);
  CAF_CHECK_EQUAL(
    counter_sum("circuit_breaker_half_open_attempts_total", b), 1.0);
  CAF_CHECK_EQUAL(
    counter_sum("circuit_breaker_half_open_attempts_total", "yahoo-0"), 0.0);
}

CAF_TEST(symbol commands go to the collector serving the exchange) {
  start();
  auto binance = current("binance-0");
  auto yahoo = current("yahoo-0");
  auto add_btc = symbol_command{symbol_action::add, "binance", "BTCUSDT"};
  auto add_aapl = symbol_command{symbol_action::add, "yahoo", "AAPL"};
  caf::anon_send(sup, add_btc);
  expect((symbol_command), from(_).to(sup).with(add_btc));
  expect((symbol_command), from(sup).to(binance).with(add_btc));
  caf::anon_send(sup, add_aapl);
  expect((symbol_command), from(_).to(sup).with(add_aapl));
  expect((symbol_command), from(sup).to(yahoo).with(add_aapl));
  // No collector serves kraken: dropped.
  caf::anon_send(sup, symbol_command{symbol_action::add, "kraken", "XBTUSD"});
  expect((symbol_command), from(_).to(sup).with(_));
  CAF_CHECK(!sched.has_job());
  auto& bs = deref<caf::stateful_actor<dummy_state>>(binance).state;
  auto& ys = deref<caf::stateful_actor<dummy_state>>(yahoo).state;
  CAF_CHECK_EQUAL(bs.commands, std::vector<symbol_command>{add_btc});
  CAF_CHECK_EQUAL(ys.commands, std::vector<symbol_command>{add_aapl});
}

CAF_TEST(symbol commands are replayed to a new incarnation) {
  start();
  const std::string b = "binance-0";
  auto add_btc = symbol_command{symbol_action::add, "binance", "BTCUSDT"};
  auto add_eth = symbol_command{symbol_action::add, "binance", "ETHUSDT"};
  auto remove_btc = symbol_command{symbol_action::remove, "binance", "BTCUSDT"};
  caf::anon_send(sup, add_btc);
  sched.run();
  // Crash: the restarted collector gets the command again.
  caf::anon_send_exit(current(b), caf::exit_reason::kill);
  sched.run();
  advance(100);
  CAF_REQUIRE_EQUAL(incarnations(b), 2u);
  CAF_CHECK_EQUAL(
    deref<caf::stateful_actor<dummy_state>>(current(b)).state.commands,
    std::vector<symbol_command>{add_btc});
  // Park it, send commands while it is down: they wait for the next one,
  // compacted to the last command per symbol.
  for (int i = 0; i < 5; ++i)
    report(b, collector_outcome::failure);
  CAF_CHECK(status(b) == child_status::parked);
  caf::anon_send(sup, add_eth);
  caf::anon_send(sup, remove_btc);
  sched.run();
  advance(1000);
  CAF_REQUIRE_EQUAL(incarnations(b), 3u);
  CAF_CHECK_EQUAL(
    deref<caf::stateful_actor<dummy_state>>(current(b)).state.commands,
    (std::vector<symbol_command>{add_eth, remove_btc}));
  // The yahoo collector got none of them.
  CAF_CHECK(deref<caf::stateful_actor<dummy_state>>(current("yahoo-0"))
              .state.commands.empty());
}

CAF_TEST(flow control reaches every collector and every new incarnation) {
  start();
  const std::string b = "binance-0";
  const std::string y = "yahoo-0";
  auto flows = [this](const std::string& name) {
    return deref<caf::stateful_actor<dummy_state>>(current(name)).state.flows;
  };
  auto pause = flow_control{true, "storage_inflight_high", 300, 1};
  auto go = flow_control{false, "storage_inflight_low", 100, 2};
  caf::anon_send(sup, pause);
  sched.run();
  CAF_CHECK_EQUAL(flows(b), std::vector<flow_control>{pause});
  CAF_CHECK_EQUAL(flows(y), std::vector<flow_control>{pause});
  // A collector restarted during the pause is paused too.
  caf::anon_send_exit(current(b), caf::exit_reason::kill);
  sched.run();
  advance(100);
  CAF_REQUIRE_EQUAL(incarnations(b), 2u);
  CAF_CHECK_EQUAL(flows(b), std::vector<flow_control>{pause});
  caf::anon_send(sup, go);
  sched.run();
  CAF_CHECK_EQUAL(flows(b), (std::vector<flow_control>{pause, go}));
  // After the pause, a new incarnation starts without one.
  caf::anon_send_exit(current(b), caf::exit_reason::kill);
  sched.run();
  advance(200);
  CAF_REQUIRE_EQUAL(incarnations(b), 3u);
  CAF_CHECK(flows(b).empty());
}

CAF_TEST(platform config converts to the breaker config) {
  csp::config::circuit_breaker_config in;
  in.failure_threshold = 7;
  in.open_timeout_ms = 1234;
  in.success_threshold = 3;
  in.max_open_timeout_ms = 9999;
  auto out = to_breaker_config(in);
  CAF_CHECK_EQUAL(out.failure_threshold, 7);
  CAF_CHECK_EQUAL(out.open_timeout_ms, 1234);
  CAF_CHECK_EQUAL(out.success_threshold, 3);
  CAF_CHECK_EQUAL(out.max_open_timeout_ms, 9999);
  CAF_CHECK_EQUAL(out.timeout_multiplier, 2.0);
}

CAF_TEST_FIXTURE_SCOPE_END()
