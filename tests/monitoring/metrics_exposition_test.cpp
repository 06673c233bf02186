#define CAF_SUITE metrics_exposition
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "messages/metric_update.hpp"
#include "monitoring/metrics_catalogue.hpp"
#include "monitoring/metrics_store.hpp"
#include "tests/monitoring/exposition_parser.hpp"

using csp::messages::metric_entry;
using csp::messages::metric_kind;
using csp::monitoring::append_family_header;
using csp::monitoring::append_label_value;
using csp::monitoring::append_sample_value;
using csp::monitoring::metric_type;
using csp::monitoring::metrics_store;
using csp::monitoring::update_error;

namespace {

std::string value_text(double v) {
  std::string out;
  append_sample_value(out, v);
  return out;
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof(double)) == 0;
}

/// Label values that need escaping or are otherwise unusual.
const std::vector<std::string>& awkward_values() {
  static const std::vector<std::string> xs{"plain", "say \"hi\"", "back\\slash",
    "two\nlines", "\\\"\n", "", "trailing\\", "ünïcödé €", "{braces},=commas"};
  return xs;
}

using series_key = std::pair<std::string, std::map<std::string, std::string>>;

/// Every sample keyed by name and label set, without the process_*
/// families (read from /proc on each call, so two renderings differ).
std::map<series_key, double> by_series(const csp::test::exposition& x) {
  std::map<series_key, double> out;
  for (const auto& s : x.samples) {
    if (s.name.rfind("process_", 0) == 0)
      continue;
    CAF_CHECK(out.emplace(std::make_pair(s.name, s.labels), s.value).second);
  }
  return out;
}

/// The # HELP lines of `text`, process_* ones excepted.
std::set<std::string> help_lines(const std::string& text) {
  std::set<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    auto line = text.substr(pos, eol - pos);
    if (line.rfind("# HELP ", 0) == 0 && line.rfind("# HELP process_", 0) != 0)
      out.insert(line);
    pos = eol == std::string::npos ? text.size() : eol + 1;
  }
  return out;
}

/// The observations fill() makes on each histogram series: half of each
/// bucket bound, the bound itself, and one above every bound.
std::vector<double> histogram_observations(const std::vector<double>& bounds) {
  std::vector<double> out;
  for (double b : bounds) {
    out.push_back(b / 2.0);
    out.push_back(b);
  }
  out.push_back(1e9);
  return out;
}

/// Series of every updatable catalogue family: one per awkward label value
/// (one only for a family without labels). Returns the value of each
/// counter and gauge series as computed here.
std::map<series_key, double> fill(metrics_store& store) {
  std::map<series_key, double> expected;
  size_t n = 0;
  for (const auto& spec : csp::monitoring::metric_catalogue()) {
    if (spec.source != csp::monitoring::metric_source::updates)
      continue;
    const size_t variants = spec.labels.empty() ? 1 : awkward_values().size();
    for (size_t k = 0; k < variants; ++k) {
      ++n;
      const auto x = static_cast<double>(n);
      std::vector<std::pair<std::string, std::string>> labels;
      std::map<std::string, std::string> label_map;
      for (const auto& name : spec.labels) {
        auto value = awkward_values()[k] + std::to_string(n);
        labels.emplace_back(std::string{name}, value);
        label_map.emplace(std::string{name}, value);
      }
      auto apply = [&](metric_kind kind, double v) {
        CAF_CHECK_EQUAL(
          store.apply(metric_entry{kind, std::string{spec.name}, labels, v}),
          update_error::none);
      };
      double want = 0.0;
      switch (spec.type) {
        case metric_type::counter:
          // 0.1 x three times: 0.30000000000000004 x, which 16 digits lose.
          for (int i = 0; i < 3; ++i) {
            apply(metric_kind::counter_add, 0.1 * x);
            want += 0.1 * x;
          }
          break;
        case metric_type::gauge:
          want = 1.0 / 3.0 * x - 1e6;
          apply(metric_kind::gauge_set, want);
          break;
        case metric_type::histogram:
          for (double v : histogram_observations(spec.buckets))
            apply(metric_kind::histogram_observe, v);
          break;
      }
      if (spec.type != metric_type::histogram)
        expected[{std::string{spec.name}, label_map}] = want;
    }
  }
  return expected;
}

} // namespace

