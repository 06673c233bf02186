#include "actors/bar_csv_writer.hpp"

#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <utility>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "messages/type_ids.hpp"
#include "messages/calendar.hpp"

namespace csp::actors {

void append_bar_csv(std::string& out, const messages::bar& b) {
  char buf[64];
  out += b.symbol;
  out += ',';
  out += std::to_string(b.open_time_ms);
  out += ',';
  out += std::to_string(b.close_time_ms);
  for (auto d : {b.open, b.high, b.low, b.close}) {
    out += ',';
    out.append(buf, messages::format_units(d.units, buf));
  }
  out += ',';
  out.append(buf, messages::format_units(b.volume.units, buf));
  out += ',';
  out += std::to_string(b.trade_count);
  out += '\n';
}

namespace {

struct writer_state {
  bar_csv_options opts;
  std::FILE* file = nullptr;
  /// Latest version of every bar not yet final, by (symbol, open time).
  std::map<std::pair<std::string, std::int64_t>, messages::bar> pending;

  static inline const char* name = "bar_csv_writer";

  /// Writes the pending bars that closed before `final_before` (all when
  /// `final_before` is the maximum).
  void write(std::int64_t final_before) {
    if (file == nullptr)
      return;
    std::string out;
    for (auto i = pending.begin(); i != pending.end();) {
      if (i->second.close_time_ms < final_before) {
        append_bar_csv(out, i->second);
        i = pending.erase(i);
      } else {
        ++i;
      }
    }
    if (!out.empty()) {
      std::fwrite(out.data(), 1, out.size(), file);
      std::fflush(file);
    }
  }

  ~writer_state() {
    write(std::numeric_limits<std::int64_t>::max());
    if (file != nullptr)
      std::fclose(file);
  }
};

caf::behavior writer(
  caf::stateful_actor<writer_state>* self, bar_csv_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.file = std::fopen(st.opts.path.c_str(), "ab");
  if (st.file == nullptr) {
    self->quit(caf::make_error(
      caf::sec::runtime_error, "cannot open --bars-out file " + st.opts.path));
    return {};
  }
  std::fseek(st.file, 0, SEEK_END);
  if (std::ftell(st.file) == 0) {
    std::fputs(bar_csv_header, st.file);
    std::fflush(st.file);
  }
  self->delayed_send(self, std::chrono::milliseconds{st.opts.flush_ms},
    messages::flush_timer_atom_v);
  return {
    [=](const std::vector<messages::bar>& bars) {
      for (auto& b : bars)
        if (b.closed && b.tf == self->state.opts.tf)
          self->state.pending[{b.symbol, b.open_time_ms}] = b;
    },
    // A sink also receives indicator snapshots and quality reports; they
    // are not written here.
    [](const std::vector<messages::indicator_snapshot>&) {},
    [](const messages::quality_report&) {},
    [=](messages::flush_timer_atom) {
      auto& s = self->state;
      s.write(messages::wall_clock_ms() - s.opts.final_after_ms);
      self->delayed_send(self, std::chrono::milliseconds{s.opts.flush_ms},
        messages::flush_timer_atom_v);
    },
  };
}

} // namespace

caf::actor spawn_bar_csv_writer(caf::actor_system& sys, bar_csv_options opts) {
  return sys.spawn<caf::detached>(writer, std::move(opts));
}

} // namespace csp::actors
