#pragma once

#include <cstdint>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "messages/bar.hpp"
#include "messages/timeframe.hpp"

namespace csp::actors {

/// Settings of the `--bars-out` writer.
struct bar_csv_options {
  /// File to append to; the header is written when the file is empty.
  std::string path;
  /// The one timeframe written (the `csp bars` format has no tf column).
  messages::timeframe tf = messages::timeframe::m1;
  /// A bar is final (no revision can follow) this long after it closed:
  /// the aggregator's allowed lateness plus its grace.
  std::int64_t final_after_ms = 302'000;
  /// How often final bars are written.
  std::int64_t flush_ms = 1'000;
};

/// Spawns a detached actor that receives `std::vector<messages::bar>` and
/// appends the final revision of every closed bar of one timeframe as CSV
/// in `csp bars`' format, once each: a bar is written when it can no longer
/// be revised, and every bar still held is written (sorted by symbol and
/// open time) when the actor exits.
caf::actor spawn_bar_csv_writer(caf::actor_system& sys, bar_csv_options opts);

/// Appends one `csp bars` CSV row for `b` to `out`.
void append_bar_csv(std::string& out, const messages::bar& b);

/// The `csp bars` CSV header line, with its newline.
inline constexpr const char* bar_csv_header
  = "symbol,open_time,close_time,open,high,low,close,volume,trade_count\n";

} // namespace csp::actors
