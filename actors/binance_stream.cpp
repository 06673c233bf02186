#include "actors/binance_stream.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace csp::actors {

std::string trade_stream_name(std::string_view symbol) {
  std::string result;
  result.reserve(symbol.size() + 6);
  for (char c : symbol)
    result += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  result += "@trade";
  return result;
}

std::string combined_stream_target(std::string_view base_target,
  const std::vector<std::string>& symbols, std::size_t max_streams) {
  if (symbols.empty() || symbols.size() > max_streams)
    return {};
  auto query = base_target.find('?');
  if (query != std::string_view::npos)
    base_target = base_target.substr(0, query);
  while (!base_target.empty() && base_target.back() == '/')
    base_target.remove_suffix(1);
  std::string result{base_target};
  result += "/stream?streams=";
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (i > 0)
      result += '/';
    result += trade_stream_name(symbols[i]);
  }
  return result;
}

std::size_t symbols_in_target(std::string_view base_target,
  const std::vector<std::string>& symbols, std::size_t max_target_bytes) {
  // The target is the base path, "/stream?streams=" and the stream names
  // joined by '/'; combined_stream_target strips a query and trailing '/'.
  auto query = base_target.find('?');
  if (query != std::string_view::npos)
    base_target = base_target.substr(0, query);
  while (!base_target.empty() && base_target.back() == '/')
    base_target.remove_suffix(1);
  std::size_t len
    = base_target.size() + std::string_view{"/stream?streams="}.size();
  std::size_t n = 0;
  for (const auto& sym : symbols) {
    if (n == binance_max_streams)
      break;
    auto add = (n > 0 ? 1 : 0) + sym.size() + std::string_view{"@trade"}.size();
    if (n > 0 && len + add > max_target_bytes)
      break;
    len += add;
    ++n;
  }
  return n;
}

std::vector<std::vector<std::string>> partition_symbols(
  const std::vector<std::string>& symbols, std::size_t per_connection) {
  per_connection
    = std::clamp<std::size_t>(per_connection, 1, binance_max_streams);
  std::vector<std::vector<std::string>> result;
  for (std::size_t i = 0; i < symbols.size(); i += per_connection) {
    auto end = std::min(symbols.size(), i + per_connection);
    result.emplace_back(symbols.begin() + static_cast<std::ptrdiff_t>(i),
      symbols.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return result;
}

std::string subscription_request(
  bool subscribe, const std::vector<std::string>& symbols, std::int64_t id) {
  nlohmann::json params = nlohmann::json::array();
  for (auto& sym : symbols)
    params.push_back(trade_stream_name(sym));
  nlohmann::json req;
  req["method"] = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
  req["params"] = std::move(params);
  req["id"] = id;
  return req.dump();
}

std::vector<std::string> subscription_requests(bool subscribe,
  const std::vector<std::string>& symbols, std::int64_t& next_id) {
  std::vector<std::string> result;
  for (std::size_t i = 0; i < symbols.size(); i += max_streams_per_request) {
    auto end = std::min(symbols.size(), i + max_streams_per_request);
    std::vector<std::string> chunk(
      symbols.begin() + static_cast<std::ptrdiff_t>(i),
      symbols.begin() + static_cast<std::ptrdiff_t>(end));
    result.push_back(subscription_request(subscribe, chunk, ++next_id));
  }
  return result;
}

std::string historical_trades_target(
  std::string_view symbol, std::int64_t from_id, int limit) {
  std::string result = "/api/v3/historicalTrades?symbol=";
  result += symbol;
  result += "&fromId=";
  result += std::to_string(from_id);
  result += "&limit=";
  result += std::to_string(limit);
  return result;
}

bool parse_historical_trades(
  std::string_view body, std::vector<messages::trade>& out) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_array())
    return false;
  std::vector<messages::trade> result;
  result.reserve(doc.size());
  for (auto& item : doc) {
    if (!item.is_object())
      return false;
    auto id = item.find("id");
    auto price = item.find("price");
    auto qty = item.find("qty");
    auto time = item.find("time");
    auto maker = item.find("isBuyerMaker");
    if (id == item.end() || !id->is_number_integer() || price == item.end()
      || !price->is_string() || qty == item.end() || !qty->is_string()
      || time == item.end() || !time->is_number_integer() || maker == item.end()
      || !maker->is_boolean())
      return false;
    messages::trade t;
    t.id = id->get<std::int64_t>();
    if (!messages::parse_decimal(price->get_ref<const std::string&>(), t.price)
      || !messages::parse_decimal(
        qty->get_ref<const std::string&>(), t.quantity))
      return false;
    t.trade_time_ms = time->get<std::int64_t>();
    t.event_time_ms = t.trade_time_ms;
    t.buyer_is_maker = maker->get<bool>();
    result.push_back(t);
  }
  out = std::move(result);
  return true;
}

