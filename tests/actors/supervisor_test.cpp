#define CAF_SUITE supervisor
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

#include "actors/supervisor.hpp"
#include "messages/type_ids.hpp"
#include "tests/actors/actor_test_support.hpp"

using namespace csp::actors;
using namespace csp::messages;
using std::chrono::milliseconds;

namespace {

struct test_config : caf::actor_system_config {
  test_config() { register_types(*this); }
};

/// What the test children and the fake metrics actor saw.
struct world {
  std::map<std::string, std::vector<caf::actor>> spawned;
  std::vector<std::pair<std::string, caf::error>> exits;
  std::vector<metric_update> metrics;
};

/// A supervised worker: keeps the ints it receives and its collaborator.
struct worker_state {
  caf::actor collaborator;
  std::vector<int> received;
  static inline const char* name = "worker";
};

caf::behavior worker(caf::stateful_actor<worker_state>* self,
  caf::actor collaborator, std::string name, std::shared_ptr<world> w) {
  self->state.collaborator = std::move(collaborator);
  self->attach_functor([w, name](const caf::error& reason) {
    w->exits.emplace_back(name, reason);
  });
  return {
    [=](int x) { self->state.received.push_back(x); },
    [=](shutdown_atom) { self->quit(); },
  };
}

caf::behavior recorder(caf::event_based_actor*, std::shared_ptr<world> w) {
  return {
    [=](const metric_update& x) { w->metrics.push_back(x); },
  };
}

using csp::test_support::watcher;

metric_entry restarted(const std::string& name) {
  return metric_entry{
    metric_kind::counter_add, "actor_restarts_total", {{"actor", name}}, 1.0};
}

struct fixture : test_coordinator_fixture<test_config> {
  std::shared_ptr<world> w = std::make_shared<world>();
  caf::actor metrics;
  caf::actor collaborator;
  caf::actor sup;
  caf::actor sup_watcher;
  std::shared_ptr<caf::error> sup_exit = std::make_shared<caf::error>();
  std::shared_ptr<bool> sup_down = std::make_shared<bool>(false);

  fixture() {
    metrics = sys.spawn(recorder, w);
    // Stands for a shared collaborator such as the metrics actor.
    collaborator = sys.spawn(recorder, w);
  }

  ~fixture() override {
    for (auto& h : {sup, sup_watcher, metrics, collaborator})
      if (h)
        caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    sched.run();
  }

  child_spec spec(std::string name, std::vector<std::string> routes = {}) {
    auto ww = w;
    auto peer = collaborator;
    auto factory = [ww, peer, name](caf::local_actor* parent) {
      auto h = parent->spawn(worker, peer, name, ww);
      ww->spawned[name].push_back(h);
      return h;
    };
    return child_spec{name, std::move(routes), factory};
  }

  /// Backoff 100, 200, 400 ms (cap 400), no jitter, 2 restarts per 5 s,
  /// reset after 1 s of uptime.
  static supervisor_config make_config() {
    supervisor_config cfg;
    cfg.name = "test_supervisor";
    cfg.restart.initial_backoff_ms = 100;
    cfg.restart.max_backoff_ms = 400;
    cfg.restart.multiplier = 2.0;
    cfg.restart.jitter = 0.0;
    cfg.restart.max_restarts = 2;
    cfg.restart.within_ms = 5000;
    cfg.restart.reset_after_ms = 1000;
    cfg.wall_clock_ms = [] { return std::int64_t{1'000'000}; };
    return cfg;
  }

  void start(std::vector<child_spec> specs) {
    auto conf = make_config();
    conf.metrics = metrics;
    sup = sys.spawn(supervisor, conf, std::move(specs));
    sup_watcher = sys.spawn(watcher, sup, sup_exit, sup_down);
    sched.run();
  }

  caf::actor current(const std::string& name) {
    auto& xs = w->spawned[name];
    CAF_REQUIRE(!xs.empty());
    return xs.back();
  }

  std::size_t incarnations(const std::string& name) {
    return w->spawned[name].size();
  }

  worker_state& state_of(const caf::actor& h) {
    return deref<caf::stateful_actor<worker_state>>(h).state;
  }

  child_status status(const std::string& name) {
    auto& core = deref<caf::stateful_actor<supervisor_state>>(sup).state.core;
    auto child = core.find(name);
    CAF_REQUIRE(child != nullptr);
    return child->status;
  }

  void crash(const std::string& name) {
    caf::anon_send_exit(current(name), caf::exit_reason::kill);
    sched.run();
  }

