// Reconnect delays: exponential backoff with full jitter.
#pragma once

#include <cstdint>

namespace parley::client {

// A delay drawn uniformly from [0, min(cap, base * 2^attempt)], with
// `unit` in [0, 1) the random draw. attempt 0 is the first retry.
std::int64_t backoff_delay(int attempt, std::int64_t base_ms, std::int64_t cap_ms, double unit);

}  // namespace parley::client
