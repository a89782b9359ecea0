// File descriptors at start: parleyd raises its soft RLIMIT_NOFILE to hold
// --max-connections (one descriptor each) plus what it holds besides
// (storage files, listener, event loops) and a margin, up to the hard
// limit. When the hard limit is too low it says so and lowers the
// connection limit, so that the connections past it are refused with 503
// instead of the process running out of descriptors.
#pragma once

#include <cstdint>

namespace parley::server {

struct DescriptorPlan {
  std::uint64_t soft = 0;             // the soft limit to set (never below the current one)
  std::uint32_t max_connections = 0;  // the connection limit that fits
  bool raise = false;                 // soft is above the current soft limit
  bool lowered = false;               // max_connections is below what was asked
};

// Descriptors kept beyond those open at start, for what opens later
// (signal handling, SQLite's journal files, a connection being refused).
inline constexpr std::uint64_t kDescriptorMargin = 32;

// Pure: from the current limits, the descriptors open now and the asked
// connection limit.
DescriptorPlan plan_descriptors(std::uint64_t soft, std::uint64_t hard, std::uint64_t in_use,
                                std::uint32_t max_connections);

// Applies the plan to this process (counting its open descriptors in
// /proc/self/fd) and logs what it did; returns the connection limit that
// fits (0: not even one connection fits).
std::uint32_t fit_descriptor_limit(std::uint32_t max_connections);

}  // namespace parley::server
