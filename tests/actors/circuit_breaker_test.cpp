#define CAF_SUITE circuit_breaker
#include "caf/test/unit_test.hpp"

#include <vector>

#include "actors/circuit_breaker.hpp"

using namespace csp::actors;
using csp::messages::circuit_state;
using csp::messages::circuit_transition;

namespace {

struct fixture {
  std::vector<circuit_transition> log;

  circuit_breaker make(circuit_breaker_config cfg = {}) {
    CAF_REQUIRE_EQUAL(cfg.validate(), "");
    return circuit_breaker{"binance-0", cfg,
      [this](const circuit_transition& ev) { log.push_back(ev); }};
  }

  static circuit_transition ev(circuit_state from, circuit_state to,
    const char* reason, int64_t time_ms, int64_t open_timeout_ms) {
    return circuit_transition{
      "binance-0", from, to, reason, time_ms, open_timeout_ms};
  }
};

constexpr auto closed = circuit_state::closed;
constexpr auto open = circuit_state::open;
constexpr auto half_open = circuit_state::half_open;

} // namespace

CAF_TEST_FIXTURE_SCOPE(circuit_breaker_tests, fixture)

CAF_TEST(config validation) {
  circuit_breaker_config ok;
  CAF_CHECK_EQUAL(ok.validate(), "");
  auto bad = [](auto mutate) {
    circuit_breaker_config cfg;
    mutate(cfg);
    return !cfg.validate().empty();
  };
  CAF_CHECK(bad([](auto& c) { c.failure_threshold = 0; }));
  CAF_CHECK(bad([](auto& c) { c.failure_threshold = -3; }));
  CAF_CHECK(bad([](auto& c) { c.success_threshold = 0; }));
  CAF_CHECK(bad([](auto& c) { c.open_timeout_ms = 0; }));
  CAF_CHECK(bad([](auto& c) { c.open_timeout_ms = -1; }));
  CAF_CHECK(bad([](auto& c) { c.max_open_timeout_ms = 0; }));
  CAF_CHECK(bad([](auto& c) { c.max_open_timeout_ms = 59999; }));
  CAF_CHECK(bad([](auto& c) { c.timeout_multiplier = 0.5; }));
  CAF_CHECK(bad([](auto& c) { c.timeout_multiplier = 1.0 / 0.0; }));
  // Boundaries that are still sensible.
  CAF_CHECK(!bad([](auto& c) { c.max_open_timeout_ms = c.open_timeout_ms; }));
  CAF_CHECK(!bad([](auto& c) { c.timeout_multiplier = 1.0; }));
  CAF_CHECK(!bad([](auto& c) {
    c.failure_threshold = 1;
    c.success_threshold = 1;
  }));
}

CAF_TEST(defaults open after five consecutive failures) {
  auto cb = make();
  CAF_CHECK_EQUAL(cb.state(), closed);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 60000);
  for (int i = 1; i <= 4; ++i) {
    cb.record_failure(1000 + i);
    CAF_CHECK_EQUAL(cb.state(), closed);
    CAF_CHECK_EQUAL(cb.consecutive_failures(), i);
    CAF_CHECK(cb.allow_request(1000 + i));
  }
  CAF_CHECK(log.empty());
  cb.record_failure(1005);
  CAF_CHECK_EQUAL(cb.state(), open);
  CAF_REQUIRE_EQUAL(log.size(), 1u);
  CAF_CHECK_EQUAL(log[0], ev(closed, open, "failure_threshold", 1005, 60000));
  CAF_CHECK_EQUAL(cb.total_failures(), 5u);
  CAF_CHECK_EQUAL(cb.total_transitions(), 1u);
}

CAF_TEST(a success in closed state resets the consecutive failures) {
  auto cb = make();
  for (int i = 0; i < 4; ++i)
    cb.record_failure(i);
  cb.record_success(10);
  CAF_CHECK_EQUAL(cb.consecutive_failures(), 0);
  for (int i = 0; i < 4; ++i)
    cb.record_failure(20 + i);
  CAF_CHECK_EQUAL(cb.state(), closed);
  CAF_CHECK(log.empty());
  cb.record_failure(30);
  CAF_CHECK_EQUAL(cb.state(), open);
  CAF_CHECK_EQUAL(cb.total_failures(), 9u);
  CAF_CHECK_EQUAL(cb.total_successes(), 1u);
}

