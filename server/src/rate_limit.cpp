#include "rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace parley::server {

std::int64_t TokenBucket::take(const Rate& rate, std::int64_t now_ms) {
  if (last_ms_ >= 0 && now_ms > last_ms_) {
    tokens_ = std::min(rate.burst, tokens_ + static_cast<double>(now_ms - last_ms_) * rate.per_second / 1000.0);
  }
  last_ms_ = std::max(last_ms_, now_ms);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return 0;
  }
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1.0 - tokens_) * 1000.0 / rate.per_second)));
}

}  // namespace parley::server
