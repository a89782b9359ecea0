#include "admission.hpp"

namespace parley::server {

ConnectionSlot::ConnectionSlot(ConnectionSlot&& other) noexcept
    : admission_(other.admission_), entry_(other.entry_), upgraded_(other.upgraded_) {
  other.admission_ = nullptr;
  other.entry_ = nullptr;
}

ConnectionSlot& ConnectionSlot::operator=(ConnectionSlot&& other) noexcept {
  if (this != &other) {
    release();
    admission_ = other.admission_;
    entry_ = other.entry_;
    upgraded_ = other.upgraded_;
    other.admission_ = nullptr;
    other.entry_ = nullptr;
  }
  return *this;
}

void ConnectionSlot::release() {
  if (!admission_) return;
  admission_->release(*this);
  admission_ = nullptr;
  entry_ = nullptr;
}

const char* Admission::name(Refusal r) {
  switch (r) {
    case Refusal::none:
      return "none";
    case Refusal::capacity:
      return "capacity";
    case Refusal::handshakes_per_ip:
      return "handshakes_per_ip";
    case Refusal::connections_per_ip:
      return "connections_per_ip";
  }
  return "none";
}

Admission::Admission(AdmissionLimits limits) : limits_(limits) {}

void Admission::set_max_connections(std::uint32_t n) {
  std::lock_guard lock(mutex_);
  limits_.max_connections = n;
}

std::uint32_t Admission::max_connections() const {
  std::lock_guard lock(mutex_);
  return limits_.max_connections;
}

ConnectionSlot Admission::admit(const std::string& peer, bool exempt, Refusal& refusal) {
  ConnectionSlot slot;
  std::lock_guard lock(mutex_);
  refusal = Refusal::none;
  if (total_ >= limits_.max_connections) {
    refusal = Refusal::capacity;
  } else if (!exempt) {
    auto [it, inserted] = handshakes_.try_emplace(peer, 0);
    if (it->second >= limits_.max_handshakes_per_ip) {
      refusal = Refusal::handshakes_per_ip;
      if (inserted) handshakes_.erase(it);  // a cap of 0
    } else {
      ++it->second;
      slot.entry_ = &*it;
    }
  }
  if (refusal != Refusal::none) {
    refused_[static_cast<std::size_t>(refusal)].fetch_add(1, std::memory_order_relaxed);
    return slot;
  }
  ++total_;
  ++http_;
  slot.admission_ = this;
  return slot;
}

Admission::Refusal Admission::upgrade(ConnectionSlot& slot, const std::string& client) {
  if (!slot || slot.upgraded_) return Refusal::none;
  std::lock_guard lock(mutex_);
  auto [it, inserted] = connections_.try_emplace(client, 0);
  if (it->second >= limits_.max_connections_per_ip) {
    if (inserted) connections_.erase(it);
    refused_[static_cast<std::size_t>(Refusal::connections_per_ip)].fetch_add(1, std::memory_order_relaxed);
    return Refusal::connections_per_ip;
  }
  ++it->second;
  if (slot.entry_) drop(handshakes_, slot.entry_);
  slot.entry_ = &*it;
  slot.upgraded_ = true;
  --http_;
  return Refusal::none;
}

void Admission::drop(Map& map, ConnectionSlot::Entry* entry) {
  // Erased through an iterator: the key must not be read while its node goes.
  if (--entry->second == 0) map.erase(map.find(entry->first));
}

void Admission::release(ConnectionSlot& slot) {
  std::lock_guard lock(mutex_);
  if (slot.upgraded_) {
    drop(connections_, slot.entry_);
  } else {
    if (slot.entry_) drop(handshakes_, slot.entry_);
    --http_;
  }
  --total_;
}

Admission::Counts Admission::counts() const {
  std::lock_guard lock(mutex_);
  return {total_, http_, static_cast<std::int64_t>(handshakes_.size() + connections_.size())};
}

void Admission::count_handshake_refused(int status) {
  std::lock_guard lock(mutex_);
  ++handshakes_refused_[status];
}

std::string Admission::metrics_text() const {
  std::map<int, std::uint64_t> by_status = {{400, 0}, {403, 0}, {405, 0}, {413, 0}, {426, 0}, {431, 0}};
  Counts c;
  std::uint32_t limit = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [status, n] : handshakes_refused_) by_status[status] = n;
    c = {total_, http_, 0};
    limit = limits_.max_connections;
  }
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
  };
  metric("parley_tcp_connections", "gauge",
         "Open TCP connections, HTTP and WebSocket alike (what --max-connections counts).");
  out += "parley_tcp_connections " + std::to_string(c.total) + '\n';
  metric("parley_http_connections", "gauge",
         "TCP connections in their HTTP phase: not (yet) upgraded, a scrape's own included.");
  out += "parley_http_connections " + std::to_string(c.http) + '\n';
  metric("parley_connection_limit", "gauge",
         "The connection limit in force: --max-connections, or less if the descriptor limit cannot hold it.");
  out += "parley_connection_limit " + std::to_string(limit) + '\n';
  metric("parley_connections_refused_total", "counter", "Connections refused by a limit, by limit.");
  for (auto r : {Refusal::capacity, Refusal::handshakes_per_ip, Refusal::connections_per_ip}) {
    out += std::string("parley_connections_refused_total{reason=\"") + name(r) + "\"} " + std::to_string(refused(r)) +
           '\n';
  }
  metric("parley_handshakes_refused_total", "counter",
         "Requests refused in the HTTP phase, by status: malformed (400, 413, 431) or a refused WebSocket handshake "
         "(400, 403, 405, 426).");
  for (const auto& [status, n] : by_status) {
    out += "parley_handshakes_refused_total{status=\"" + std::to_string(status) + "\"} " + std::to_string(n) + '\n';
  }
  metric("parley_accept_errors_total", "counter",
         "Failed accepts (out of descriptors or memory: the listener then backs off).");
  out += "parley_accept_errors_total " + std::to_string(accept_errors_.load(std::memory_order_relaxed)) + '\n';
  return out;
}

}  // namespace parley::server