CAF_TEST(open refuses requests until exactly the timeout) {
  auto cb = make();
  for (int i = 0; i < 5; ++i)
    cb.record_failure(10000);
  CAF_REQUIRE_EQUAL(cb.state(), open);
  CAF_CHECK_EQUAL(cb.half_open_at_ms(), 70000);
  CAF_CHECK(!cb.allow_request(10000));
  CAF_CHECK(!cb.allow_request(50000));
  CAF_CHECK(!cb.allow_request(69999));
  CAF_CHECK_EQUAL(cb.poll(69999), open);
  // Outcomes reported while open count but change nothing.
  cb.record_success(69999);
  cb.record_failure(69999);
  CAF_CHECK_EQUAL(cb.state(), open);
  CAF_CHECK_EQUAL(cb.total_successes(), 1u);
  CAF_CHECK_EQUAL(cb.total_failures(), 6u);
  CAF_CHECK_EQUAL(log.size(), 1u);
  CAF_CHECK(cb.allow_request(70000));
  CAF_CHECK_EQUAL(cb.state(), half_open);
  CAF_REQUIRE_EQUAL(log.size(), 2u);
  CAF_CHECK_EQUAL(log[1], ev(open, half_open, "open_timeout", 70000, 0));
  // Half-open lets requests through.
  CAF_CHECK(cb.allow_request(70001));
  CAF_CHECK_EQUAL(log.size(), 2u);
}

CAF_TEST(poll moves a due open circuit to half open) {
  auto cb = make();
  for (int i = 0; i < 5; ++i)
    cb.record_failure(0);
  CAF_CHECK_EQUAL(cb.poll(59999), open);
  CAF_CHECK_EQUAL(cb.poll(123456), half_open);
  CAF_REQUIRE_EQUAL(log.size(), 2u);
  CAF_CHECK_EQUAL(log[1].time_ms, 123456);
  CAF_CHECK_EQUAL(log[1].reason, "open_timeout");
}

CAF_TEST(half open closes after the success threshold) {
  auto cb = make();
  for (int i = 0; i < 5; ++i)
    cb.record_failure(0);
  CAF_REQUIRE(cb.allow_request(60000));
  cb.record_success(60010);
  CAF_CHECK_EQUAL(cb.state(), half_open);
  CAF_CHECK_EQUAL(cb.consecutive_successes(), 1);
  cb.record_success(60020);
  CAF_CHECK_EQUAL(cb.state(), closed);
  CAF_REQUIRE_EQUAL(log.size(), 3u);
  CAF_CHECK_EQUAL(log[2], ev(half_open, closed, "success_threshold", 60020, 0));
  // Closed again: the failure count starts from zero.
  for (int i = 0; i < 4; ++i)
    cb.record_failure(60030);
  CAF_CHECK_EQUAL(cb.state(), closed);
}

CAF_TEST(half open failure reopens with a doubled timeout up to the cap) {
  auto cb = make();
  for (int i = 0; i < 5; ++i)
    cb.record_failure(0);
  // Expected timeouts: 60 s, then 120, 240, 300 (cap), 300.
  int64_t expected[] = {120000, 240000, 300000, 300000};
  int64_t t = 0;
  int64_t timeout = 60000;
  for (auto want : expected) {
    CAF_CHECK(!cb.allow_request(t + timeout - 1));
    t += timeout;
    CAF_REQUIRE(cb.allow_request(t));
    // One success is not enough with the default threshold of two.
    cb.record_success(t + 1);
    cb.record_failure(t + 2);
    CAF_CHECK_EQUAL(cb.state(), open);
    CAF_CHECK_EQUAL(
      log.back(), ev(half_open, open, "half_open_failure", t + 2, want));
    CAF_CHECK_EQUAL(cb.open_timeout_ms(), want);
    CAF_CHECK_EQUAL(cb.half_open_at_ms(), t + 2 + want);
    t += 2;
    timeout = want;
  }
  // Closing restores the base timeout.
  t += timeout;
  CAF_REQUIRE(cb.allow_request(t));
  cb.record_success(t);
  cb.record_success(t);
  CAF_CHECK_EQUAL(cb.state(), closed);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 60000);
  for (int i = 0; i < 5; ++i)
    cb.record_failure(t + 5);
  CAF_CHECK_EQUAL(
    log.back(), ev(closed, open, "failure_threshold", t + 5, 60000));
  CAF_CHECK(!cb.allow_request(t + 5 + 59999));
  CAF_CHECK(cb.allow_request(t + 5 + 60000));
}

