// Rooms and who is in them; assigns seq, keeps recent history, deduplicates
// sends, and broadcasts each new message once per codec to every member.
// Knows nothing of sockets. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth.hpp"
#include "parley/protocol/messages.hpp"
#include "parley/protocol/result.hpp"
#include "peer.hpp"

namespace parley::server {

struct HubLimits {
  std::size_t history_kept = 1000;  // messages retained per room (replay window)
  std::size_t join_page = 50;       // messages sent with a fresh join or a reset
};

class Hub {
 public:
  explicit Hub(HubLimits limits = {});

  // Adds `peer` to the room (created on first join) and returns the `joined`
  // answer: messages after `since_seq`, or the latest page (with reset when
  // `since_seq` is older than retained history).
  protocol::s2c::Joined join(const std::string& room_id, const Identity& user, const std::shared_ptr<Peer>& peer,
                             std::optional<std::int64_t> since_seq);
  void leave(const std::string& room_id, const Peer* peer);

  // Stores and broadcasts a message, or returns the original for a retried
  // (sender, clientMsgId).
  struct Posted {
    protocol::Message message;
    bool duplicate = false;
  };
  protocol::Result<Posted> post(const std::string& room_id, const Identity& sender, const std::string& client_msg_id,
                                const protocol::Draft& draft, std::int64_t now_ms);

  // Up to `limit` messages before `before_seq` (the newest when absent), ascending.
  protocol::s2c::History history(const std::string& room_id, std::optional<std::int64_t> before_seq,
                                 std::size_t limit) const;

  // Relays a typing indicator to the room's other users (not the sender's own connections).
  void relay_typing(const protocol::s2c::Typing& frame);

  bool is_member(const std::string& room_id, const Peer* peer) const;

 private:
  struct Member {
    const Peer* key;
    std::weak_ptr<Peer> peer;
    std::string user_id;
    std::string name;
  };
  struct Room {
    std::string epoch;
    std::int64_t head_seq = 0;
    std::deque<protocol::Message> history;  // the last history_kept messages
    std::vector<Member> members;
  };

  std::string random_id(const char* prefix);
  void broadcast(const std::vector<std::shared_ptr<Peer>>& peers, const protocol::s2c::Frame& frame);
  static std::vector<protocol::Member> members_of(const Room& room);

  HubLimits limits_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Room> rooms_;
  std::unordered_map<std::string, protocol::Message> sent_;  // (sender, clientMsgId) -> message
  std::mt19937_64 rng_;
};

}  // namespace parley::server
