// The server's send rate limit (welcome.limits), mirrored so that the client
// paces its sends instead of drawing `rate_limited` refusals: a token bucket
// with one token less than the server's burst and a 5% longer interval, which
// absorb network jitter (sends that leave on time but arrive bunched up).
#pragma once

#include <algorithm>
#include <cstdint>

namespace parley::client {

class SendPacer {
 public:
  // Until the server says otherwise, sends are not paced.
  void reset(std::int64_t interval_ms, std::int64_t burst, std::int64_t now) {
    interval_ms_ = interval_ms > 0 ? interval_ms + interval_ms / 20 + 1 : 0;
    capacity_ms_ = std::max<std::int64_t>(1, burst - 1) * interval_ms_;
    credit_ms_ = capacity_ms_;
    last_ = now;
  }

  // Takes a token if there is one (0); otherwise how long until there is.
  std::int64_t take(std::int64_t now) {
    if (interval_ms_ == 0) return 0;
    credit_ms_ = std::min(capacity_ms_, credit_ms_ + std::max<std::int64_t>(0, now - last_));
    last_ = std::max(last_, now);
    if (credit_ms_ < interval_ms_) return interval_ms_ - credit_ms_;
    credit_ms_ -= interval_ms_;
    return 0;
  }

 private:
  std::int64_t interval_ms_ = 0;
  std::int64_t capacity_ms_ = 0;
  std::int64_t credit_ms_ = 0;
  std::int64_t last_ = 0;
};

}  // namespace parley::client
