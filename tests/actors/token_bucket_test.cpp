#define CAF_SUITE token_bucket
#include "caf/test/unit_test.hpp"

#include <cstdint>

#include "actors/token_bucket.hpp"

using namespace csp::actors;

namespace {

constexpr int64_t ms = 1'000'000;
constexpr int64_t sec = 1'000'000'000;
constexpr int64_t t0 = 1'700'000'000 * sec; // an epoch-like origin

token_bucket make(int64_t capacity, double rate, int64_t now = t0) {
  token_bucket_config cfg{capacity, rate};
  CAF_REQUIRE_EQUAL(cfg.validate(), "");
  return token_bucket{cfg, now};
}

} // namespace

CAF_TEST(config validation) {
  CAF_CHECK_EQUAL((token_bucket_config{10, 1.0}.validate()), "");
  CAF_CHECK_EQUAL((token_bucket_config{1, 0.001}.validate()), "");
  CAF_CHECK(!token_bucket_config{0, 1.0}.validate().empty());
  CAF_CHECK(!token_bucket_config{-5, 1.0}.validate().empty());
  CAF_CHECK(!token_bucket_config{10, 0.0}.validate().empty());
  CAF_CHECK(!token_bucket_config{10, -1.0}.validate().empty());
  CAF_CHECK(!token_bucket_config{10, 0.0004}.validate().empty());
  CAF_CHECK(!token_bucket_config{10, 1.0 / 0.0}.validate().empty());
  CAF_CHECK(!token_bucket_config{10, 1e13}.validate().empty());
  CAF_CHECK(
    !token_bucket_config{2'000'000'000'000'000, 1.0}.validate().empty());
}

CAF_TEST(burst up to capacity then refused) {
  auto tb = make(10, 1.0);
  CAF_CHECK_EQUAL(tb.available(t0), 10);
  for (int i = 0; i < 10; ++i)
    CAF_CHECK(tb.try_acquire(1, t0));
  CAF_CHECK_EQUAL(tb.acquire(1, t0), acquire_status::insufficient);
  CAF_CHECK_EQUAL(tb.available(t0), 0);
  // Zero tokens are always available.
  CAF_CHECK(tb.try_acquire(0, t0));
}

CAF_TEST(weighted acquisitions) {
  auto tb = make(1200, 20.0); // Binance: 1200 weight per minute
  CAF_CHECK(tb.try_acquire(1000, t0));
  CAF_CHECK(!tb.try_acquire(201, t0));
  CAF_CHECK(tb.try_acquire(200, t0));
  // 20 per second: 50 weight after 2.5 s.
  CAF_CHECK(!tb.try_acquire(50, t0 + 2500 * ms - 1));
  CAF_CHECK(tb.try_acquire(50, t0 + 2500 * ms));
}

CAF_TEST(refill rate) {
  auto tb = make(5, 2.0);
  CAF_REQUIRE(tb.try_acquire(5, t0));
  // Two tokens per second: one token every 500 ms.
  CAF_CHECK_EQUAL(tb.available(t0 + 500 * ms - 1), 0);
  CAF_CHECK_EQUAL(tb.available(t0 + 500 * ms), 1);
  CAF_CHECK_EQUAL(tb.available(t0 + 1999 * ms), 3);
  CAF_CHECK_EQUAL(tb.available(t0 + 2 * sec), 4);
  CAF_CHECK(!tb.try_acquire(2, t0 + 999 * ms));
  CAF_CHECK(tb.try_acquire(2, t0 + 1000 * ms));
  CAF_CHECK_EQUAL(tb.available(t0 + 1000 * ms), 0);
}

CAF_TEST(fractional rates) {
  auto tb = make(1, 0.1); // one token every ten seconds
  CAF_CHECK_EQUAL(tb.rate_milli_per_second(), 100);
  CAF_REQUIRE(tb.try_acquire(1, t0));
  CAF_CHECK(!tb.try_acquire(1, t0 + 10 * sec - 1));
  CAF_CHECK(tb.try_acquire(1, t0 + 10 * sec));
}

CAF_TEST(never above capacity) {
  auto tb = make(3, 100.0);
  CAF_REQUIRE(tb.try_acquire(3, t0));
  CAF_CHECK_EQUAL(tb.available(t0 + 3600 * sec), 3);
  CAF_CHECK(tb.try_acquire(3, t0 + 3600 * sec));
  CAF_CHECK(!tb.try_acquire(1, t0 + 3600 * sec));
  // A very long idle time must not overflow.
  CAF_CHECK_EQUAL(tb.available(INT64_MAX), 3);
  CAF_CHECK(tb.try_acquire(3, INT64_MAX));
}

CAF_TEST(more than capacity is refused for good) {
  auto tb = make(10, 1.0);
  CAF_CHECK_EQUAL(tb.acquire(11, t0), acquire_status::exceeds_capacity);
  CAF_CHECK(!tb.retry_after_ns(11, t0));
  CAF_CHECK(!tb.retry_after_seconds(11, t0));
  CAF_CHECK_EQUAL(tb.acquire(-1, t0), acquire_status::exceeds_capacity);
  CAF_CHECK(!tb.retry_after_ns(-1, t0));
  // Nothing was taken by the refused calls.
  CAF_CHECK_EQUAL(tb.available(t0), 10);
  CAF_CHECK_EQUAL(tb.acquire(10, t0), acquire_status::acquired);
}

CAF_TEST(retry after is exact) {
  auto tb = make(10, 3.0);
  CAF_CHECK_EQUAL(tb.retry_after_ns(10, t0), 0);
  CAF_REQUIRE(tb.try_acquire(10, t0));
  // One token at 3 per second: 1/3 s = 333333333.3 ns, rounded up.
  CAF_CHECK_EQUAL(tb.retry_after_ns(1, t0), 333'333'334);
  CAF_CHECK_EQUAL(tb.retry_after_seconds(1, t0), 1);
  // Ten tokens: 10/3 s = 3333333333.3 ns -> 3333333334; 4 s for HTTP.
  CAF_CHECK_EQUAL(tb.retry_after_ns(10, t0), 3'333'333'334);
  CAF_CHECK_EQUAL(tb.retry_after_seconds(10, t0), 4);
  // Three tokens: exactly one second, no rounding.
  CAF_CHECK_EQUAL(tb.retry_after_ns(3, t0), sec);
  CAF_CHECK_EQUAL(tb.retry_after_seconds(3, t0), 1);
  // Part way: after 100 ms, 0.3 tokens are in; 0.7 more take 233333333.3.
  CAF_CHECK_EQUAL(tb.retry_after_ns(1, t0 + 100 * ms), 233'333'334);
  // The property: waiting exactly that long succeeds, one ns less fails.
  for (int64_t n : {1, 2, 7, 10}) {
    auto copy = tb;
    auto wait = *copy.retry_after_ns(n, t0 + 17);
    auto early = copy;
    CAF_CHECK(!early.try_acquire(n, t0 + 17 + wait - 1));
    CAF_CHECK(copy.try_acquire(n, t0 + 17 + wait));
  }
}

CAF_TEST(retry after uses the refill since the last call) {
  auto tb = make(4, 4.0);
  CAF_REQUIRE(tb.try_acquire(4, t0));
  // 250 ms per token; nothing else used the bucket since t0.
  CAF_CHECK_EQUAL(tb.retry_after_ns(2, t0 + 300 * ms), 200 * ms);
  CAF_CHECK_EQUAL(tb.retry_after_ns(1, t0 + 300 * ms), 0);
}

CAF_TEST(time going backwards adds nothing) {
  auto tb = make(10, 1.0);
  CAF_REQUIRE(tb.try_acquire(10, t0 + 10 * sec));
  CAF_CHECK_EQUAL(tb.available(t0 + 5 * sec), 0);
  CAF_CHECK(!tb.try_acquire(1, t0 + 5 * sec));
  // The earlier time is not taken as the new reference either: one second
  // after the last time seen gives exactly one token, not six.
  CAF_CHECK_EQUAL(tb.available(t0 + 11 * sec), 1);
  CAF_CHECK(tb.try_acquire(1, t0 + 11 * sec));
  CAF_CHECK(!tb.try_acquire(1, t0 + 11 * sec));
  // While the clock is behind, the wait includes the way back.
  CAF_CHECK_EQUAL(tb.retry_after_ns(1, t0 + 9 * sec), 3 * sec);
}

CAF_TEST(drain empties the bucket) {
  auto tb = make(10, 1.0);
  tb.drain(t0 + sec);
  CAF_CHECK_EQUAL(tb.available(t0 + sec), 0);
  CAF_CHECK_EQUAL(tb.retry_after_ns(2, t0 + sec), 2 * sec);
}

CAF_TEST(a million small steps do not drift) {
  // Capacity large enough never to clip; rate not representable in binary.
  auto stepped = make(1'000'000'000, 7.3);
  auto jumped = make(1'000'000'000, 7.3);
  stepped.drain(t0);
  jumped.drain(t0);
  uint64_t lcg = 42;
  int64_t now = t0;
  for (int i = 0; i < 1'000'000; ++i) {
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    now += static_cast<int64_t>((lcg >> 33) % 2'000'000) + 1; // 1 ns..2 ms
    stepped.try_acquire(0, now);
  }
  auto elapsed = now - t0;
  // 7.3 tokens per second over `elapsed` ns, floored to whole tokens.
  __extension__ using i128 = __int128;
  auto expected = static_cast<int64_t>(i128{elapsed} * 73 / (10 * sec));
  CAF_CHECK_EQUAL(stepped.available(now), expected);
  CAF_CHECK_EQUAL(jumped.available(now), expected);
  CAF_CHECK_EQUAL(stepped.retry_after_ns(expected + 1, now),
    jumped.retry_after_ns(expected + 1, now));
}

CAF_TEST(a million greedy acquisitions get exactly the refill) {
  // 2.5 per second for 1000 s in 1 ms steps, taking a token whenever one is
  // there: the 5 initial tokens plus 2500 refilled ones.
  auto tb = make(5, 2.5);
  int64_t taken = 0;
  for (int64_t i = 0; i <= 1'000'000; ++i)
    while (tb.try_acquire(1, t0 + i * ms))
      ++taken;
  CAF_CHECK_EQUAL(taken, 2505);
}
