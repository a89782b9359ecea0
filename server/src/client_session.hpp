// The protocol conversation with one client, independent of the transport:
// hello and authentication, then requests, each answered by exactly one
// reply carrying its ref; per-connection rate limits. Runs on the
// connection's worker thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth.hpp"
#include "config.hpp"
#include "metrics.hpp"
#include "peer.hpp"
#include "rate_limit.hpp"
#include "tenants/tenants.hpp"

namespace parley::server {

// What a session uses of the server, and nothing more. parleyd hands it its
// own (ServerContext::session_services); a test builds one from tenants on
// memory storage, a Dispatch that hands frames straight to fake peers, and
// times of its choosing.
struct SessionServices {
  const Config& config;
  const TokenVerifier& verifier;
  Tenants& tenants;    // the session's tenant (its hub, its users' limits) is chosen at hello
  Dispatch& dispatch;  // replies take the same way as the rooms' broadcasts, so they keep their order
};

class ClientSession {
 public:
  // `self` is the connection's Peer (alive at construction): replies go
  // through it and the hub holds it.
  ClientSession(SessionServices services, WorkerMetrics& metrics, std::weak_ptr<Peer> self);
  ~ClientSession();

  void on_frame(std::string_view bytes, std::int64_t now_ms);
  // The connection is gone: leave every room. Idempotent.
  void on_closed(std::int64_t now_ms);

  // These three are read by the connection's I/O thread while the session
  // runs on its lane (lanes.hpp): set once, or atomically.
  bool authenticated() const { return tenant_name_.load(std::memory_order_acquire) != nullptr; }
  // The tenant's name once authenticated, else empty.
  std::string_view tenant() const {
    const std::string* name = tenant_name_.load(std::memory_order_acquire);
    return name ? std::string_view(*name) : std::string_view();
  }
  // When the token runs out (ms since the epoch); the connection closes with
  // 4001 then unless `auth` brought a fresh one.
  std::optional<std::int64_t> expires_at() const;  // from the I/O thread too
  // Tells the client and closes with 4001, if the token has run out by `now_ms`.
  void expire(std::int64_t now_ms);

 private:
  template <class Frame>
  void dispatch(Frame& f, std::int64_t now_ms);
  void handle(protocol::c2s::Hello& f, std::int64_t now_ms);
  void handle(protocol::c2s::Auth& f, std::int64_t now_ms);
  void handle(protocol::c2s::Join& f, std::int64_t now_ms);
  void handle(protocol::c2s::Leave& f, std::int64_t now_ms);
  void handle(protocol::c2s::Send& f, std::int64_t now_ms);
  void handle(protocol::c2s::Typing& f, std::int64_t now_ms);
  void handle(protocol::c2s::Read& f, std::int64_t now_ms);
  void handle(protocol::c2s::Delivered& f, std::int64_t now_ms);
  void handle(protocol::c2s::Presence& f, std::int64_t now_ms);
  void handle(protocol::c2s::History& f, std::int64_t now_ms);
  void handle(protocol::c2s::Ping& f, std::int64_t now_ms);
  void handle(protocol::c2s::Kick& f, std::int64_t now_ms);

  // The rate class a frame type counts against.
  static RateClass rate_class_of(std::size_t frame_index);
  // Records a rate-limited answer; true when the client keeps ignoring them.
  bool abusive(std::int64_t now_ms);
  // How long `f` must wait behind a send refused for the rate (0: it may go).
  std::int64_t held_back(const protocol::c2s::Send& f, std::int64_t now_ms);
  bool in_room(const std::optional<std::string>& ref, const std::string& room_id, const char* action);
  void acknowledge(const std::optional<std::string>& ref);
  void reply(const protocol::s2c::Frame& frame);
  void reply_error(const std::optional<std::string>& ref, const protocol::Error& error,
                   std::optional<std::int64_t> retry_after_ms = std::nullopt);
  void close(std::uint16_t code, std::string reason);
  std::string session_id() const;
  std::vector<std::string> room_list() const { return rooms_; }
  bool joined(const std::string& room_id) const;

  // Fields ordered for size: every connection has a session.
  SessionServices services_;
  WorkerMetrics& metrics_;
  std::weak_ptr<Peer> self_;
  const Peer* key_;               // self_, still usable as a key while the connection is being destroyed
  std::uint64_t session_number_;  // the session id is "s<number>"
  protocol::Codec codec_;
  Tenant* tenant_ = nullptr;                              // from hello on: the token's tenant
  std::atomic<const std::string*> tenant_name_{nullptr};  // tenant_->name(), set after identity_
  std::atomic<std::int64_t> expires_at_ms_{0};            // identity_->expires_at_ms
  bool counted_ = false;                                  // counted in the tenant's connections and its user's
  std::optional<Identity> identity_;
  std::vector<std::string> rooms_;  // sorted: a flat set (no tree node per room)
  RateBuckets buckets_;
  // Recent rate-limited answers, oldest first. A vector: empty, it costs no
  // heap (a std::deque allocates ~600 bytes up front, per connection).
  std::vector<std::int64_t> limited_at_;
  // The last send refused for the rate: later sends are refused until it
  // comes again (or the hold expires), so messages land in the order written
  // even when the client had more of them in flight.
  struct HeldSend {
    std::string client_msg_id;
    std::int64_t ready_at = 0;    // when a token is due
    std::int64_t expires_at = 0;  // a client that never sends it again is not held forever
  };
  std::unique_ptr<HeldSend> held_;  // rare: no room for it in every session
};

}  // namespace parley::server
