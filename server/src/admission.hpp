// Which TCP connections parleyd takes, counted by ownership: every accepted
// connection holds a ConnectionSlot from accept to close. HttpSession holds
// it while the connection speaks HTTP and hands it to WsConnection at the
// upgrade; whoever holds it last gives the place back when it is destroyed,
// so the counts balance on every path (errors, timeouts, shutdown).
//
//   total          every TCP connection, HTTP or WebSocket: --max-connections
//                  (fitted to the descriptor limit at start); over it 503
//   HTTP phase     per TCP peer address: --max-handshakes-per-ip (trusted
//                  proxies exempt); over it 503
//   WebSocket      per client address (the forwarded one behind a trusted
//                  proxy): --max-connections-per-ip; over it 429
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

namespace parley::server {

class Admission;

class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(ConnectionSlot&& other) noexcept;
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot() { release(); }

  // Holds a place (an empty slot is a refusal, or one already given back).
  explicit operator bool() const { return admission_ != nullptr; }
  bool upgraded() const { return upgraded_; }
  // Gives the place back now; the destructor then does nothing.
  void release();

 private:
  friend class Admission;
  using Entry = std::pair<const std::string, std::uint32_t>;
  Admission* admission_ = nullptr;
  Entry* entry_ = nullptr;  // its address's count: HTTP phase (null if exempt) or WebSocket
  bool upgraded_ = false;
};

struct AdmissionLimits {
  std::uint32_t max_connections = 10000;
  std::uint32_t max_connections_per_ip = 1000;
  std::uint32_t max_handshakes_per_ip = 100;
};

class Admission {
 public:
  enum class Refusal : std::uint8_t { none, capacity, handshakes_per_ip, connections_per_ip };
  static constexpr std::size_t kRefusals = 4;
  static const char* name(Refusal r);

  explicit Admission(AdmissionLimits limits);
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // The connection limit in force: --max-connections, lowered at start when
  // the descriptor limit cannot hold that many.
  void set_max_connections(std::uint32_t n);
  std::uint32_t max_connections() const;

  // At accept, for the TCP peer's address; `exempt` (a trusted proxy) skips
  // the per-address cap on connections in their HTTP phase. An empty slot,
  // with `refusal` set, when it must be refused.
  ConnectionSlot admit(const std::string& peer, bool exempt, Refusal& refusal);
  // At the upgrade: from the HTTP phase to a WebSocket connection counted
  // under `client`. On a refusal the slot stays as it was.
  Refusal upgrade(ConnectionSlot& slot, const std::string& client);

  struct Counts {
    std::int64_t total = 0;
    std::int64_t http = 0;       // in their HTTP phase
    std::int64_t addresses = 0;  // distinct addresses counted (both phases)
  };
  Counts counts() const;
  std::uint64_t refused(Refusal r) const { return refused_[static_cast<std::size_t>(r)].load(); }

  // Other events the edge counts for /metrics: a request refused in the
  // HTTP phase (malformed, or a refused handshake), a failed accept.
  void count_handshake_refused(int status);
  void count_accept_error() { accept_errors_.fetch_add(1, std::memory_order_relaxed); }
  // Prometheus text of the above.
  std::string metrics_text() const;

 private:
  friend class ConnectionSlot;
  using Map = std::unordered_map<std::string, std::uint32_t>;
  void release(ConnectionSlot& slot);
  static void drop(Map& map, ConnectionSlot::Entry* entry);

  AdmissionLimits limits_;
  mutable std::mutex mutex_;
  Map handshakes_;   // HTTP-phase connections per TCP peer (exempt peers not listed)
  Map connections_;  // WebSocket connections per client address
  std::uint32_t total_ = 0;
  std::uint32_t http_ = 0;
  std::array<std::atomic<std::uint64_t>, kRefusals> refused_{};
  std::atomic<std::uint64_t> accept_errors_{0};
  std::map<int, std::uint64_t> handshakes_refused_;  // by HTTP status, under mutex_
};

}  // namespace parley::server
