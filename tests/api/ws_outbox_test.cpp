#define CAF_SUITE api.ws_outbox
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "api/ws_outbox.hpp"

using namespace csp::api;

namespace {

using strings = std::vector<std::string>;

constexpr std::int64_t minute = 60'000;

/// What take() hands out, as texts.
strings take_text(ws_outbox& box, std::size_t max, std::int64_t now) {
  strings out;
  for (const auto& p : box.take(max, now))
    out.push_back(*p);
  return out;
}

outbox_options opts(std::int64_t interval = 1000, std::size_t max = 256) {
  outbox_options o;
  o.forming_interval_ms = interval;
  o.max_pending = max;
  return o;
}

} // namespace

CAF_TEST(the first forming update goes out at once) {
  ws_outbox box{opts()};
  box.push_forming(1, 0, "f1", 5000);
  CAF_CHECK_EQUAL(box.pending(), 1u);
  CAF_CHECK_EQUAL(box.next_due_ms(), std::optional<std::int64_t>{5000});
  CAF_CHECK_EQUAL(take_text(box, 10, 5000), strings{"f1"});
  CAF_CHECK_EQUAL(box.pending(), 0u);
  CAF_CHECK(!box.next_due_ms());
}

CAF_TEST(later updates wait for the interval and only the newest goes) {
  ws_outbox box{opts()};
  box.push_forming(1, 0, "f1", 0);
  CAF_CHECK_EQUAL(take_text(box, 10, 0), strings{"f1"});
  box.push_forming(1, 0, "f2", 100);
  box.push_forming(1, 0, "f3", 200);
  CAF_CHECK_EQUAL(box.pending(), 1u);
  CAF_CHECK_EQUAL(box.conflated(), 1u);
  CAF_CHECK_EQUAL(box.next_due_ms(), std::optional<std::int64_t>{1000});
  CAF_CHECK(take_text(box, 10, 500).empty());
  CAF_CHECK(take_text(box, 10, 999).empty());
  CAF_CHECK_EQUAL(take_text(box, 10, 1000), strings{"f3"});
  // A quiet spell: the next one is due at once again.
  box.push_forming(1, 0, "f4", 5000);
  CAF_CHECK_EQUAL(take_text(box, 10, 5000), strings{"f4"});
}

CAF_TEST(at most one forming update per interval under a steady stream) {
  ws_outbox box{opts(1000)};
  std::vector<std::int64_t> sent_at;
  std::string newest;
  for (std::int64_t t = 0; t <= 10'000; t += 10) {
    newest = "u" + std::to_string(t);
    box.push_forming(7, 0, newest, t);
    for (auto& p : take_text(box, 100, t)) {
      CAF_CHECK_EQUAL(p, newest); // always the newest
      sent_at.push_back(t);
    }
  }
  CAF_CHECK_EQUAL(sent_at.size(), 11u);
  for (std::size_t i = 1; i < sent_at.size(); ++i)
    CAF_CHECK_GREATER_OR_EQUAL(sent_at[i] - sent_at[i - 1], 1000);
}

CAF_TEST(closed bars and reliable messages keep their order) {
  ws_outbox box{opts(1000, 1000)};
  strings want;
  std::int64_t now = 0;
  for (int i = 0; i < 300; ++i) {
    auto p = "c" + std::to_string(i);
    if (i % 3 == 0)
      CAF_CHECK(box.push_reliable(p));
    else
      CAF_CHECK(
        box.push_closed(static_cast<std::uint64_t>(i % 4), i * minute, p));
    want.push_back(p);
    box.push_forming(static_cast<std::uint64_t>(i % 4), (i + 1) * minute,
      "f" + std::to_string(i), now);
    now += 7;
  }
  strings got;
  for (;;) {
    auto chunk = take_text(box, 7, now);
    if (chunk.empty())
      break;
    for (auto& p : chunk)
      if (p[0] == 'c')
        got.push_back(p);
    now += 5000;
  }
  CAF_CHECK_EQUAL(got, want);
  CAF_CHECK_EQUAL(box.pending(), 0u);
}

CAF_TEST(reliable messages come before forming updates in one take) {
  ws_outbox box{opts()};
  box.push_forming(1, minute, "f", 0);
  box.push_reliable("a");
  box.push_reliable("b");
  CAF_CHECK_EQUAL(take_text(box, 2, 0), (strings{"a", "b"}));
  CAF_CHECK_EQUAL(take_text(box, 2, 0), strings{"f"});
}