CAF_TEST(sample values read back bit for bit) {
  std::vector<double> xs{0.0, 1.0, 7.0, -2.5, 0.1 + 0.2, 1.0 / 3.0, 1e21, 1e-7,
    123456789.123, 9007199254740993.0, 5e-324, 2.2250738585072014e-308,
    std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
    0.0001, 1e15, 1e16, 12345678901234567890.0};
  for (double x : xs) {
    auto text = value_text(x);
    char* end = nullptr;
    double back = std::strtod(text.c_str(), &end);
    CAF_CHECK_EQUAL(end, text.c_str() + text.size());
    if (!same_bits(back, x))
      CAF_ERROR(text << " reads back as " << back << ", not " << x);
  }
  // Written out by hand: integers without a fraction, the shortest form.
  CAF_CHECK_EQUAL(value_text(7.0), "7");
  CAF_CHECK_EQUAL(value_text(0.5), "0.5");
  CAF_CHECK_EQUAL(value_text(0.1 + 0.2), "0.30000000000000004");
  CAF_CHECK_EQUAL(value_text(1e21), "1e+21");
  CAF_CHECK_EQUAL(value_text(-2.5), "-2.5");
  CAF_CHECK_EQUAL(value_text(std::numeric_limits<double>::quiet_NaN()), "NaN");
  CAF_CHECK_EQUAL(value_text(std::numeric_limits<double>::infinity()), "+Inf");
  CAF_CHECK_EQUAL(value_text(-std::numeric_limits<double>::infinity()), "-Inf");
  // The independent parser reads the special values back.
  auto x = csp::test::parse_exposition("a "
    + value_text(std::numeric_limits<double>::quiet_NaN()) + "\nb "
    + value_text(std::numeric_limits<double>::infinity()) + "\nc "
    + value_text(-std::numeric_limits<double>::infinity()) + "\n");
  CAF_REQUIRE_EQUAL(x.error, "");
  CAF_CHECK(std::isnan(x.value("a").value_or(0.0)));
  CAF_CHECK_EQUAL(x.value("b"), std::numeric_limits<double>::infinity());
  CAF_CHECK_EQUAL(x.value("c"), -std::numeric_limits<double>::infinity());
}

CAF_TEST(label values and help texts are escaped) {
  std::string out;
  append_label_value(out, "a\"b\\c\nd");
  CAF_CHECK_EQUAL(out, R"(a\"b\\c\nd)");
  out.clear();
  append_label_value(out, "plain text, ünïcödé");
  CAF_CHECK_EQUAL(out, "plain text, ünïcödé");
  out.clear();
  append_label_value(out, "\\\\\n\"");
  CAF_CHECK_EQUAL(out, R"(\\\\\n\")");
  out.clear();
  // In HELP only backslash and line feed are escaped.
  append_family_header(out, "x_total", "a \"b\"\\c\nd", metric_type::counter);
  CAF_CHECK_EQUAL(out,
    "# HELP x_total a \"b\"\\\\c\\nd\n"
    "# TYPE x_total counter\n");
}

