#include "tools/exchange_sim/faults.hpp"

#include <nlohmann/json.hpp>

namespace csp::tools {

fault_injector::fault_injector(
  const fault_settings& settings, std::uint64_t seed)
    : settings_(settings), rng_(seed ^ 0xFA017ULL) {
  // nop
}

fault_injector::http_fault fault_injector::next_http() {
  auto& f = settings_;
  if (f.http_429_next > 0) {
    --f.http_429_next;
    ++counters.http_429;
    return http_fault::too_many_requests;
  }
  if (f.http_5xx_next > 0) {
    --f.http_5xx_next;
    ++counters.http_5xx;
    return http_fault::unavailable;
  }
  if (chance(f.http_429_prob)) {
    ++counters.http_429;
    return http_fault::too_many_requests;
  }
  if (chance(f.http_5xx_prob)) {
    ++counters.http_5xx;
    return http_fault::unavailable;
  }
  return http_fault::none;
}

std::string to_json(const sim_stats& s) {
  nlohmann::json conns = nlohmann::json::array();
  for (auto& c : s.connections)
    conns.push_back({{"id", c.id}, {"target", c.target}, {"open", c.open},
      {"trades_sent", c.trades_sent}, {"frames_sent", c.frames_sent},
      {"bytes_sent", c.bytes_sent}, {"pings_sent", c.pings_sent},
      {"pongs_received", c.pongs_received}});
  auto& f = s.faults;
  nlohmann::json j{{"trades_generated", s.trades_generated},
    {"http_requests", s.http_requests},
    {"faults",
      {{"drops", f.drops}, {"stalls", f.stalls}, {"malformed", f.malformed},
        {"duplicates", f.duplicates}, {"reorders", f.reorders},
        {"skips", f.skips}, {"http_429", f.http_429}, {"http_5xx", f.http_5xx},
        {"delayed", f.delayed}}},
    {"connections", conns}};
  return j.dump();
}

std::string to_json(const fault_settings& f) {
  nlohmann::json j{{"drop_every_s", f.drop_every_s},
    {"stall_every_s", f.stall_every_s}, {"stall_ms", f.stall_ms},
    {"malformed_prob", f.malformed_prob}, {"duplicate_prob", f.duplicate_prob},
    {"reorder_prob", f.reorder_prob}, {"skip_prob", f.skip_prob},
    {"http_429_prob", f.http_429_prob}, {"http_429_next", f.http_429_next},
    {"retry_after_s", f.retry_after_s}, {"http_5xx_prob", f.http_5xx_prob},
    {"http_5xx_next", f.http_5xx_next}, {"latency_ms", f.latency_ms}};
  return j.dump();
}

std::string apply_control(
  std::string_view body, fault_settings& f, control_actions& actions) {
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return "body must be a JSON object";
  fault_settings next = f;
  control_actions acts;
  struct int_field {
    const char* name;
    std::int64_t* dst;
  };
  struct prob_field {
    const char* name;
    double* dst;
  };
  int_field ints[] = {{"drop_every_s", &next.drop_every_s},
    {"stall_every_s", &next.stall_every_s}, {"stall_ms", &next.stall_ms},
    {"http_429_next", &next.http_429_next},
    {"retry_after_s", &next.retry_after_s},
    {"http_5xx_next", &next.http_5xx_next}, {"latency_ms", &next.latency_ms}};
  prob_field probs[] = {{"malformed_prob", &next.malformed_prob},
    {"duplicate_prob", &next.duplicate_prob},
    {"reorder_prob", &next.reorder_prob}, {"skip_prob", &next.skip_prob},
    {"http_429_prob", &next.http_429_prob},
    {"http_5xx_prob", &next.http_5xx_prob}};
  for (auto& [key, value] : j.items()) {
    bool known = false;
    for (auto& fld : ints) {
      if (key == fld.name) {
        if (!value.is_number_integer() || value.get<std::int64_t>() < 0)
          return key + " must be a non-negative integer";
        *fld.dst = value.get<std::int64_t>();
        known = true;
      }
    }
    for (auto& fld : probs) {
      if (key == fld.name) {
        if (!value.is_number() || value.get<double>() < 0
          || value.get<double>() > 1)
          return key + " must be a number in [0, 1]";
        *fld.dst = value.get<double>();
        known = true;
      }
    }
    if (key == "drop_now" || key == "stall_now") {
      if (!value.is_boolean())
        return key + " must be a boolean";
      (key == "drop_now" ? acts.drop_now : acts.stall_now) = value.get<bool>();
      known = true;
    }
    if (!known)
      return "unknown field " + key;
  }
  f = next;
  actions = acts;
  return {};
}

} // namespace csp::tools