CAF_TEST(a forming update superseded by its closed bar is dropped) {
  ws_outbox box{opts()};
  box.push_forming(1, minute, "f-old", 0);
  CAF_CHECK(box.push_closed(1, minute, "closed"));
  CAF_CHECK_EQUAL(box.dropped_stale(), 1u);
  CAF_CHECK_EQUAL(box.pending(), 1u);
  // Late forming updates of that bar or older ones are dropped too.
  box.push_forming(1, minute, "f-late", 10);
  box.push_forming(1, 0, "f-older", 10);
  CAF_CHECK_EQUAL(box.dropped_stale(), 3u);
  CAF_CHECK_EQUAL(take_text(box, 10, 10), strings{"closed"});
  // After it was sent, too.
  box.push_forming(1, minute, "f-later", 20);
  CAF_CHECK(take_text(box, 10, 5000).empty());
  // The next bar is fine.
  box.push_forming(1, 2 * minute, "f-next", 5000);
  CAF_CHECK_EQUAL(take_text(box, 10, 5000), strings{"f-next"});
  // A forming update of a bar older than the waiting one is dropped.
  box.push_forming(1, 3 * minute, "f3", 5100);
  box.push_forming(1, 2 * minute, "f2", 5200);
  CAF_CHECK_EQUAL(take_text(box, 10, 6000), strings{"f3"});
}

CAF_TEST(a closed bar of an older bar leaves the newer forming update) {
  ws_outbox box{opts()};
  box.push_forming(1, 2 * minute, "f2", 0);
  box.push_closed(1, minute, "c1");
  CAF_CHECK_EQUAL(take_text(box, 10, 0), (strings{"c1", "f2"}));
}

CAF_TEST(too many waiting reliable messages mark a slow consumer) {
  ws_outbox box{opts(1000, 3)};
  CAF_CHECK(box.push_reliable("1"));
  CAF_CHECK(box.push_closed(1, 0, "2"));
  CAF_CHECK(box.push_reliable("3"));
  CAF_CHECK(!box.push_reliable("4"));
  CAF_CHECK(!box.push_closed(1, minute, "5"));
  CAF_CHECK_EQUAL(box.pending(), 5u);
  // Nothing was dropped.
  CAF_CHECK_EQUAL(take_text(box, 3, 0), (strings{"1", "2", "3"}));
  CAF_CHECK(box.push_reliable("6"));
  CAF_CHECK_EQUAL(take_text(box, 10, 0), (strings{"4", "5", "6"}));
  // Forming updates do not count.
  for (std::uint64_t s = 0; s < 10; ++s)
    box.push_forming(s, 0, "f", 0);
  CAF_CHECK(box.push_reliable("7"));
}

CAF_TEST(subscriptions are throttled independently) {
  ws_outbox box{opts()};
  box.push_forming(1, 0, "a1", 0);
  CAF_CHECK_EQUAL(take_text(box, 10, 0), strings{"a1"});
  box.push_forming(1, 0, "a2", 500);
  box.push_forming(2, 0, "b1", 500);
  CAF_CHECK_EQUAL(take_text(box, 10, 500), strings{"b1"});
  CAF_CHECK_EQUAL(box.next_due_ms(), std::optional<std::int64_t>{1000});
  CAF_CHECK_EQUAL(take_text(box, 10, 1000), strings{"a2"});
}

CAF_TEST(the longest due forming update goes first) {
  ws_outbox box{opts()};
  box.push_forming(9, 0, "s9", 0);
  box.push_forming(1, 0, "s1", 100);
  CAF_CHECK_EQUAL(take_text(box, 1, 100), strings{"s9"});
  box.push_forming(9, 0, "s9b", 200);
  // s1 waits since 100; s9b is due at 1100.
  CAF_CHECK_EQUAL(take_text(box, 1, 1100), strings{"s1"});
  CAF_CHECK_EQUAL(take_text(box, 1, 1100), strings{"s9b"});
}

