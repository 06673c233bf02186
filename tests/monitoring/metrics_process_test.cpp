#define CAF_SUITE metrics_process
#include "caf/test/unit_test.hpp"

#include <string>

#include "monitoring/metrics_process.hpp"

using namespace csp::monitoring;

CAF_TEST(parse_proc_stat reads the right fields) {
  // Fields numbered as in proc(5): 1 pid, 2 comm (with a space and a
  // parenthesis), 3 state, 4..13, 14 utime=1234, 15 stime=56, 16..21,
  // 22 starttime=98765, 23 vsize, 24 rss=4321.
  std::string line = "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 "
                     "0 1234 56 -3 0 20 0 3 0 98765 123456789 4321 "
                     "18446744073709551615 1 1 0 0 0 0 0 0 0\n";
  auto x = parse_proc_stat(line);
  CAF_REQUIRE(x);
  CAF_CHECK_EQUAL(x->utime_ticks, 1234u);
  CAF_CHECK_EQUAL(x->stime_ticks, 56u);
  CAF_CHECK_EQUAL(x->start_ticks, 98765u);
  CAF_CHECK_EQUAL(x->rss_pages, 4321);
  CAF_CHECK(!parse_proc_stat("4242 (cmd S 1 2 3"));
  CAF_CHECK(!parse_proc_stat("4242 (cmd) S 1 2 3"));
  CAF_CHECK(!parse_proc_stat(""));
}

CAF_TEST(parse_boot_time finds btime) {
  std::string text = "cpu  1 2 3 4\nintr 5 6\nctxt 77\nbtime 1700000000\n"
                     "processes 9\n";
  CAF_CHECK_EQUAL(parse_boot_time(text), 1700000000u);
  CAF_CHECK(!parse_boot_time("cpu 1 2\nctxt 3\n"));
}

CAF_TEST(process statistics are plausible) {
  auto a = read_process_stats();
  CAF_REQUIRE(a);
  CAF_CHECK_GREATER(a->resident_memory_bytes, 1024.0 * 1024.0);
  CAF_CHECK_GREATER(a->open_fds, 2.0);
  // Started after 2020-01-01 and not in the future of the boot clock.
  CAF_CHECK_GREATER(a->start_time_seconds, 1577836800.0);
  // Burn CPU until the tick counter moves (bounded: at most ~1e10 steps).
  volatile std::uint64_t sink = 0;
  double later = a->cpu_seconds;
  for (int round = 0; round < 1000 && later <= a->cpu_seconds; ++round) {
    for (std::uint64_t i = 0; i < 10'000'000; ++i)
      sink = sink + i * 2654435761u;
    later = read_process_stats()->cpu_seconds;
  }
  CAF_CHECK_GREATER(later, a->cpu_seconds);
}

CAF_TEST(the collector exports the four families) {
  auto families = process_collector{}.Collect();
  CAF_REQUIRE_EQUAL(families.size(), 4u);
  bool rss = false;
  bool cpu = false;
  for (const auto& f : families) {
    CAF_REQUIRE_EQUAL(f.metric.size(), 1u);
    CAF_CHECK(!f.help.empty());
    if (f.name == "process_resident_memory_bytes") {
      rss = true;
      CAF_CHECK(f.type == prometheus::MetricType::Gauge);
      CAF_CHECK_GREATER(f.metric[0].gauge.value, 0.0);
    } else if (f.name == "process_cpu_seconds_total") {
      cpu = true;
      CAF_CHECK(f.type == prometheus::MetricType::Counter);
      CAF_CHECK_GREATER(f.metric[0].counter.value, 0.0);
    }
  }
  CAF_CHECK(rss);
  CAF_CHECK(cpu);
}
