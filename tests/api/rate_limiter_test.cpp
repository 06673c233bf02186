#define CAF_SUITE api.rate_limiter
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/rate_limiter.hpp"

using namespace csp::api;

namespace {

constexpr std::int64_t ms = 1'000'000;
constexpr std::int64_t sec = 1'000'000'000;
constexpr std::int64_t t0 = 1'700'000'000 * sec;

rate_limit_config make_config(
  double per_second, std::int64_t burst, std::size_t max_clients = 1000) {
  rate_limit_config cfg;
  cfg.per_second = per_second;
  cfg.burst = burst;
  cfg.max_clients = max_clients;
  return cfg;
}

/// The message of the std::invalid_argument the constructor throws, or
/// "<no exception>".
std::string construction_error(rate_limit_config cfg) {
  try {
    rate_limiter limiter{cfg};
  } catch (const std::invalid_argument& ex) {
    return ex.what();
  }
  return "<no exception>";
}

/// Runs f(thread_index) on `n` threads and waits for all of them.
template <class F>
void run_threads(int n, F f) {
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(n));
  for (int t = 0; t < n; ++t)
    pool.emplace_back(f, t);
  for (auto& th : pool)
    th.join();
}

bool contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos)
    return true;
  CAF_MESSAGE("\"" << text << "\" does not contain \"" << part << "\"");
  return false;
}

} // namespace

CAF_TEST(bad settings are refused with a clear message) {
  CAF_CHECK(contains(construction_error(make_config(0, 10)), "per_second"));
  CAF_CHECK(contains(construction_error(make_config(-1, 10)), "per_second"));
  CAF_CHECK(
    contains(construction_error(make_config(std::nan(""), 10)), "per_second"));
  CAF_CHECK(contains(construction_error(make_config(1, 0)), "burst"));
  CAF_CHECK(contains(construction_error(make_config(1, -5)), "burst"));
  CAF_CHECK(contains(construction_error(make_config(1, 1, 0)), "max_clients"));
  CAF_CHECK(contains(construction_error(make_config(1e-6, 1)), "0.001"));
  CAF_CHECK_EQUAL(construction_error(make_config(0.5, 1, 1)), "<no exception>");
}

CAF_TEST(the burst is allowed exactly then refused) {
  rate_limiter limiter{make_config(2, 5)};
  for (std::int64_t i = 0; i < 5; ++i) {
    auto d = limiter.check("10.0.0.1", t0);
    CAF_CHECK(d.allowed);
    CAF_CHECK_EQUAL(d.retry_after_s, 0);
    CAF_CHECK_EQUAL(d.remaining, 4 - i);
  }
  auto d = limiter.check("10.0.0.1", t0);
  CAF_CHECK(!d.allowed);
  CAF_CHECK_EQUAL(d.remaining, 0);
  // Two per second: the next token comes after 0.5 s, i.e. 1 s rounded up.
  CAF_CHECK_EQUAL(d.retry_after_s, 1);
  // Refused checks take nothing: still refused a moment later...
  CAF_CHECK(!limiter.check("10.0.0.1", t0 + 499 * ms).allowed);
  // ... and exactly one token after 500 ms.
  CAF_CHECK(limiter.check("10.0.0.1", t0 + 500 * ms).allowed);
  CAF_CHECK(!limiter.check("10.0.0.1", t0 + 500 * ms).allowed);
}

CAF_TEST(retry after is the wait rounded up and is honoured) {
  // One token every 4 s.
  rate_limiter limiter{make_config(0.25, 1)};
  CAF_REQUIRE(limiter.check("a", t0).allowed);
  auto d = limiter.check("a", t0);
  CAF_CHECK(!d.allowed);
  CAF_CHECK_EQUAL(d.retry_after_s, 4);
  // 1 s later 3 s remain; 1.5 s later 2.5 s remain, rounded up to 3.
  CAF_CHECK_EQUAL(limiter.check("a", t0 + sec).retry_after_s, 3);
  CAF_CHECK_EQUAL(limiter.check("a", t0 + 1500 * ms).retry_after_s, 3);
  CAF_CHECK_EQUAL(limiter.check("a", t0 + 3 * sec + 1).retry_after_s, 1);
  // Coming back exactly when told works; one nanosecond earlier does not.
  CAF_CHECK(!limiter.check("a", t0 + 4 * sec - 1).allowed);
  CAF_CHECK(limiter.check("a", t0 + 4 * sec).allowed);
  // A rate above one per second still asks for at least one second.
  rate_limiter fast{make_config(3, 1)};
  CAF_REQUIRE(fast.check("b", t0).allowed);
  auto f = fast.check("b", t0);
  CAF_CHECK(!f.allowed);
  CAF_CHECK_EQUAL(f.retry_after_s, 1);
  CAF_CHECK(fast.check("b", t0 + f.retry_after_s * sec).allowed);
}

