// Token buckets: a burst, then a steady rate. Time is passed in, so tests
// drive them with a fake clock. Not thread-safe: each bucket belongs to one
// connection (its worker thread) or sits behind its owner's lock.
#pragma once

#include <algorithm>
#include <cstdint>

#include "config.hpp"

namespace parley::server {

class TokenBucket {
 public:
  explicit TokenBucket(Rate rate = {}) : rate_(rate), tokens_(rate.burst) {}

  // Takes one token if there is one; otherwise returns how many milliseconds
  // until there will be (always >= 1).
  std::int64_t take(std::int64_t now_ms);
  // Returns a token taken for a request that was refused after all.
  void give_back() { tokens_ = std::min(rate_.burst, tokens_ + 1.0); }

 private:
  Rate rate_;
  double tokens_;
  std::int64_t last_ms_ = -1;
};

}  // namespace parley::server