  void advance(std::int64_t ms) {
    advance_time(milliseconds{ms});
    sched.run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(supervisor_tests, fixture)

CAF_TEST(error values) {
  auto parked = make_error(supervision_errc::parked);
  CAF_CHECK(is_supervision_error(parked, supervision_errc::parked));
  CAF_CHECK(!is_supervision_error(parked, supervision_errc::removed));
  CAF_CHECK(!is_supervision_error(caf::error{}, supervision_errc::parked));
  CAF_CHECK(!is_supervision_error(
    caf::error{caf::exit_reason::kill}, supervision_errc::parked));
  CAF_CHECK_EQUAL(to_string(child_status::restart_pending), "restart_pending");
}

CAF_TEST(children start with their collaborators) {
  start({spec("a"), spec("b")});
  CAF_CHECK_EQUAL(incarnations("a"), 1u);
  CAF_CHECK_EQUAL(incarnations("b"), 1u);
  CAF_CHECK_EQUAL(state_of(current("a")).collaborator, collaborator);
  CAF_CHECK(status("a") == child_status::running);
  CAF_CHECK(w->metrics.empty());
}

CAF_TEST(a normal exit is not restarted) {
  start({spec("a")});
  caf::anon_send(current("a"), shutdown_atom_v);
  sched.run();
  CAF_CHECK(status("a") == child_status::stopped);
  advance(60'000);
  CAF_CHECK_EQUAL(incarnations("a"), 1u);
  CAF_CHECK(w->metrics.empty());
  CAF_CHECK(!*sup_down);
}

CAF_TEST(a crash restarts after the backoff with the same collaborators) {
  start({spec("a"), spec("b")});
  caf::anon_send(current("b"), 7);
  sched.run();
  auto b = current("b");
  crash("a");
  CAF_CHECK(status("a") == child_status::restart_pending);
  advance(99);
  CAF_CHECK_EQUAL(incarnations("a"), 1u);
  advance(1);
  CAF_REQUIRE_EQUAL(incarnations("a"), 2u);
  CAF_CHECK(status("a") == child_status::running);
  CAF_CHECK_EQUAL(state_of(current("a")).collaborator, collaborator);
  CAF_REQUIRE_EQUAL(w->metrics.size(), 1u);
  CAF_CHECK_EQUAL(
    w->metrics[0].entries, std::vector<metric_entry>{restarted("a")});
  // The sibling was not touched and kept its state.
  CAF_CHECK_EQUAL(current("b"), b);
  CAF_CHECK_EQUAL(state_of(b).received, std::vector<int>{7});
}

CAF_TEST(backoff grows and resets after a stable period) {
  start({spec("a")});
  crash("a");
  advance(100);
  crash("a");
  // Second restart of the sequence: 200 ms.
  advance(199);
  CAF_CHECK_EQUAL(incarnations("a"), 2u);
  advance(1);
  CAF_CHECK_EQUAL(incarnations("a"), 3u);
  // Up for 6 s: the backoff starts over and the intensity window
  // (5 s) has forgotten both restarts.
  advance(6000);
  crash("a");
  advance(99);
  CAF_CHECK_EQUAL(incarnations("a"), 3u);
  advance(1);
  CAF_CHECK_EQUAL(incarnations("a"), 4u);
  CAF_CHECK(!*sup_down);
}

CAF_TEST(intensity limit escalates to the parent) {
  start({spec("a"), spec("b")});
  crash("a");
  advance(100);
  crash("a");
  advance(200);
  CAF_CHECK_EQUAL(incarnations("a"), 3u);
  CAF_CHECK(!*sup_down);
  // Third crash within 5 s with max_restarts = 2.
  crash("a");
  CAF_CHECK(*sup_down);
  CAF_CHECK(
    is_supervision_error(*sup_exit, supervision_errc::restart_intensity));
  // The other child was shut down with the supervisor.
  CAF_REQUIRE(!w->exits.empty());
  CAF_CHECK_EQUAL(w->exits.back().first, "b");
  CAF_CHECK_EQUAL(
    w->exits.back().second, caf::error{caf::exit_reason::user_shutdown});
  CAF_CHECK_EQUAL(w->metrics.back().entries,
    (std::vector<metric_entry>{
      metric_entry{metric_kind::counter_add, "supervisor_escalations_total",
        {{"supervisor", "test_supervisor"}}, 1.0}}));
  advance(10'000);
  CAF_CHECK_EQUAL(incarnations("a"), 3u);
  sup = nullptr;
}

CAF_TEST(messages are forwarded by child name or route) {
  start({spec("a", {"binance"}), spec("b", {"yahoo", "bist"})});
  caf::anon_send(sup, std::string{"a"}, caf::make_message(1));
  caf::anon_send(sup, std::string{"bist"}, caf::make_message(2));
  caf::anon_send(sup, std::string{"binance"}, caf::make_message(3));
  caf::anon_send(sup, std::string{"kraken"}, caf::make_message(4));
  sched.run();
  CAF_CHECK_EQUAL(state_of(current("a")).received, (std::vector<int>{1, 3}));
  CAF_CHECK_EQUAL(state_of(current("b")).received, std::vector<int>{2});
}

CAF_TEST(a parked child stays down until unparked) {
  start({spec("a")});
  caf::anon_send(sup, park_atom_v, std::string{"a"});
  sched.run();
  CAF_REQUIRE_EQUAL(w->exits.size(), 1u);
  CAF_CHECK(is_supervision_error(w->exits[0].second, supervision_errc::parked));
  CAF_CHECK(status("a") == child_status::parked);
  advance(60'000);
  CAF_CHECK_EQUAL(incarnations("a"), 1u);
  caf::anon_send(sup, unpark_atom_v, std::string{"a"});
  sched.run();
  CAF_CHECK_EQUAL(incarnations("a"), 2u);
  CAF_CHECK(status("a") == child_status::running);
  // Parking is not a restart.
  CAF_CHECK(w->metrics.empty());
}

CAF_TEST(parking cancels a pending restart) {
  start({spec("a")});
  crash("a");
  caf::anon_send(sup, park_atom_v, std::string{"a"});
  sched.run();
  advance(1000);
  CAF_CHECK_EQUAL(incarnations("a"), 1u);
  CAF_CHECK(status("a") == child_status::parked);
}

CAF_TEST(children go down with the supervisor) {
  start({spec("a"), spec("b")});
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(*sup_down);
  CAF_REQUIRE_EQUAL(w->exits.size(), 2u);
  CAF_CHECK_EQUAL(
    w->exits[0].second, caf::error{caf::exit_reason::user_shutdown});
  CAF_CHECK_EQUAL(
    w->exits[1].second, caf::error{caf::exit_reason::user_shutdown});
  sup = nullptr;
}

CAF_TEST_FIXTURE_SCOPE_END()
