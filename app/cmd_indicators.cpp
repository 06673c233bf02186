// `csp indicators`: OHLCV bars (CSV) in, one row of indicator values out per
// bar. Input rows are validated strictly; the first bad row stops the run
// with a message naming its line.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "actors/indicators.hpp"
#include "app/commands.hpp"
#include "messages/indicator_snapshot.hpp"

namespace csp::app {

namespace {

constexpr const char* indicators_usage
  = "usage: csp indicators --input FILE|-\n"
    "  Reads bars as CSV with the header open_time,open,high,low,close,volume\n"
    "  (open_time in ms since the epoch, strictly increasing) and writes\n"
    "  open_time and the TA-Lib indicator values, one row per bar; an empty\n"
    "  field is a null value (not enough history).\n";

constexpr std::string_view input_header
  = "open_time,open,high,low,close,volume";

constexpr std::size_t input_columns = 6;

constexpr const char* column_names[input_columns]
  = {"open_time", "open", "high", "low", "close", "volume"};

/// Reports a bad input line on stderr; returns the exit status 1.
int bad_line(std::size_t line, const std::string& what) {
  std::cerr << "csp indicators: line " << line << ": " << what << '\n';
  return 1;
}

/// Parses a whole field as an integer.
std::optional<std::int64_t> parse_int(std::string_view field) {
  std::int64_t value = 0;
  auto first = field.data();
  auto last = first + field.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (field.empty() || ec != std::errc{} || ptr != last)
    return std::nullopt;
  return value;
}

/// Parses a whole field as a double (may be non-finite; checked later).
std::optional<double> parse_double(std::string_view field) {
  double value = 0.0;
  auto first = field.data();
  auto last = first + field.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (field.empty() || ec != std::errc{} || ptr != last)
    return std::nullopt;
  return value;
}

/// Appends the shortest form of `x` that reads back to the same double, or
/// nothing for null.
void append_value(std::string& out, double x) {
  if (std::isnan(x))
    return;
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), x);
  if (ec == std::errc{})
    out.append(buf, ptr);
}

/// The output header: open_time then every indicator name.
std::string output_header() {
  std::string result = "open_time";
  for (auto name : messages::indicator_names) {
    result += ',';
    result += name;
  }
  return result;
}

/// Converts the whole stream; returns the exit status.
int convert(std::istream& in, std::ostream& out) {
  std::string line;
  std::size_t line_no = 1;
  if (!std::getline(in, line))
    return bad_line(
      line_no, "missing header, expected '" + std::string{input_header} + "'");
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  if (line != input_header)
    return bad_line(line_no,
      "wrong header '" + line + "', expected '" + std::string{input_header}
        + "'");
  actors::indicator_calculator calc;
  std::string row;
  out << output_header() << '\n';
  std::optional<std::int64_t> prev_time;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    // Split into exactly six fields.
    std::string_view fields[input_columns];
    std::size_t count = 0;
    std::string_view rest = line;
    for (;;) {
      auto comma = rest.find(',');
      auto field = rest.substr(0, comma);
      if (count < input_columns)
        fields[count] = field;
      ++count;
      if (comma == std::string_view::npos)
        break;
      rest.remove_prefix(comma + 1);
    }
    if (count != input_columns)
      return bad_line(
        line_no, "expected 6 columns, found " + std::to_string(count));
    auto time = parse_int(fields[0]);
    if (!time)
      return bad_line(line_no,
        "open_time '" + std::string{fields[0]} + "' is not an integer");
    double values[input_columns] = {};
    for (std::size_t i = 1; i < input_columns; ++i) {
      auto value = parse_double(fields[i]);
      if (!value)
        return bad_line(line_no,
          std::string{column_names[i]} + " '" + std::string{fields[i]}
            + "' is not a number");
      if (!std::isfinite(*value))
        return bad_line(line_no,
          std::string{column_names[i]} + " '" + std::string{fields[i]}
            + "' is not finite");
      values[i] = *value;
    }
    actors::ohlcv bar{
      *time, values[1], values[2], values[3], values[4], values[5]};
    if (prev_time && bar.open_time_ms <= *prev_time)
      return bad_line(line_no,
        "open_time " + std::to_string(bar.open_time_ms)
          + " is not after the previous open_time "
          + std::to_string(*prev_time));
    if (bar.high < bar.low)
      return bad_line(line_no,
        "high " + std::string{fields[2]} + " < low " + std::string{fields[3]});
    if (bar.open < bar.low || bar.open > bar.high)
      return bad_line(
        line_no, "open " + std::string{fields[1]} + " outside [low, high]");
    if (bar.close < bar.low || bar.close > bar.high)
      return bad_line(
        line_no, "close " + std::string{fields[4]} + " outside [low, high]");
    if (bar.volume < 0.0)
      return bad_line(line_no, "negative volume " + std::string{fields[5]});
    prev_time = bar.open_time_ms;
    auto result = calc.update(bar);
    row.clear();
    char time_buf[24];
    auto time_end
      = std::to_chars(time_buf, time_buf + sizeof(time_buf), bar.open_time_ms)
          .ptr;
    row.append(time_buf, time_end);
    for (auto x : result) {
      row += ',';
      append_value(row, x);
    }
    row += '\n';
    out << row;
  }
  if (in.bad()) {
    std::cerr << "csp indicators: read error after line " << line_no << '\n';
    return 2;
  }
  out.flush();
  return out ? 0 : 1;
}

} // namespace

int run_indicators(const arg_list& args) {
  std::optional<std::string> input;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << indicators_usage;
      return 0;
    }
    if (arg == "--input" && i + 1 < args.size()) {
      input = args[++i];
    } else if (arg.rfind("--input=", 0) == 0) {
      input = arg.substr(8);
    } else {
      std::cerr << "csp indicators: unexpected argument '" << arg << "'\n"
                << indicators_usage;
      return 2;
    }
  }
  if (!input || input->empty()) {
    std::cerr << "csp indicators: missing --input\n" << indicators_usage;
    return 2;
  }
  std::ios::sync_with_stdio(false);
  if (*input == "-")
    return convert(std::cin, std::cout);
  std::ifstream file{*input};
  if (!file.is_open() || (file.peek(), file.bad())) {
    std::cerr << "csp indicators: cannot read '" << *input << "'\n"
              << indicators_usage;
    return 2;
  }
  return convert(file, std::cout);
}

} // namespace csp::app
