// Token buckets: a burst, then a steady rate. Time is passed in, so tests
// drive them with a fake clock. Not thread-safe: each bucket belongs to one
// connection (its worker thread) or sits behind its owner's lock.
#pragma once

#include <algorithm>
#include <cstdint>

#include "config.hpp"

namespace parley::server {

// What a request counts against: each class has its own buckets, one per
// connection and one per user (docs/server.md, Limits).
enum class RateClass : std::uint8_t { messages, typing, receipts, other };

// The rate is passed to each call rather than stored: the rates are the
// server's configuration, and a connection holds four buckets (16 bytes each).
class TokenBucket {
 public:
  explicit TokenBucket(const Rate& rate) : tokens_(rate.burst) {}

  // Takes one token if there is one; otherwise returns how many milliseconds
  // until there will be (always >= 1).
  std::int64_t take(const Rate& rate, std::int64_t now_ms);
  // Returns a token taken for a request that was refused after all.
  void give_back(const Rate& rate) { tokens_ = std::min(rate.burst, tokens_ + 1.0); }

 private:
  double tokens_;
  std::int64_t last_ms_ = -1;
};

}  // namespace parley::server
