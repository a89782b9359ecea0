// Result output of the load generator: the JSON object writer of the result lines, percentiles, and emit/die.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace parley::loadgen {

// The p-quantile (0..1) of latencies in microseconds, in milliseconds; -1 when empty. Reorders `v`.
double percentile(std::vector<std::uint32_t>& v, double p);

// Minimal JSON object writer for the result lines.
class Json {
 public:
  Json& num(const char* key, double v) {
    sep();
    char buf[64];
    if (std::isfinite(v)) {
      std::snprintf(buf, sizeof buf, "%.6g", v);
    } else {
      std::snprintf(buf, sizeof buf, "null");
    }
    out_ += "\"" + std::string(key) + "\":" + buf;
    return *this;
  }
  Json& integer(const char* key, std::int64_t v) {
    sep();
    out_ += "\"" + std::string(key) + "\":" + std::to_string(v);
    return *this;
  }
  Json& str(const char* key, std::string_view v) {
    sep();
    out_ += "\"" + std::string(key) + "\":\"" + std::string(v) + "\"";
    return *this;
  }
  Json& boolean(const char* key, bool v) {
    sep();
    out_ += "\"" + std::string(key) + "\":" + (v ? "true" : "false");
    return *this;
  }
  Json& raw(const char* key, const std::string& v) {
    sep();
    out_ += "\"" + std::string(key) + "\":" + v;
    return *this;
  }
  std::string done() { return out_ + "}"; }

 private:
  void sep() { out_ += out_.size() > 1 ? "," : ""; }
  std::string out_ = "{";
};

// Writes one result line to stdout and flushes it.
void emit(const std::string& line);

// Reports `why` on stderr and as a {"error":...} result line, then exits with status 2.
[[noreturn]] void die(const std::string& why);

}  // namespace parley::loadgen