CAF_TEST(drop forgets a subscription) {
  ws_outbox box{opts()};
  box.push_forming(1, 0, "f1", 0);
  CAF_CHECK_EQUAL(take_text(box, 10, 0), strings{"f1"});
  box.push_closed(1, minute, "c");
  box.push_forming(1, 2 * minute, "f2", 10);
  CAF_CHECK_EQUAL(box.pending(), 2u);
  box.drop(1);
  CAF_CHECK_EQUAL(box.pending(), 1u); // the closed bar stays
  CAF_CHECK(!box.next_due_ms());
  // A new subscription under the same id starts afresh: at once, and an
  // older bar is no longer stale.
  box.push_forming(1, minute, "f3", 20);
  CAF_CHECK_EQUAL(take_text(box, 10, 20), (strings{"c", "f3"}));
  box.drop(42); // unknown: no effect
  CAF_CHECK_EQUAL(box.pending(), 0u);
}

namespace {

/// A plain reference model of the outbox's rules, kept as a log of what
/// was pushed and sent.
struct model {
  struct forming {
    std::uint64_t sub;
    std::int64_t open_ms;
    std::string payload;
  };
  struct sub_state {
    /// Forming updates pushed since the last one sent (or the last drop).
    std::vector<forming> since_sent;
    std::optional<std::int64_t> closed_open_ms;
    std::optional<std::int64_t> last_sent_ms;
  };

  std::int64_t interval;
  std::size_t max_pending;
  std::vector<std::string> reliable; // in order, not yet taken
  std::map<std::uint64_t, sub_state> subs;

  /// The update a subscription would send: the newest pushed since its
  /// last send unless a closed bar superseded it.
  const forming* candidate(std::uint64_t sub) const {
    auto i = subs.find(sub);
    if (i == subs.end() || i->second.since_sent.empty())
      return nullptr;
    const auto& newest = i->second.since_sent.back();
    if (i->second.closed_open_ms && newest.open_ms <= *i->second.closed_open_ms)
      return nullptr;
    return &newest;
  }

  bool due(std::uint64_t sub, std::int64_t now) const {
    const auto& s = subs.at(sub);
    return !s.last_sent_ms || now - *s.last_sent_ms >= interval;
  }
};

} // namespace

