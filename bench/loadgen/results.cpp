#include "results.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdlib>

namespace parley::loadgen {

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return -1;
  auto k = static_cast<std::size_t>(
      std::min<double>(static_cast<double>(v.size() - 1), std::floor(p * static_cast<double>(v.size()))));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] / 1000.0;  // us -> ms
}

void emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "parley_loadgen: %s\n", why.c_str());
  emit(Json().str("error", why).done());
  std::exit(2);
}

}  // namespace parley::loadgen
