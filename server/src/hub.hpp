// Rooms: who may join them, who is subscribed, their gap-free seq, replay,
// history, receipts, presence and typing. Persists through Storage and
// reaches connections only through Peer and fan_out, so it knows nothing of
// sockets. Thread-safe: each room has its own lock; a room's frames are
// fanned out while its lock is held, so every subscriber receives them in
// seq order.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth.hpp"
#include "config.hpp"
#include "parley/protocol/messages.hpp"
#include "parley/protocol/result.hpp"
#include "peer.hpp"
#include "presence.hpp"
#include "rate_limit.hpp"
#include "storage/storage.hpp"

namespace parley::server {

class Hub {
 public:
  Hub(Storage& storage, Dispatch& dispatch, const Config& config);
  ~Hub();

  // Subscribes `peer` to the room (creating it, or adding the user as a
  // member, when allowed) and delivers `joined` to it before any live frame
  // of the room. Returns the refusal otherwise.
  std::optional<protocol::Error> join(const Identity& user, const std::shared_ptr<Peer>& peer,
                                      const protocol::c2s::Join& request, std::int64_t now);
  // Unsubscribes one connection; presence goes offline after the grace period
  // if it was the user's last one in the room.
  void leave(const std::string& room_id, const Identity& user, const Peer* peer, std::int64_t now);

  // Stores a message and broadcasts it, or returns the original message of a
  // retried (sender, clientMsgId) without storing or broadcasting anything.
  struct Posted {
    protocol::Message message;
    bool duplicate = false;
  };
  protocol::Result<Posted> post(const std::string& room_id, const Identity& sender, const Peer* from,
                                const std::string& client_msg_id, const protocol::Draft& draft, std::int64_t now);

  protocol::Result<protocol::s2c::History> history(const std::string& room_id, std::optional<std::int64_t> before_seq,
                                                   std::size_t limit);

  // Removes `target` from the room: its connections get `removed` and are
  // unsubscribed. Needs the room's owner or admin role, or a token role admin.
  std::optional<protocol::Error> kick(const std::string& room_id, const Identity& actor, const std::string& target,
                                      std::int64_t now);

  // Relays a typing indicator to the room's other users.
  void typing(const std::string& room_id, const Identity& user, bool active, std::int64_t now);

  // Moves the user's read or delivered watermark forward and broadcasts it.
  std::optional<protocol::Error> receipt(const std::string& room_id, const Identity& user, Watermark which,
                                         std::int64_t up_to_seq);

  // Presence: the user's own status, and activity that ends `idle`.
  void set_status(const std::vector<std::string>& room_ids, const Identity& user, const std::string& status,
                  std::int64_t now);
  void activity(const std::vector<std::string>& room_ids, const Identity& user, std::int64_t now);

  // Presence transitions that are due (idle, offline) and typing expiry.
  void tick(std::int64_t now);

  // Counts connections per user; false when the user is at the limit.
  bool add_user_connection(const std::string& user_id);
  void remove_user_connection(const std::string& user_id);
  // The per-user send budget: 0, or milliseconds until the next send is allowed.
  std::int64_t take_user_send_token(const std::string& user_id, std::int64_t now);

  std::size_t rooms_loaded() const;

 private:
  struct Subscriber {
    std::weak_ptr<Peer> peer;
    std::string user_id;
  };
  struct Room {
    explicit Room(PresenceTimings t) : presence(t) {}
    std::mutex mutex;
    bool loaded = false;  // record holds the stored room
    RoomRecord record;
    std::unordered_map<const Peer*, Subscriber> subscribers;
    RoomPresence presence;
    std::unordered_map<std::string, std::int64_t> typing_until;  // user -> expiry
  };
  struct UserState {
    int connections = 0;
    TokenBucket sends;
  };

  // The room's slot, created empty on first use; slots live as long as the hub.
  Room& slot(const std::string& room_id);
  Room* find_loaded(const std::string& room_id);
  // With the room locked: loads or creates it if `user` may, and makes the
  // user a member if they may join; else the refusal.
  std::optional<protocol::Error> open_for(Room& room, const std::string& room_id, const Identity& user,
                                          std::int64_t now);
  std::vector<std::shared_ptr<Peer>> live_subscribers(Room& room, const std::string& except_user = {});
  std::vector<protocol::Member> members_of(Room& room);
  void broadcast_presence(Room& room, const std::vector<PresenceChange>& changes);
  void stop_typing(Room& room, const std::string& user_id, const std::string& name);

  Storage& storage_;
  Dispatch& dispatch_;
  const Config& config_;
  PresenceTimings timings_;

  // Guards the map only: it is released before a room's lock is taken.
  mutable std::mutex rooms_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Room>> rooms_;

  std::mutex users_mutex_;
  std::unordered_map<std::string, UserState> users_;
};

}  // namespace parley::server