CAF_TEST(the exposition holds every series prometheus - cpp renders) {
  metrics_store store{csp::monitoring::make_metrics_registry()};
  auto expected = fill(store);
  auto text = store.serialize();
  auto reference = csp::monitoring::serialize_metrics(*store.registry());
  auto ours = csp::test::parse_exposition(text);
  auto theirs = csp::test::parse_exposition(reference);
  CAF_REQUIRE_EQUAL(ours.error, "");
  CAF_REQUIRE_EQUAL(theirs.error, "");
  // The same families with the same types and help texts.
  CAF_CHECK_EQUAL(ours.types, theirs.types);
  CAF_CHECK(help_lines(text) == help_lines(reference));
  // The same series (names, label sets including every `le`), each once.
  auto a = by_series(ours);
  auto b = by_series(theirs);
  CAF_REQUIRE_EQUAL(a.size(), b.size());
  CAF_CHECK_GREATER(a.size(), 1000u);
  for (const auto& [key, value] : b) {
    auto it = a.find(key);
    if (it == a.end()) {
      CAF_FAIL("missing series " << key.first);
      continue;
    }
    // prometheus-cpp prints 16 significant digits; ours reads back exactly.
    if (std::abs(it->second - value) > 1e-15 * std::max(1.0, std::abs(value)))
      CAF_ERROR(key.first << ": " << it->second << " vs " << value);
  }
  // Exact values where the test knows them.
  CAF_REQUIRE_GREATER(expected.size(), 50u);
  for (const auto& [key, want] : expected) {
    auto it = a.find(key);
    CAF_REQUIRE(it != a.end());
    if (!same_bits(it->second, want))
      CAF_ERROR(key.first << ": " << value_text(it->second) << " vs "
                          << value_text(want));
  }
  // Every awkward label value came back unchanged.
  std::set<std::string> seen;
  for (const auto& [key, value] : a)
    for (const auto& [name, v] : key.second)
      seen.insert(v);
  for (const auto& awkward : awkward_values())
    CAF_CHECK(std::any_of(seen.begin(), seen.end(), [&](const std::string& v) {
      return v.rfind(awkward, 0) == 0
        && v.find_first_not_of("0123456789", awkward.size())
        == std::string::npos;
    }));
}

CAF_TEST(histogram buckets are cumulative and end at the count) {
  metrics_store store{csp::monitoring::make_metrics_registry()};
  fill(store);
  auto x = csp::test::parse_exposition(store.serialize());
  CAF_REQUIRE_EQUAL(x.error, "");
  // Buckets by family and label set (without le), in the order written.
  std::map<series_key, std::vector<std::pair<double, double>>> buckets;
  for (const auto& s : x.samples) {
    const std::string suffix = "_bucket";
    if (s.name.size() <= suffix.size()
      || s.name.compare(s.name.size() - suffix.size(), suffix.size(), suffix)
        != 0)
      continue;
    auto labels = s.labels;
    bool ok = false;
    auto le = csp::test::parse_number(labels.at("le"), ok);
    CAF_REQUIRE(ok);
    labels.erase("le");
    auto family = s.name.substr(0, s.name.size() - suffix.size());
    buckets[{family, labels}].emplace_back(le, s.value);
  }
  CAF_REQUIRE_GREATER(buckets.size(), 5u);
  for (const auto& [key, bs] : buckets) {
    const auto* spec = csp::monitoring::find_metric(key.first);
    CAF_REQUIRE(spec != nullptr);
    CAF_REQUIRE_EQUAL(bs.size(), spec->buckets.size() + 1);
    for (size_t i = 0; i < bs.size(); ++i) {
      // Ascending bounds, the catalogue's, then +Inf.
      if (i < spec->buckets.size())
        CAF_CHECK_EQUAL(bs[i].first, spec->buckets[i]);
      else
        CAF_CHECK(std::isinf(bs[i].first) && bs[i].first > 0);
      // Cumulative: every observation at or below the bound, counted here.
      auto obs = histogram_observations(spec->buckets);
      auto below = std::count_if(
        obs.begin(), obs.end(), [&](double v) { return v <= bs[i].first; });
      CAF_CHECK_EQUAL(bs[i].second, static_cast<double>(below));
    }
    auto count = x.value(key.first + "_count", key.second);
    CAF_REQUIRE(count);
    CAF_CHECK_EQUAL(bs.back().second, *count);
    CAF_CHECK_EQUAL(*count,
      static_cast<double>(histogram_observations(spec->buckets).size()));
  }
}

