#define CAF_SUITE restart_policy
#include "caf/test/unit_test.hpp"

#include <cstdint>
#include <vector>

#include "actors/restart_policy.hpp"

using namespace csp::actors;
using action = restart_decision::action;

namespace {

/// No jitter, wide intensity window: only the backoff sequence matters.
restart_policy_config plain_config() {
  restart_policy_config cfg;
  cfg.initial_backoff_ms = 100;
  cfg.max_backoff_ms = 1000;
  cfg.multiplier = 2.0;
  cfg.jitter = 0.0;
  cfg.max_restarts = 1000;
  cfg.within_ms = 1'000'000;
  cfg.reset_after_ms = 5000;
  return cfg;
}

/// Returns the given numbers in order, then repeats the last one.
restart_policy::uniform_source scripted(std::vector<double> xs) {
  auto pos = std::size_t{0};
  return [xs, pos]() mutable {
    auto x = xs[pos < xs.size() ? pos : xs.size() - 1];
    ++pos;
    return x;
  };
}

} // namespace

CAF_TEST(config validation) {
  CAF_CHECK_EQUAL(restart_policy_config{}.validate(), "");
  auto cfg = plain_config();
  cfg.initial_backoff_ms = -1;
  CAF_CHECK_NOT_EQUAL(cfg.validate(), "");
  cfg = plain_config();
  cfg.max_backoff_ms = 99;
  CAF_CHECK_NOT_EQUAL(cfg.validate(), "");
  cfg = plain_config();
  cfg.multiplier = 0.5;
  CAF_CHECK_NOT_EQUAL(cfg.validate(), "");
  cfg = plain_config();
  cfg.jitter = 1.0;
  CAF_CHECK_NOT_EQUAL(cfg.validate(), "");
  cfg = plain_config();
  cfg.jitter = -0.1;
  CAF_CHECK_NOT_EQUAL(cfg.validate(), "");
  cfg = plain_config();
  cfg.max_restarts = -1;
  CAF_CHECK_NOT_EQUAL(cfg.validate(), "");
  cfg = plain_config();
  cfg.within_ms = 0;
  CAF_CHECK_NOT_EQUAL(cfg.validate(), "");
  cfg = plain_config();
  cfg.reset_after_ms = 0;
  CAF_CHECK_NOT_EQUAL(cfg.validate(), "");
}

CAF_TEST(backoff doubles up to the cap) {
  restart_policy p{plain_config()};
  // 100, 200, 400, 800, then capped at 1000.
  std::vector<std::int64_t> expected{100, 200, 400, 800, 1000, 1000, 1000};
  std::int64_t now = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    p.on_start(now);
    now += 10; // Crashes quickly: no reset.
    auto d = p.on_exit(now);
    CAF_CHECK(d.what == action::restart);
    CAF_CHECK_EQUAL(d.delay_ms, expected[i]);
    CAF_CHECK_EQUAL(d.attempt, static_cast<int>(i + 1));
    now += d.delay_ms;
  }
  CAF_CHECK_EQUAL(p.total_restarts(), expected.size());
}

CAF_TEST(non integral multiplier rounds to the nearest millisecond) {
  auto cfg = plain_config();
  cfg.initial_backoff_ms = 10;
  cfg.multiplier = 1.5;
  restart_policy p{cfg};
  // 10, 15, 22.5 -> 23 (round half away from zero), 33.75 -> 34.
  std::vector<std::int64_t> expected{10, 15, 23, 34};
  for (auto x : expected)
    CAF_CHECK_EQUAL(p.on_exit(0).delay_ms, x);
}

CAF_TEST(huge attempt counts stay at the cap) {
  auto cfg = plain_config();
  cfg.multiplier = 10.0;
  restart_policy p{cfg};
  restart_decision d;
  for (int i = 0; i < 500; ++i)
    d = p.on_exit(0);
  CAF_CHECK(d.what == action::restart);
  CAF_CHECK_EQUAL(d.delay_ms, 1000);
  CAF_CHECK_EQUAL(d.attempt, 500);
}

CAF_TEST(jitter scales the base delay by one plus jitter times 2u minus 1) {
  auto cfg = plain_config();
  cfg.jitter = 0.5;
  restart_policy p{cfg, scripted({0.0, 0.5, 0.75, 0.25})};
  // base 100 * (1 - 0.5) = 50; 200 * 1 = 200; 400 * 1.25 = 500;
  // 800 * 0.75 = 600.
  CAF_CHECK_EQUAL(p.on_exit(0).delay_ms, 50);
  CAF_CHECK_EQUAL(p.on_exit(0).delay_ms, 200);
  CAF_CHECK_EQUAL(p.on_exit(0).delay_ms, 500);
  CAF_CHECK_EQUAL(p.on_exit(0).delay_ms, 600);
}

