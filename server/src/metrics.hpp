// Counters for /metrics (Prometheus text). Each worker thread owns one
// WorkerMetrics and is its only writer (relaxed atomics, no shared cache
// line on the hot path); a scrape sums them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "parley/protocol/errors.hpp"
#include "parley/protocol/messages.hpp"

namespace parley::server {

inline constexpr std::size_t kClientFrameTypes = std::variant_size_v<protocol::c2s::Frame>;
inline constexpr std::size_t kServerFrameTypes = std::variant_size_v<protocol::s2c::Frame>;
inline constexpr std::size_t kErrorCodes = 9;
// Upper bounds (microseconds) of the request handling latency histogram.
inline constexpr std::array<std::int64_t, 10> kLatencyBucketsUs = {25,   50,   100,  250,   500,
                                                                   1000, 2500, 5000, 10000, 50000};

struct WorkerMetrics {
  using Counter = std::atomic<std::uint64_t>;
  std::array<Counter, kClientFrameTypes> frames_in{};
  std::array<Counter, kClientFrameTypes> bytes_in{};
  std::array<Counter, kServerFrameTypes> frames_out{};
  std::array<Counter, kServerFrameTypes> bytes_out{};
  std::array<Counter, kErrorCodes> errors{};
  Counter rate_limited{0};
  Counter connections_opened{0};
  Counter connections_closed{0};
  Counter slow_consumers{0};
  std::atomic<std::int64_t> connections{0};
  std::atomic<std::int64_t> queued_bytes{0};                    // outbound bytes waiting in connection queues
  std::atomic<std::int64_t> queue_peak_bytes{0};                // the most one connection's queue ever held
  std::array<Counter, kLatencyBucketsUs.size() + 1> latency{};  // last: +Inf
  Counter latency_sum_us{0};

  static void add(Counter& c, std::uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
  // Only the worker writes its metrics: a plain compare, then a store.
  static void raise(std::atomic<std::int64_t>& peak, std::int64_t v) {
    if (v > peak.load(std::memory_order_relaxed)) peak.store(v, std::memory_order_relaxed);
  }
  void observe_latency(std::int64_t us);
};

struct Gauges {
  std::int64_t rooms_loaded = 0;
  std::int64_t messages_stored = 0;
  std::int64_t uptime_s = 0;
};

std::string render_metrics(const std::vector<const WorkerMetrics*>& workers, const Gauges& gauges);

// One tenant's usage (tenants/tenants.hpp), rendered with a `tenant` label.
struct TenantGauges {
  std::string tenant;
  std::int64_t connections = 0;
  std::int64_t rooms = 0;
  std::int64_t rooms_loaded = 0;
  std::int64_t messages = 0;
  std::int64_t refused_connections = 0;
  std::int64_t refused_messages = 0;
  std::int64_t refused_rooms = 0;
};
std::string render_tenant_metrics(const std::vector<TenantGauges>& tenants);

}  // namespace parley::server
