#define CAF_SUITE sim_collectors
#include "caf/test/unit_test.hpp"

// The production collectors against the in-process simulator: the Binance
// collector over wss:// with withheld ids (REST backfill over https://),
// and the stock poller through 429 and 503 answers.

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "caf/all.hpp"

#include "actors/binance_collector.hpp"
#include "actors/stock_poller.hpp"
#include "messages/type_ids.hpp"
#include "tests/tools/sim_fixture.hpp"

using namespace csp;

namespace {

struct config : caf::actor_system_config {
  config() {
    messages::register_types(*this);
    set("scheduler.max-threads", 2);
  }
};

/// Metric deltas by name and one label value.
void add_metrics(const messages::metric_update& up,
  std::map<std::string, double>& out, const char* label) {
  for (const auto& e : up.entries)
    for (const auto& l : e.labels)
      if (l.first == label)
        out[e.name + ":" + l.second] += e.value;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(sim_collector_tests, test::sim_fixture)

CAF_TEST(binance collector over wss with skipped ids gets every trade once) {
  CAF_REQUIRE(make_cert());
  auto cfg = config(400);
  cfg.symbols = {"BTCUSDT", "ETHUSDT"};
  cfg.tls_cert = dir + "/cert.pem";
  cfg.tls_key = dir + "/key.pem";
  cfg.faults.skip_prob = 0.05;
  cfg.faults.duplicate_prob = 0.02;
  CAF_REQUIRE(start(cfg));
  auto port = std::to_string(sim->port());
  std::map<std::string, std::multiset<std::int64_t>> ids;
  std::map<std::string, double> errors;
  {
    ::config sys_cfg;
    caf::actor_system sys{sys_cfg};
    caf::scoped_actor probe{sys};
    actors::binance_collector_options opts;
    opts.name = "binance-tls";
    opts.ws_url = "wss://localhost:" + port;
    opts.rest_url = "https://localhost:" + port;
    opts.symbols = {"BTCUSDT", "ETHUSDT"};
    opts.batch_max_age_ms = 10;
    opts.metrics_flush_ms = 20;
    opts.client.ca_file = cfg.tls_cert;
    auto col = sys.spawn(actors::binance_collector, opts, caf::actor{probe},
      caf::actor{probe}, caf::actor{probe});
    // Read until both symbols have 300 contiguous ids from their first.
    auto contiguous = [&](const std::multiset<std::int64_t>& xs) {
      if (xs.empty())
        return std::int64_t{0};
      auto first = *xs.begin();
      std::int64_t n = 0;
      while (xs.count(first + n) > 0)
        ++n;
      return n;
    };
    bool timed_out = false;
    for (int i = 0; i < 100'000 && !timed_out
         && (contiguous(ids["BTCUSDT"]) < 300
           || contiguous(ids["ETHUSDT"]) < 300);
         ++i)
      probe->receive(
        [&](const messages::trade_batch& b) {
          for (const auto& t : b.trades)
            ids[b.symbol].insert(t.id);
        },
        [&](const messages::metric_update& up) {
          add_metrics(up, errors, "error_type");
        },
        [](const messages::collector_event&) {},
        [](const messages::feed_status&) {},
        caf::after(std::chrono::seconds{15}) >> [&] { timed_out = true; });
    CAF_CHECK(!timed_out);
    caf::anon_send_exit(col, caf::exit_reason::user_shutdown);
  }
  auto stats = sim->stats();
  sim->stop();
  CAF_CHECK_GREATER(stats.faults.skips, 0);
  for (const auto& sym : {"BTCUSDT", "ETHUSDT"}) {
    auto& got = ids[sym];
    // No id twice although the stream duplicated some; every skipped id
    // arrived through the backfill; each equals the exchange's log.
    for (auto id : got)
      if (got.count(id) != 1)
        CAF_FAIL(
          sym << " trade " << id << " delivered " << got.count(id) << " times");
    auto log = logged(sym);
    for (auto id = *got.begin(); id < *got.begin() + 300; ++id)
      CAF_CHECK(got.count(id) == 1 && log.count(id) == 1);
  }
  CAF_CHECK_GREATER(errors["collector_errors_total:duplicate_trade"], 0.0);
}

CAF_TEST(stock poller backs off on 429 and 503 and then delivers) {
  auto cfg = config(10);
  cfg.stocks = {"AAPL"};
  cfg.faults.http_429_next = 2;
  cfg.faults.retry_after_s = 1;
  CAF_REQUIRE(start(cfg));
  ::config sys_cfg;
  caf::actor_system sys{sys_cfg};
  caf::scoped_actor probe{sys};
  actors::stock_poller_options opts;
  opts.base_url = "http://127.0.0.1:" + std::to_string(sim->port());
  opts.symbols = {"AAPL"};
  opts.poll_interval_ms = 50;
  opts.respect_market_hours = false;
  opts.backoff_base_ms = 50;
  opts.backoff_max_ms = 200;
  opts.metrics_flush_ms = 20;
  auto poller = sys.spawn(actors::stock_poller, opts, caf::actor{probe},
    caf::actor{probe}, caf::actor{probe});
  probe->monitor(poller);
  std::map<std::string, double> errors;
  std::map<std::string, int> failures;
  std::set<std::int64_t> opens;
  bool switched = false;
  int successes_after_5xx = 0;
  bool timed_out = false;
  bool died = false;
  // Phase 1: two 429s with Retry-After 1 s, then the candles. Phase 2: two
  // 503s (exponential backoff), then a successful poll again (no new
  // candle is due before the next minute closes).
  auto done = [&] {
    return switched && failures["http_5xx"] >= 2 && successes_after_5xx > 0;
  };
  for (int i = 0; i < 10'000 && !timed_out && !died && !done(); ++i)
    probe->receive(
      [&](const messages::candle_batch& b) {
        for (const auto& c : b.candles) {
          CAF_CHECK(c.closed);
          opens.insert(c.open_time_ms);
        }
        if (!switched) {
          switched = true;
          CAF_CHECK_EQUAL(sim->control(R"({"http_5xx_next":2})"), "");
        }
      },
      [&](const messages::collector_event& e) {
        if (e.outcome == messages::collector_outcome::failure)
          ++failures[e.reason];
        else if (failures["http_5xx"] >= 2)
          ++successes_after_5xx;
      },
      [&](const messages::metric_update& up) {
        add_metrics(up, errors, "error_type");
      },
      [](const messages::feed_status&) {},
      [&](const caf::down_msg&) { died = true; },
      caf::after(std::chrono::seconds{20}) >> [&] { timed_out = true; });
  CAF_CHECK(!timed_out);
  CAF_CHECK(!died);
  CAF_CHECK_EQUAL(failures["http_429"], 2);
  CAF_CHECK_GREATER_OR_EQUAL(failures["http_5xx"], 2);
  CAF_CHECK(!opens.empty());
  // The metrics flush every 20 ms; take what is still on its way.
  for (int i = 0; i < 100 && errors["collector_errors_total:http_5xx"] < 2; ++i)
    probe->receive(
      [&](const messages::metric_update& up) {
        add_metrics(up, errors, "error_type");
      },
      [](const messages::candle_batch&) {},
      [](const messages::collector_event&) {},
      [](const messages::feed_status&) {},
      caf::after(std::chrono::seconds{5}) >> [] {});
  CAF_CHECK_GREATER_OR_EQUAL(
    errors["collector_errors_total:rate_limited"], 2.0);
  CAF_CHECK_GREATER_OR_EQUAL(errors["collector_errors_total:http_5xx"], 2.0);
  caf::anon_send_exit(poller, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