CAF_TEST(clients are independent) {
  rate_limiter limiter{make_config(1, 3)};
  for (int i = 0; i < 3; ++i)
    CAF_CHECK(limiter.check("alice", t0).allowed);
  CAF_CHECK(!limiter.check("alice", t0).allowed);
  for (int i = 0; i < 3; ++i)
    CAF_CHECK(limiter.check("bob", t0).allowed);
  CAF_CHECK(!limiter.check("bob", t0).allowed);
  CAF_CHECK(!limiter.check("alice", t0).allowed);
  CAF_CHECK_EQUAL(limiter.tracked(), 2u);
}

CAF_TEST(the table stays bounded) {
  for (std::size_t max : {1u, 10u, 1000u}) {
    CAF_MESSAGE("max_clients " << max);
    rate_limiter limiter{make_config(1, 3, max)};
    for (std::size_t i = 0; i < 5000; ++i) {
      auto d = limiter.check(
        "client-" + std::to_string(i), t0 + static_cast<std::int64_t>(i));
      CAF_CHECK(d.allowed);
      CAF_CHECK_LESS_OR_EQUAL(limiter.tracked(), max);
    }
    CAF_CHECK_EQUAL(limiter.tracked(), max);
  }
}

CAF_TEST(evicting idle clients gives active ones no extra tokens) {
  // Practically no refill: every allowed request comes from the burst.
  for (std::size_t max : {2u, 10u, 1000u}) {
    CAF_MESSAGE("max_clients " << max);
    rate_limiter limiter{make_config(0.001, 3, max)};
    for (int i = 0; i < 3; ++i)
      CAF_REQUIRE(limiter.check("active", t0).allowed);
    std::int64_t allowed = 0;
    for (std::int64_t i = 0; i < 20'000; ++i) {
      auto now = t0 + i * ms;
      if (limiter.check("active", now).allowed)
        ++allowed;
      // A stream of new clients forces evictions all the time.
      CAF_CHECK(limiter.check("idle-" + std::to_string(i), now).allowed);
    }
    // 20 s at 0.001 per second refill nothing.
    CAF_CHECK_EQUAL(allowed, 0);
    CAF_CHECK_LESS_OR_EQUAL(limiter.tracked(), max);
  }
}

CAF_TEST(long keys are cut) {
  rate_limiter limiter{make_config(1, 1)};
  std::string a(1000, 'k');
  std::string b = a;
  b.back() = 'x'; // differs only beyond max_key_size
  CAF_CHECK(limiter.check(a, t0).allowed);
  CAF_CHECK(!limiter.check(b, t0).allowed);
  CAF_CHECK_EQUAL(limiter.tracked(), 1u);
}

CAF_TEST(concurrent checks never allow more than burst plus refill) {
  constexpr int threads = 4;
  constexpr std::int64_t per_thread = 20'000;
  // One shared client at one instant: exactly the burst.
  {
    rate_limiter limiter{make_config(10, 50)};
    std::atomic<std::int64_t> allowed{0};
    run_threads(threads, [&](int) {
      for (std::int64_t i = 0; i < per_thread; ++i)
        if (limiter.check("shared", t0).allowed)
          ++allowed;
    });
    CAF_CHECK_EQUAL(allowed.load(), 50);
  }
  // Time moving on (each thread walks 0..2 s in 100 us steps, so the
  // instants interleave): at most burst + 2 s of refill, at least the burst.
  {
    rate_limiter limiter{make_config(100, 50)};
    std::atomic<std::int64_t> allowed{0};
    run_threads(threads, [&](int) {
      for (std::int64_t i = 0; i < per_thread; ++i)
        if (limiter.check("shared", t0 + i * 100'000).allowed)
          ++allowed;
    });
    // The latest instant is t0 + 1.9999 s: 199.99 tokens of refill.
    CAF_CHECK_LESS_OR_EQUAL(allowed.load(), 50 + 199);
    CAF_CHECK_GREATER_OR_EQUAL(allowed.load(), 50);
  }
  // Many clients under contention: each gets exactly its burst at one
  // instant.
  {
    rate_limiter limiter{make_config(0.001, 2, 100)};
    std::atomic<std::int64_t> allowed{0};
    run_threads(threads, [&](int t) {
      for (std::int64_t i = 0; i < per_thread; ++i)
        if (limiter.check("c" + std::to_string((i * 7 + t) % 64), t0).allowed)
          ++allowed;
    });
    // 64 clients fit in the table: none is evicted, each gets 2.
    CAF_CHECK_EQUAL(allowed.load(), 64 * 2);
    CAF_CHECK_EQUAL(limiter.tracked(), 64u);
  }
  // Evictions under contention keep the table bounded.
  {
    rate_limiter limiter{make_config(0.001, 2, 16)};
    run_threads(threads, [&](int t) {
      for (std::int64_t i = 0; i < per_thread; ++i)
        limiter.check("c" + std::to_string((i * 7 + t) % 64), t0 + i);
    });
    CAF_CHECK_EQUAL(limiter.tracked(), 16u);
  }
}