CAF_TEST(a long random run follows the reference model) {
  constexpr std::int64_t interval = 250;
  constexpr std::size_t max_pending = 20;
  ws_outbox box{opts(interval, max_pending)};
  model ref{interval, max_pending, {}, {}};
  std::mt19937_64 gen{20240115};
  auto roll = [&](std::uint64_t n) { return gen() % n; };
  std::int64_t now = 0;
  std::map<std::uint64_t, std::int64_t> open_ms; // newest bar per sub
  std::map<std::uint64_t, std::vector<std::int64_t>> forming_sent_at;
  std::uint64_t seq = 0;
  std::uint64_t forming_pushed = 0;
  std::uint64_t forming_sent = 0;
  std::uint64_t forming_forgotten = 0;
  std::size_t takes_with_forming = 0;
  for (int step = 0; step < 60'000; ++step) {
    auto sub = roll(4);
    auto what = roll(100);
    if (what < 55) {
      // A forming update of the current bar, sometimes of the next one.
      if (roll(10) == 0)
        open_ms[sub] += minute;
      auto p = "f" + std::to_string(sub) + ":" + std::to_string(seq++);
      box.push_forming(sub, open_ms[sub], p, now);
      ref.subs[sub].since_sent.push_back({sub, open_ms[sub], p});
      ++forming_pushed;
    } else if (what < 62) {
      // The current bar closes; the next one starts.
      auto p = "c" + std::to_string(sub) + ":" + std::to_string(seq++);
      auto ok = box.push_closed(sub, open_ms[sub], p);
      auto& s = ref.subs[sub];
      if (!s.closed_open_ms || *s.closed_open_ms < open_ms[sub])
        s.closed_open_ms = open_ms[sub];
      ref.reliable.push_back(p);
      CAF_CHECK_EQUAL(ok, ref.reliable.size() <= max_pending);
      open_ms[sub] += minute;
    } else if (what < 65) {
      auto p = "r" + std::to_string(seq++);
      auto ok = box.push_reliable(p);
      ref.reliable.push_back(p);
      CAF_CHECK_EQUAL(ok, ref.reliable.size() <= max_pending);
    } else if (what < 66) {
      box.drop(sub);
      if (ref.candidate(sub) != nullptr)
        ++forming_forgotten;
      ref.subs.erase(sub);
      forming_sent_at.erase(sub);
    } else if (what < 90) {
      now += static_cast<std::int64_t>(roll(120));
    } else {
      auto max = static_cast<std::size_t>(roll(6));
      auto got = take_text(box, max, now);
      CAF_REQUIRE_LESS_OR_EQUAL(got.size(), max);
      // Reliable ones first, exactly in order.
      auto n_rel = std::min(max, ref.reliable.size());
      CAF_REQUIRE_GREATER_OR_EQUAL(got.size(), n_rel);
      for (std::size_t i = 0; i < n_rel; ++i)
        CAF_REQUIRE_EQUAL(got[i], ref.reliable[i]);
      ref.reliable.erase(ref.reliable.begin(),
        ref.reliable.begin() + static_cast<std::ptrdiff_t>(n_rel));
      // Then due forming updates: each a due candidate, as many as fit.
      std::map<std::uint64_t, std::string> due;
      for (const auto& entry : ref.subs)
        if (auto c = ref.candidate(entry.first); c && ref.due(entry.first, now))
          due[entry.first] = c->payload;
      std::size_t room = max - n_rel;
      std::size_t want_forming = std::min(room, due.size());
      CAF_REQUIRE_EQUAL(got.size() - n_rel, want_forming);
      for (std::size_t i = n_rel; i < got.size(); ++i) {
        auto colon = got[i].find(':');
        auto s = static_cast<std::uint64_t>(
          std::stoull(got[i].substr(1, colon - 1)));
        CAF_REQUIRE(due.count(s) == 1);
        CAF_REQUIRE_EQUAL(got[i], due[s]); // the newest
        auto& st = ref.subs[s];
        st.since_sent.clear();
        st.last_sent_ms = now;
        auto& times = forming_sent_at[s];
        if (!times.empty())
          CAF_REQUIRE_GREATER_OR_EQUAL(now - times.back(), interval);
        times.push_back(now);
        ++forming_sent;
        due.erase(s);
      }
      if (got.size() > n_rel)
        ++takes_with_forming;
    }
    // Bookkeeping the outbox reports agrees with the model.
    std::size_t waiting = 0;
    std::optional<std::int64_t> next;
    bool any_due_now = false;
    for (const auto& entry : ref.subs) {
      if (ref.candidate(entry.first) == nullptr)
        continue;
      ++waiting;
      if (ref.due(entry.first, now))
        any_due_now = true;
      else if (!next || *entry.second.last_sent_ms + interval < *next)
        next = *entry.second.last_sent_ms + interval;
    }
    CAF_REQUIRE_EQUAL(box.pending(), ref.reliable.size() + waiting);
    auto box_next = box.next_due_ms();
    CAF_REQUIRE_EQUAL(box_next.has_value(), waiting > 0);
    if (any_due_now)
      CAF_REQUIRE_LESS_OR_EQUAL(*box_next, now);
    else if (next)
      CAF_REQUIRE_EQUAL(*box_next, *next);
  }
  // Drain: every reliable message arrives, then the newest forming update
  // of each subscription (the trailing edge).
  now += interval;
  auto rest = take_text(box, 1'000'000, now);
  CAF_REQUIRE_GREATER_OR_EQUAL(rest.size(), ref.reliable.size());
  for (std::size_t i = 0; i < ref.reliable.size(); ++i)
    CAF_CHECK_EQUAL(rest[i], ref.reliable[i]);
  std::size_t trailing = 0;
  for (const auto& entry : ref.subs)
    if (auto c = ref.candidate(entry.first)) {
      ++trailing;
      CAF_CHECK(std::find(rest.begin(), rest.end(), c->payload) != rest.end());
    }
  CAF_CHECK_EQUAL(rest.size(), ref.reliable.size() + trailing);
  forming_sent += trailing;
  CAF_CHECK_EQUAL(box.pending(), 0u);
  // Every forming update was sent, replaced, superseded or forgotten.
  CAF_CHECK_EQUAL(forming_pushed,
    forming_sent + box.conflated() + box.dropped_stale() + forming_forgotten);
  // The run exercised every path.
  CAF_CHECK_GREATER(takes_with_forming, 1000u);
  CAF_CHECK_GREATER(box.conflated(), 1000u);
  CAF_CHECK_GREATER(box.dropped_stale(), 100u);
}
