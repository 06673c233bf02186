#include "tools/exchange_sim/trade_log.hpp"

#include "tools/exchange_sim/wire_format.hpp"

namespace csp::tools {

trade_log::~trade_log() {
  close();
}

bool trade_log::open(const std::string& path) {
  close();
  file_ = std::fopen(path.c_str(), "ab");
  return file_ != nullptr;
}

void trade_log::append(std::string_view symbol,
  const std::deque<sim_trade>& trades, std::size_t first) {
  if (file_ == nullptr)
    return;
  for (auto i = first; i < trades.size(); ++i) {
    append_trade_event(buf_, symbol, trades[i]);
    buf_ += '\n';
    if (buf_.size() >= (1u << 20)) {
      std::fwrite(buf_.data(), 1, buf_.size(), file_);
      buf_.clear();
    }
  }
}

void trade_log::flush() {
  if (file_ == nullptr)
    return;
  if (!buf_.empty())
    std::fwrite(buf_.data(), 1, buf_.size(), file_);
  buf_.clear();
  std::fflush(file_);
}

void trade_log::close() {
  if (file_ == nullptr)
    return;
  flush();
  std::fclose(file_);
  file_ = nullptr;
}

} // namespace csp::tools
