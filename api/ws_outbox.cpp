#include "api/ws_outbox.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

namespace csp::api {

ws_outbox::ws_outbox(outbox_options options) : options_(options) {
  // Nothing else.
}

bool ws_outbox::push_reliable(ws_payload payload) {
  reliable_.push_back(std::move(payload));
  return reliable_.size() <= options_.max_pending;
}

bool ws_outbox::push_closed(
  std::uint64_t sub, std::int64_t open_time_ms, ws_payload payload) {
  auto& s = subs_[sub];
  if (!s.closed_open_ms || *s.closed_open_ms < open_time_ms)
    s.closed_open_ms = open_time_ms;
  if (s.held && s.held_open_ms <= open_time_ms) {
    s.held.reset();
    --held_count_;
    ++dropped_stale_;
  }
  return push_reliable(std::move(payload));
}

void ws_outbox::push_forming(std::uint64_t sub, std::int64_t open_time_ms,
  ws_payload payload, std::int64_t now_ms) {
  auto& s = subs_[sub];
  if ((s.closed_open_ms && open_time_ms <= *s.closed_open_ms)
    || (s.held && open_time_ms < s.held_open_ms)) {
    ++dropped_stale_;
    return;
  }
  if (s.held) {
    ++conflated_;
  } else {
    ++held_count_;
    s.held_since_ms = now_ms;
  }
  s.held = std::move(payload);
  s.held_open_ms = open_time_ms;
}

std::vector<ws_payload> ws_outbox::take(std::size_t max, std::int64_t now_ms) {
  std::vector<ws_payload> out;
  while (out.size() < max && !reliable_.empty()) {
    out.push_back(std::move(reliable_.front()));
    reliable_.pop_front();
  }
  if (out.size() == max || held_count_ == 0)
    return out;
  // Due forming updates, longest due first.
  std::vector<std::pair<std::int64_t, std::uint64_t>> due;
  for (const auto& [id, s] : subs_) {
    if (!s.held)
      continue;
    auto at = s.due_ms(options_.forming_interval_ms);
    if (at <= now_ms)
      due.emplace_back(at, id);
  }
  std::sort(due.begin(), due.end());
  for (const auto& entry : due) {
    if (out.size() == max)
      break;
    auto& s = subs_[entry.second];
    out.push_back(std::move(s.held));
    s.held.reset();
    --held_count_;
    s.last_sent_ms = now_ms;
  }
  return out;
}

std::optional<std::int64_t> ws_outbox::next_due_ms() const {
  std::optional<std::int64_t> result;
  for (const auto& entry : subs_) {
    const auto& s = entry.second;
    if (!s.held)
      continue;
    auto at = s.due_ms(options_.forming_interval_ms);
    if (!result || at < *result)
      result = at;
  }
  return result;
}

std::size_t ws_outbox::pending() const noexcept {
  return reliable_.size() + held_count_;
}

void ws_outbox::drop(std::uint64_t sub) {
  auto i = subs_.find(sub);
  if (i == subs_.end())
    return;
  if (i->second.held)
    --held_count_;
  subs_.erase(i);
}

} // namespace csp::api
