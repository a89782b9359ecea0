#include "backoff.hpp"

#include <algorithm>

namespace parley::client {

std::int64_t backoff_ceiling(int attempt, std::int64_t base_ms, std::int64_t cap_ms) {
  std::int64_t ceiling = base_ms;
  for (int i = 0; i < attempt && ceiling < cap_ms; ++i) ceiling *= 2;
  return std::min(ceiling, cap_ms);
}

std::int64_t backoff_delay(int attempt, std::int64_t base_ms, std::int64_t cap_ms, double unit) {
  std::int64_t ceiling = backoff_ceiling(attempt, base_ms, cap_ms);
  return static_cast<std::int64_t>(unit * static_cast<double>(ceiling + 1)) % (ceiling + 1);
}

}  // namespace parley::client
