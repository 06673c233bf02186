#define CAF_SUITE id_tracker
#include "caf/test/unit_test.hpp"

#include <random>
#include <set>
#include <vector>

#include "actors/id_tracker.hpp"

using namespace csp::actors;

CAF_TEST(verdicts for each kind of id) {
  id_tracker ids{16};
  CAF_CHECK(ids.observe(10) == id_verdict::first);
  CAF_CHECK(ids.observe(11) == id_verdict::next);
  CAF_CHECK(ids.observe(11) == id_verdict::duplicate);
  CAF_CHECK(ids.observe(15) == id_verdict::gap);
  CAF_CHECK_EQUAL(ids.last_gap().first, 12);
  CAF_CHECK_EQUAL(ids.last_gap().second, 14);
  CAF_CHECK(ids.observe(13) == id_verdict::fill);
  CAF_CHECK(ids.observe(13) == id_verdict::duplicate);
  CAF_REQUIRE_EQUAL(ids.missing().size(), 2u); // 12 and 14
  CAF_CHECK(ids.observe(7) == id_verdict::below);
  CAF_CHECK(ids.observe(8) == id_verdict::fill);
  CAF_CHECK(ids.observe(7) == id_verdict::duplicate);
}

CAF_TEST(agrees with a set of every id under disorder and duplicates) {
  std::mt19937_64 rng(5);
  std::vector<int64_t> arrival;
  for (int64_t id = 1000; id < 6000; ++id)
    arrival.push_back(id);
  for (size_t i = 0; i + 1 < arrival.size(); ++i)
    std::swap(arrival[i],
      arrival[i + rng() % std::min<size_t>(40, arrival.size() - i)]);
  for (int i = 0; i < 1000; ++i)
    arrival.push_back(arrival[rng() % arrival.size()]);
  id_tracker ids{1 << 16};
  std::set<int64_t> seen;
  for (auto id : arrival) {
    bool fresh = seen.insert(id).second;
    CAF_CHECK_EQUAL(ids.observe(id) != id_verdict::duplicate, fresh);
  }
  CAF_CHECK(ids.missing().empty());
}

CAF_TEST(the lowest range is forgotten beyond the bound) {
  id_tracker ids{2};
  ids.observe(1);
  ids.observe(3); // missing 2
  ids.observe(5); // missing 4
  ids.observe(7); // missing 6: 2 is forgotten
  CAF_REQUIRE_EQUAL(ids.missing().size(), 2u);
  CAF_CHECK(ids.observe(2) == id_verdict::duplicate);
  CAF_CHECK(ids.observe(4) == id_verdict::fill);
}
