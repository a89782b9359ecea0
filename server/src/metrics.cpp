#include "metrics.hpp"

#include <algorithm>

#include "parley/protocol/codec.hpp"

namespace parley::server {

namespace {

template <class Variant, std::size_t I = 0>
void type_names(std::vector<std::string>& out) {
  if constexpr (I < std::variant_size_v<Variant>) {
    out.emplace_back(std::variant_alternative_t<I, Variant>::type);
    type_names<Variant, I + 1>(out);
  }
}

template <class Variant>
std::vector<std::string> names() {
  std::vector<std::string> out;
  type_names<Variant>(out);
  return out;
}

template <std::size_t N>
std::uint64_t sum(const std::vector<const WorkerMetrics*>& workers,
                  std::array<WorkerMetrics::Counter, N> WorkerMetrics::*field, std::size_t i) {
  std::uint64_t total = 0;
  for (const auto* w : workers) total += (w->*field)[i].load(std::memory_order_relaxed);
  return total;
}

std::uint64_t sum(const std::vector<const WorkerMetrics*>& workers, WorkerMetrics::Counter WorkerMetrics::*field) {
  std::uint64_t total = 0;
  for (const auto* w : workers) total += (w->*field).load(std::memory_order_relaxed);
  return total;
}

std::int64_t sum(const std::vector<const WorkerMetrics*>& workers, std::atomic<std::int64_t> WorkerMetrics::*field) {
  std::int64_t total = 0;
  for (const auto* w : workers) total += (w->*field).load(std::memory_order_relaxed);
  return total;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void line(std::string& out, const std::string& name, std::int64_t value) {
  out += name + ' ' + std::to_string(value) + '\n';
}

}  // namespace

void WorkerMetrics::observe_latency(std::int64_t us) {
  std::size_t i = 0;
  while (i < kLatencyBucketsUs.size() && us > kLatencyBucketsUs[i]) ++i;
  add(latency[i]);
  add(latency_sum_us, static_cast<std::uint64_t>(us < 0 ? 0 : us));
}

std::string render_metrics(const std::vector<const WorkerMetrics*>& w, const Gauges& gauges) {
  std::string out;
  out.reserve(8192);
  header(out, "parley_connections", "gauge", "Open WebSocket connections.");
  line(out, "parley_connections", sum(w, &WorkerMetrics::connections));
  header(out, "parley_connections_opened_total", "counter", "WebSocket connections accepted.");
  line(out, "parley_connections_opened_total", static_cast<std::int64_t>(sum(w, &WorkerMetrics::connections_opened)));
  header(out, "parley_connections_closed_total", "counter", "WebSocket connections closed.");
  line(out, "parley_connections_closed_total", static_cast<std::int64_t>(sum(w, &WorkerMetrics::connections_closed)));
  header(out, "parley_rooms", "gauge", "Rooms loaded in memory.");
  line(out, "parley_rooms", gauges.rooms_loaded);
  header(out, "parley_messages_stored", "gauge", "Messages in storage.");
  line(out, "parley_messages_stored", gauges.messages_stored);
  header(out, "parley_queued_bytes", "gauge", "Outbound bytes waiting in connection queues.");
  line(out, "parley_queued_bytes", sum(w, &WorkerMetrics::queued_bytes));
  header(out, "parley_queue_peak_bytes", "gauge",
         "The most outbound bytes one connection's queue has held since start (bounded by --max-queue-bytes).");
  std::int64_t peak = 0;
  for (const auto* m : w) peak = std::max(peak, m->queue_peak_bytes.load(std::memory_order_relaxed));
  line(out, "parley_queue_peak_bytes", peak);
  header(out, "parley_slow_consumers_total", "counter", "Connections closed because their queue was full (4003).");
  line(out, "parley_slow_consumers_total", static_cast<std::int64_t>(sum(w, &WorkerMetrics::slow_consumers)));
  header(out, "parley_rate_limited_total", "counter", "Requests answered rate_limited.");
  line(out, "parley_rate_limited_total", static_cast<std::int64_t>(sum(w, &WorkerMetrics::rate_limited)));

  auto in = names<protocol::c2s::Frame>();
  header(out, "parley_frames_in_total", "counter", "Frames received, by type.");
  for (std::size_t i = 0; i < in.size(); ++i) {
    line(out, "parley_frames_in_total{type=\"" + in[i] + "\"}",
         static_cast<std::int64_t>(sum(w, &WorkerMetrics::frames_in, i)));
  }
  header(out, "parley_bytes_in_total", "counter", "Payload bytes received, by frame type.");
  for (std::size_t i = 0; i < in.size(); ++i) {
    line(out, "parley_bytes_in_total{type=\"" + in[i] + "\"}",
         static_cast<std::int64_t>(sum(w, &WorkerMetrics::bytes_in, i)));
  }
  auto outn = names<protocol::s2c::Frame>();
  header(out, "parley_frames_out_total", "counter", "Frames sent, by type (one per recipient).");
  for (std::size_t i = 0; i < outn.size(); ++i) {
    line(out, "parley_frames_out_total{type=\"" + outn[i] + "\"}",
         static_cast<std::int64_t>(sum(w, &WorkerMetrics::frames_out, i)));
  }
  header(out, "parley_bytes_out_total", "counter", "Bytes sent, by frame type (WebSocket header included).");
  for (std::size_t i = 0; i < outn.size(); ++i) {
    line(out, "parley_bytes_out_total{type=\"" + outn[i] + "\"}",
         static_cast<std::int64_t>(sum(w, &WorkerMetrics::bytes_out, i)));
  }
  header(out, "parley_errors_total", "counter", "Error answers, by code.");
  for (std::size_t i = 0; i < kErrorCodes; ++i) {
    line(out, "parley_errors_total{code=\"" + std::string(to_string(static_cast<protocol::ErrorCode>(i))) + "\"}",
         static_cast<std::int64_t>(sum(w, &WorkerMetrics::errors, i)));
  }
  header(out, "parley_request_duration_seconds", "histogram", "Time to handle one inbound frame.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= kLatencyBucketsUs.size(); ++i) {
    cumulative += sum(w, &WorkerMetrics::latency, i);
    std::string le =
        i < kLatencyBucketsUs.size() ? std::to_string(static_cast<double>(kLatencyBucketsUs[i]) / 1e6) : "+Inf";
    line(out, "parley_request_duration_seconds_bucket{le=\"" + le + "\"}", static_cast<std::int64_t>(cumulative));
  }
  out += "parley_request_duration_seconds_sum " +
         std::to_string(static_cast<double>(sum(w, &WorkerMetrics::latency_sum_us)) / 1e6) + '\n';
  line(out, "parley_request_duration_seconds_count", static_cast<std::int64_t>(cumulative));
  header(out, "parley_uptime_seconds", "gauge", "Seconds since parleyd started.");
  line(out, "parley_uptime_seconds", gauges.uptime_s);
  return out;
}

std::string render_tenant_metrics(const std::vector<TenantGauges>& tenants) {
  std::string out;
  auto each = [&](const char* name, const char* type, const char* help, std::int64_t TenantGauges::*field) {
    header(out, name, type, help);
    for (const auto& t : tenants) line(out, std::string(name) + "{tenant=\"" + t.tenant + "\"}", t.*field);
  };
  each("parley_tenant_connections", "gauge", "Authenticated connections, by tenant.", &TenantGauges::connections);
  each("parley_tenant_rooms", "gauge", "Rooms stored, by tenant.", &TenantGauges::rooms);
  each("parley_tenant_rooms_loaded", "gauge", "Rooms in memory, by tenant.", &TenantGauges::rooms_loaded);
  each("parley_tenant_messages_total", "counter", "Sends let through the tenant's rate, by tenant.",
       &TenantGauges::messages);
  header(out, "parley_tenant_refused_total", "counter", "Requests refused by a tenant limit, by tenant and limit.");
  for (const auto& t : tenants) {
    std::string labels = "{tenant=\"" + t.tenant + "\",limit=\"";
    line(out, "parley_tenant_refused_total" + labels + "connections\"}", t.refused_connections);
    line(out, "parley_tenant_refused_total" + labels + "messages\"}", t.refused_messages);
    line(out, "parley_tenant_refused_total" + labels + "rooms\"}", t.refused_rooms);
  }
  return out;
}

}  // namespace parley::server