CAF_TEST(a restarted store lists the series it has not touched) {
  auto registry = csp::monitoring::make_metrics_registry();
  std::map<std::string, std::string> btc{
    {"exchange", "binance"}, {"symbol", "BTC\"USDT"}};
  {
    metrics_store first{registry};
    first.apply(
      metric_entry{metric_kind::gauge_set, "data_collection_lag_seconds",
        {{"symbol", "BTC\"USDT"}, {"exchange", "binance"}}, 0.25});
    first.apply(metric_entry{metric_kind::histogram_observe,
      "feature_calculation_duration_seconds", {}, 0.003});
  }
  metrics_store second{registry};
  auto x = csp::test::parse_exposition(second.serialize());
  CAF_REQUIRE_EQUAL(x.error, "");
  CAF_CHECK_EQUAL(x.value("data_collection_lag_seconds", btc), 0.25);
  CAF_CHECK_EQUAL(x.value("feature_calculation_duration_seconds_count"), 1.0);
  CAF_CHECK_EQUAL(x.value("feature_calculation_duration_seconds_sum"), 0.003);
  // Touching it again (labels in another order) keeps one line.
  second.apply(
    metric_entry{metric_kind::gauge_set, "data_collection_lag_seconds",
      {{"exchange", "binance"}, {"symbol", "BTC\"USDT"}}, 0.5});
  second.apply(
    metric_entry{metric_kind::gauge_set, "data_collection_lag_seconds",
      {{"symbol", "BTC\"USDT"}, {"exchange", "binance"}}, 0.75});
  x = csp::test::parse_exposition(second.serialize());
  CAF_CHECK_EQUAL(x.count("data_collection_lag_seconds"), 1u);
  CAF_CHECK_EQUAL(x.value("data_collection_lag_seconds", btc), 0.75);
  CAF_CHECK_EQUAL(x.count("metrics_update_errors_total"),
    csp::monitoring::update_error_count - 1);
}

CAF_TEST(promtool accepts the exposition with awkward label values) {
  metrics_store store{csp::monitoring::make_metrics_registry()};
  fill(store);
  auto rc = csp::test::promtool_check(store.serialize());
  if (!rc) {
    CAF_MESSAGE("promtool not on PATH: check skipped");
    return;
  }
  CAF_CHECK_EQUAL(*rc, 0);
}

CAF_TEST(another thread renders while the store adds series) {
  auto exposition = std::make_shared<csp::monitoring::metrics_exposition>(
    csp::monitoring::make_metrics_registry());
  metrics_store store{exposition};
  constexpr int symbols = 2000;
  std::vector<std::string> errors;
  size_t last_count = 0;
  // Bounded: 200 renderings, each parsed; the store keeps adding meanwhile.
  std::thread scraper{[&] {
    for (int i = 0; i < 200; ++i) {
      auto x = csp::test::parse_exposition(exposition->render());
      if (!x.error.empty())
        errors.push_back(x.error);
      auto n = x.count("trades_received_total");
      if (n < last_count)
        errors.push_back("series disappeared");
      last_count = n;
    }
  }};
  for (int i = 0; i < symbols; ++i)
    store.apply(metric_entry{metric_kind::counter_add, "trades_received_total",
      {{"exchange", "binance"}, {"symbol", "S" + std::to_string(i)}}, 1.0});
  scraper.join();
  CAF_CHECK(errors.empty());
  auto x = csp::test::parse_exposition(exposition->render());
  CAF_CHECK_EQUAL(
    x.count("trades_received_total"), static_cast<size_t>(symbols));
  // A second store on the same exposition (a restarted actor) lists
  // nothing twice.
  metrics_store second{exposition};
  second.apply(metric_entry{metric_kind::counter_add, "trades_received_total",
    {{"symbol", "S7"}, {"exchange", "binance"}}, 2.0});
  x = csp::test::parse_exposition(second.serialize());
  CAF_CHECK_EQUAL(
    x.count("trades_received_total"), static_cast<size_t>(symbols));
  CAF_CHECK_EQUAL(x.value("trades_received_total",
                    {{"exchange", "binance"}, {"symbol", "S7"}}),
    3.0);
  CAF_CHECK_EQUAL(x.count("metrics_update_errors_total"),
    csp::monitoring::update_error_count - 1);
}
