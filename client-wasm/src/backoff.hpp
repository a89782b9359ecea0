// Reconnect delays: exponential backoff with full jitter.
#pragma once

#include <cstdint>

namespace parley::client {

// min(cap, base * 2^attempt): the longest wait of an attempt. attempt 0 is the first retry.
std::int64_t backoff_ceiling(int attempt, std::int64_t base_ms, std::int64_t cap_ms);

// A delay drawn uniformly from [0, backoff_ceiling(attempt)], with `unit` in
// [0, 1) the random draw.
std::int64_t backoff_delay(int attempt, std::int64_t base_ms, std::int64_t cap_ms, double unit);

}  // namespace parley::client