// -- trade_sequence -----------------------------------------------------------

bool trade_sequence::take_missing(std::int64_t id) {
  for (auto i = missing_.begin(); i != missing_.end(); ++i) {
    if (id < i->first || id > i->last)
      continue;
    if (i->first == i->last) {
      missing_.erase(i);
    } else if (id == i->first) {
      ++i->first;
    } else if (id == i->last) {
      --i->last;
    } else {
      id_range upper{id + 1, i->last};
      i->last = id - 1;
      missing_.insert(i + 1, upper);
    }
    return true;
  }
  return false;
}

sequence_verdict trade_sequence::observe(std::int64_t id, id_range* missing) {
  if (last_ < 0) {
    last_ = id;
    return sequence_verdict::accept;
  }
  if (id == last_ + 1) {
    last_ = id;
    return sequence_verdict::accept;
  }
  if (id > last_ + 1) {
    id_range gap{last_ + 1, id - 1};
    missing_.push_back(gap);
    if (missing_.size() > max_ranges) {
      missing_.erase(missing_.begin());
      ++abandoned_;
    }
    last_ = id;
    if (missing != nullptr)
      *missing = gap;
    return sequence_verdict::gap;
  }
  return take_missing(id) ? sequence_verdict::accept
                          : sequence_verdict::duplicate;
}

void trade_sequence::abandon_through(std::int64_t id) {
  while (!missing_.empty() && missing_.front().first <= id) {
    if (missing_.front().last <= id)
      missing_.erase(missing_.begin());
    else
      missing_.front().first = id + 1;
  }
}

// -- trade_batcher ------------------------------------------------------------

trade_batcher::trade_batcher(std::size_t max_trades, std::int64_t max_age_ms)
    : max_trades_(std::max<std::size_t>(max_trades, 1)),
      max_age_ms_(max_age_ms) {
  trades_.reserve(max_trades_);
}

bool trade_batcher::add(const messages::trade& t, std::int64_t now_ms) {
  if (trades_.empty())
    first_ms_ = now_ms;
  trades_.push_back(t);
  return trades_.size() >= max_trades_;
}

bool trade_batcher::due(std::int64_t now_ms) const noexcept {
  return !trades_.empty()
    && (trades_.size() >= max_trades_ || now_ms - first_ms_ >= max_age_ms_);
}

std::vector<messages::trade> trade_batcher::take() {
  std::vector<messages::trade> result;
  result.reserve(max_trades_);
  result.swap(trades_);
  return result;
}

// -- backoff ------------------------------------------------------------------

backoff::backoff(std::int64_t base_ms, std::int64_t max_ms, std::uint64_t seed)
    : base_ms_(std::max<std::int64_t>(base_ms, 1)),
      max_ms_(std::max(max_ms, std::max<std::int64_t>(base_ms, 1))),
      rng_(seed) {}

std::int64_t backoff::ceiling() const noexcept {
  auto d = base_ms_;
  for (int i = 0; i < attempt_ && d < max_ms_; ++i)
    d *= 2;
  return std::min(d, max_ms_);
}

std::int64_t backoff::next() {
  auto d = ceiling();
  ++attempt_;
  auto lo = d / 2;
  auto span = static_cast<std::uint64_t>(d - lo) + 1;
  return lo + static_cast<std::int64_t>(rng_() % span);
}

inbox_wakeup::inbox_wakeup(std::size_t count, std::int64_t interval_ns) noexcept
    : count_(std::max<std::size_t>(count, 1)),
      interval_ns_(std::max<std::int64_t>(interval_ns, 0)) {}

bool inbox_wakeup::on_push(std::size_t waiting, std::int64_t now_ns) noexcept {
  if (notified_)
    return false;
  if (waiting < count_ && now_ns - last_drain_ns_ < interval_ns_)
    return false;
  notified_ = true;
  return true;
}

void inbox_wakeup::on_drain(std::int64_t now_ns) noexcept {
  notified_ = false;
  last_drain_ns_ = now_ns;
}

} // namespace csp::actors
