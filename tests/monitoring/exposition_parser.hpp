#pragma once

// A small, independent parser of the Prometheus text exposition format for
// the metrics tests: samples with their labels, and the # TYPE lines.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace csp::test {

/// One sample line.
struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0.0;
};

/// A parsed scrape.
struct exposition {
  std::vector<sample> samples;
  /// Family name -> type from the # TYPE lines.
  std::map<std::string, std::string> types;
  /// Empty when parsing succeeded.
  std::string error;

  /// The value of the sample with exactly this name and label set.
  std::optional<double> value(std::string_view name,
    const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples)
      if (s.name == name && s.labels == labels)
        return s.value;
    return std::nullopt;
  }

  /// Number of samples named `name`.
  size_t count(std::string_view name) const {
    size_t n = 0;
    for (const auto& s : samples)
      if (s.name == name)
        ++n;
    return n;
  }
};

inline double parse_number(const std::string& s, bool& ok) {
  char* end = nullptr;
  double x = std::strtod(s.c_str(), &end);
  ok = !s.empty() && end == s.c_str() + s.size();
  return x;
}

/// Parses `text`; on a malformed line sets `error` and stops.
inline exposition parse_exposition(std::string_view text) {
  exposition out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos)
      eol = text.size();
    std::string line{text.substr(pos, eol - pos)};
    pos = eol + 1;
    if (line.empty())
      continue;
    if (line[0] == '#') {
      if (line.rfind("# TYPE ", 0) == 0) {
        auto rest = line.substr(7);
        auto sp = rest.find(' ');
        if (sp == std::string::npos) {
          out.error = "bad TYPE line: " + line;
          return out;
        }
        out.types[rest.substr(0, sp)] = rest.substr(sp + 1);
      }
      continue;
    }
    sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      s.name += line[i++];
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string key;
        while (i < line.size() && line[i] != '=')
          key += line[i++];
        if (i + 1 >= line.size() || line[i + 1] != '"') {
          out.error = "bad label in: " + line;
          return out;
        }
        i += 2;
        std::string val;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size()) {
            ++i;
            val += line[i] == 'n' ? '\n' : line[i];
          } else {
            val += line[i];
          }
          ++i;
        }
        if (i >= line.size()) {
          out.error = "unterminated label value in: " + line;
          return out;
        }
        ++i; // closing quote
        s.labels[key] = val;
        if (i < line.size() && line[i] == ',')
          ++i;
      }
      if (i >= line.size()) {
        out.error = "unterminated label set in: " + line;
        return out;
      }
      ++i; // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      out.error = "missing value in: " + line;
      return out;
    }
    auto rest = line.substr(i + 1);
    // An optional timestamp follows the value.
    auto sp = rest.find(' ');
    bool ok = false;
    s.value = parse_number(rest.substr(0, sp), ok);
    if (!ok) {
      out.error = "bad value in: " + line;
      return out;
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

/// Runs `promtool check metrics` on `text`: its exit status, or nullopt
/// when promtool is not on PATH.
inline std::optional<int> promtool_check(const std::string& text) {
  if (std::system("command -v promtool > /dev/null 2>&1") != 0)
    return std::nullopt;
  char path[] = "/tmp/csp-metrics-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return -1;
  auto written = write(fd, text.data(), text.size());
  close(fd);
  if (written != static_cast<ssize_t>(text.size())) {
    std::remove(path);
    return -1;
  }
  auto cmd = std::string{"promtool check metrics < "} + path;
  auto rc = std::system(cmd.c_str());
  std::remove(path);
  return rc;
}

} // namespace csp::test
