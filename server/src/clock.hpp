// The wall clock the server stamps messages and presence with: milliseconds
// since the Unix epoch. Timeouts use steady_clock instead.
#pragma once

#include <chrono>
#include <cstdint>

namespace parley::server {

inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace parley::server
