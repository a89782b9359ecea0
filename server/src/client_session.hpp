// The protocol conversation with one client, independent of the transport:
// hello and authentication, then joins and sends, each request answered by
// exactly one reply carrying its ref. The WebSocket session feeds it frames.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "auth.hpp"
#include "config.hpp"
#include "hub.hpp"
#include "peer.hpp"

namespace parley::server {

class ClientSession {
 public:
  // `self` is the connection's Peer (alive at construction): replies go
  // through it, the hub holds it.
  ClientSession(Hub& hub, const TokenVerifier& verifier, const Config& config, std::weak_ptr<Peer> self);
  ~ClientSession();

  void on_frame(std::string_view bytes, std::int64_t now_ms);
  void on_closed();

  bool authenticated() const { return identity_.has_value(); }

 private:
  void handle(protocol::c2s::Hello& f, std::int64_t now_ms);
  void handle(protocol::c2s::Join& f, std::int64_t now_ms);
  void handle(protocol::c2s::Send& f, std::int64_t now_ms);
  void handle(protocol::c2s::Auth& f, std::int64_t now_ms);
  void handle(protocol::c2s::Leave& f, std::int64_t now_ms);
  void handle(protocol::c2s::Typing& f, std::int64_t now_ms);
  void handle(protocol::c2s::History& f, std::int64_t now_ms);
  void handle(protocol::c2s::Ping& f, std::int64_t now_ms);
  // Receipts and presence arrive with persistent storage; until then they
  // are refused with an explicit error rather than silently dropped.
  void handle(protocol::c2s::Read& f, std::int64_t now_ms);
  void handle(protocol::c2s::Delivered& f, std::int64_t now_ms);
  void handle(protocol::c2s::Presence& f, std::int64_t now_ms);
  void not_supported(const std::optional<std::string>& ref, std::string_view what);

  void reply(const protocol::s2c::Frame& frame);
  void reply_error(const std::optional<std::string>& ref, const protocol::Error& error);
  std::shared_ptr<Peer> peer() const { return self_.lock(); }

  Hub& hub_;
  const TokenVerifier& verifier_;
  const Config& config_;
  std::weak_ptr<Peer> self_;
  const Peer* key_;  // self_, still usable as a key while the connection is being destroyed
  protocol::Codec codec_ = protocol::Codec::json;
  std::optional<Identity> identity_;
  std::string session_id_;
  std::set<std::string> rooms_;
};

}  // namespace parley::server