CAF_TEST(custom config thresholds and multiplier) {
  circuit_breaker_config cfg;
  cfg.failure_threshold = 1;
  cfg.success_threshold = 3;
  cfg.open_timeout_ms = 1000;
  cfg.max_open_timeout_ms = 5000;
  cfg.timeout_multiplier = 1.5;
  auto cb = make(cfg);
  cb.record_failure(0);
  CAF_CHECK_EQUAL(cb.state(), open);
  CAF_CHECK_EQUAL(log.back().open_timeout_ms, 1000);
  CAF_REQUIRE(cb.allow_request(1000));
  cb.record_failure(1000);
  // 1000 * 1.5 = 1500, then 2250, 3375, 5062.5 -> capped at 5000.
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 1500);
  CAF_REQUIRE(cb.allow_request(2500));
  cb.record_failure(2500);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 2250);
  CAF_REQUIRE(cb.allow_request(4750));
  cb.record_failure(4750);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 3375);
  CAF_REQUIRE(cb.allow_request(8125));
  cb.record_failure(8125);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 5000);
  CAF_REQUIRE(cb.allow_request(13125));
  cb.record_success(13126);
  cb.record_success(13127);
  CAF_CHECK_EQUAL(cb.state(), half_open);
  cb.record_success(13128);
  CAF_CHECK_EQUAL(cb.state(), closed);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 1000);
}

CAF_TEST(a failure between half open successes restarts the count) {
  circuit_breaker_config cfg;
  cfg.failure_threshold = 1;
  cfg.success_threshold = 2;
  cfg.open_timeout_ms = 10;
  cfg.max_open_timeout_ms = 10;
  auto cb = make(cfg);
  cb.record_failure(0);
  CAF_REQUIRE(cb.allow_request(10));
  cb.record_success(11);
  cb.record_failure(12);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 10); // capped at the base
  CAF_REQUIRE(cb.allow_request(22));
  CAF_CHECK_EQUAL(cb.consecutive_successes(), 0);
  cb.record_success(23);
  CAF_CHECK_EQUAL(cb.state(), half_open);
  cb.record_success(24);
  CAF_CHECK_EQUAL(cb.state(), closed);
}

CAF_TEST(force open and reset) {
  auto cb = make();
  cb.reset(5); // closed already: no transition
  CAF_CHECK(log.empty());
  cb.force_open(10);
  CAF_CHECK_EQUAL(cb.state(), open);
  CAF_REQUIRE_EQUAL(log.size(), 1u);
  CAF_CHECK_EQUAL(log[0], ev(closed, open, "forced_open", 10, 60000));
  cb.force_open(11); // already open: nothing
  CAF_CHECK_EQUAL(log.size(), 1u);
  CAF_CHECK(!cb.allow_request(60009));
  cb.reset(20);
  CAF_CHECK_EQUAL(cb.state(), closed);
  CAF_REQUIRE_EQUAL(log.size(), 2u);
  CAF_CHECK_EQUAL(log[1], ev(open, closed, "reset", 20, 0));
  CAF_CHECK(cb.allow_request(21));
  // Reset restores the base timeout after doubling.
  for (int i = 0; i < 5; ++i)
    cb.record_failure(100);
  CAF_REQUIRE(cb.allow_request(60100));
  cb.record_failure(60100);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 120000);
  cb.reset(60200);
  CAF_CHECK_EQUAL(cb.open_timeout_ms(), 60000);
  CAF_CHECK_EQUAL(cb.total_transitions(), log.size());
}

CAF_TEST(works without a sink) {
  circuit_breaker cb{"x"};
  for (int i = 0; i < 5; ++i)
    cb.record_failure(0);
  CAF_CHECK_EQUAL(cb.state(), open);
  CAF_CHECK(cb.allow_request(60000));
  CAF_CHECK_EQUAL(cb.total_transitions(), 2u);
  CAF_CHECK_EQUAL(cb.collector(), "x");
}

CAF_TEST_FIXTURE_SCOPE_END()
