// How long a lost Redis connection waits before its next attempt: 50 ms,
// doubling with each failure, at most 1 s; reset by a successful connect.
// Half of each wait is random ("equal jitter"): the nodes of a cluster that
// lost the same Redis do not all come back in the same millisecond, and none
// retries sooner than half the schedule.
#pragma once

#include <algorithm>
#include <chrono>

namespace parley::server::redis {

// `failures`: attempts failed since the last successful connect (0 for the
// first retry); `unit`: a random number in [0, 1).
inline std::chrono::milliseconds reconnect_delay(unsigned failures, double unit, std::chrono::milliseconds first,
                                                 std::chrono::milliseconds cap) {
  auto base = first;
  for (unsigned i = 0; i < failures && base < cap; ++i) base *= 2;
  base = std::min(base, cap);
  unit = std::clamp(unit, 0.0, 1.0);
  auto half = base / 2;
  return half +
         std::chrono::milliseconds(static_cast<long long>(static_cast<double>(base.count() - half.count()) * unit));
}

}  // namespace parley::server::redis