CAF_TEST(seeded jitter stays in bounds and is reproducible) {
  auto cfg = plain_config();
  cfg.jitter = 0.2;
  restart_policy a{cfg, make_seeded_uniform(42)};
  restart_policy b{cfg, make_seeded_uniform(42)};
  restart_policy c{cfg, make_seeded_uniform(43)};
  auto differs = false;
  for (int i = 1; i <= 200; ++i) {
    // Independent reference of the base delay: 100 * 2^(i-1), capped.
    std::int64_t base = 100;
    for (int k = 1; k < i && base < 1000; ++k)
      base *= 2;
    if (base > 1000)
      base = 1000;
    auto x = a.on_exit(0).delay_ms;
    auto y = b.on_exit(0).delay_ms;
    auto z = c.on_exit(0).delay_ms;
    CAF_CHECK_EQUAL(x, y);
    differs = differs || x != z;
    CAF_CHECK_GREATER_OR_EQUAL(x, base * 8 / 10);
    CAF_CHECK_LESS_OR_EQUAL(x, base * 12 / 10);
  }
  CAF_CHECK(differs);
}

CAF_TEST(intensity limit escalates the exit after max restarts in window) {
  auto cfg = plain_config();
  cfg.max_restarts = 3;
  cfg.within_ms = 1000;
  restart_policy p{cfg};
  CAF_CHECK(p.on_exit(0).what == action::restart);
  CAF_CHECK(p.on_exit(10).what == action::restart);
  CAF_CHECK(p.on_exit(20).what == action::restart);
  auto d = p.on_exit(30);
  CAF_CHECK(d.what == action::escalate);
  CAF_CHECK_EQUAL(d.delay_ms, 0);
  // An escalation is not a restart.
  CAF_CHECK_EQUAL(p.total_restarts(), 3u);
}

CAF_TEST(intensity window slides) {
  auto cfg = plain_config();
  cfg.max_restarts = 3;
  cfg.within_ms = 1000;
  restart_policy p{cfg};
  CAF_CHECK(p.on_exit(0).what == action::restart);
  CAF_CHECK(p.on_exit(10).what == action::restart);
  CAF_CHECK(p.on_exit(20).what == action::restart);
  // The window is (now - 1000, now]: at 1000 the restart at 0 has left it.
  CAF_CHECK(p.on_exit(1000).what == action::restart);
  // Window (5, 1005] holds 10, 20 and 1000: full.
  CAF_CHECK(p.on_exit(1005).what == action::escalate);
  // Window (1010, 2010] holds none of them: room again.
  CAF_CHECK(p.on_exit(2010).what == action::restart);
}

CAF_TEST(zero max restarts escalates at once) {
  auto cfg = plain_config();
  cfg.max_restarts = 0;
  restart_policy p{cfg};
  CAF_CHECK(p.on_exit(0).what == action::escalate);
}

CAF_TEST(backoff resets after the child stayed up long enough) {
  restart_policy p{plain_config()};
  p.on_start(0);
  CAF_CHECK_EQUAL(p.on_exit(10).delay_ms, 100);
  p.on_start(110);
  CAF_CHECK_EQUAL(p.on_exit(120).delay_ms, 200);
  p.on_start(320);
  // Up for 4999 ms, one short of reset_after_ms: keeps growing.
  CAF_CHECK_EQUAL(p.on_exit(320 + 4999).delay_ms, 400);
  p.on_start(10'000);
  // Up for exactly reset_after_ms: a new sequence.
  auto d = p.on_exit(15'000);
  CAF_CHECK_EQUAL(d.delay_ms, 100);
  CAF_CHECK_EQUAL(d.attempt, 1);
  // Restarts are still counted in total.
  CAF_CHECK_EQUAL(p.total_restarts(), 4u);
}

CAF_TEST(an exit without a recorded start does not reset) {
  restart_policy p{plain_config()};
  CAF_CHECK_EQUAL(p.on_exit(0).delay_ms, 100);
  // No on_start: the long gap says nothing about the child's uptime.
  CAF_CHECK_EQUAL(p.on_exit(100'000).delay_ms, 200);
}
