// Rooms: who may join them, who is subscribed, their gap-free seq, replay,
// history, receipts, presence and typing. Persists through Storage and
// reaches connections only through Peer and fan_out, so it knows nothing of
// sockets. Thread-safe without a global lock: each room has its own lock,
// and the maps from room and user ids are split into shards with a lock
// each, held only for a lookup. A room's frames are fanned out while its lock
// is held, so every subscriber receives them in seq order. A room nobody is
// subscribed to, with no presence or typing state left, is evicted by tick()
// (its state is in Storage), so refused joins and old rooms hold no memory.
//
// Every request about a room is checked against the room's subscribers under
// its lock: a connection that left, or whose user was removed, has no access
// to the room from that moment, whatever it asks. Storage failures answer the
// request that met them with `internal` (the client retries); the room is
// read again from storage on its next use, so a write that did land after all
// is not missed.
#pragma once

#include <array>
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
  // if it was the user's last one in the room. The user stays a member and
  // may join again. With `forget`, the membership ends too (leaving for good):
  // the user's other connections in the room get `removed`, and a private
  // room can only be joined again with a token that names it.
  std::optional<protocol::Error> leave(const std::string& room_id, const Identity& user, const Peer* peer, bool forget,
                                       std::int64_t now);

  // Stores a message and broadcasts it, or returns the original message of a
  // retried (sender, clientMsgId) without storing or broadcasting anything.
  struct Posted {
    protocol::Message message;
    bool duplicate = false;
  };
  protocol::Result<Posted> post(const std::string& room_id, const Identity& sender, const Peer* from,
                                const std::string& client_msg_id, const protocol::Draft& draft, std::int64_t now);

  protocol::Result<protocol::s2c::History> history(const std::string& room_id, const Peer* from,
                                                   std::optional<std::int64_t> before_seq, std::size_t limit);

  // Removes `target` from the room: its connections get `removed` and are
  // unsubscribed. Needs the room's owner or admin role, or a token role admin.
  std::optional<protocol::Error> kick(const std::string& room_id, const Identity& actor, const Peer* from,
                                      const std::string& target, std::int64_t now);

  // Makes a member `admin` or `member` (the admin API); the room's members
  // see the change in a presence diff. The owner's role does not change.
  protocol::Result<MemberRecord> set_role(const std::string& room_id, const std::string& user_id,
                                          const std::string& role, std::int64_t now);

  // Relays a typing indicator to the room's other users.
  std::optional<protocol::Error> typing(const std::string& room_id, const Identity& user, const Peer* from, bool active,
                                        std::int64_t now);

  // Moves the user's read or delivered watermark forward and broadcasts it.
  std::optional<protocol::Error> receipt(const std::string& room_id, const Identity& user, const Peer* from,
                                         Watermark which, std::int64_t up_to_seq);

  // Presence: the user's own status, and activity that ends `idle`, in the
  // rooms `from` is subscribed to among `room_ids`.
  void set_status(const std::vector<std::string>& room_ids, const Identity& user, const Peer* from,
                  const std::string& status, std::int64_t now);
  void activity(const std::vector<std::string>& room_ids, const Identity& user, const Peer* from, std::int64_t now);

  // Presence transitions that are due (idle, offline) and typing expiry.
  void tick(std::int64_t now);

  // Rooms in memory (subscribed, or settling presence).
  std::size_t rooms_loaded() const;

 private:
  struct Subscriber {
    std::weak_ptr<Peer> peer;
    std::string user_id;
  };
  struct Room {
    explicit Room(PresenceTimings t) : presence(t) {}
    std::mutex mutex;
    bool loaded = false;   // record holds the stored room
    bool evicted = false;  // taken out of its shard: look it up again
    RoomRecord record;     // its id is set from the start, the rest once loaded
    std::unordered_map<const Peer*, Subscriber> subscribers;
    RoomPresence presence;
    std::unordered_map<std::string, std::int64_t> typing_until;  // user -> expiry
  };
  // A room with its lock held.
  struct LockedRoom {
    std::shared_ptr<Room> room;
    std::unique_lock<std::mutex> lock;
    Room* operator->() const { return room.get(); }
    Room& operator*() const { return *room; }
    explicit operator bool() const { return room != nullptr; }
  };
  static constexpr std::size_t kShards = 32;
  struct RoomShard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<Room>> rooms;
  };
  static std::size_t shard_of(const std::string& id) { return std::hash<std::string>{}(id) % kShards; }

  // The room, locked; created empty when `create` and it is not in memory
  // (then open_for loads or creates it). Empty when absent and not `create`.
  LockedRoom lock_room(const std::string& room_id, bool create);
  // The room, locked, if `peer` is subscribed to it; else empty (and `refusal`
  // says why).
  LockedRoom lock_subscribed(const std::string& room_id, const Peer* peer, protocol::Error& refusal);
  // With the room locked: true when it is loaded, from storage if need be;
  // false when storage has no such room.
  protocol::Result<bool> load_stored(Room& room);
  // With the room locked: its record is in memory (read again after a storage
  // failure), or the error that answers the request.
  std::optional<protocol::Error> ensure_loaded(Room& room);
  // A storage failure met while serving a request: logged, the room is read
  // again on its next use, and the request is answered `internal`.
  protocol::Error unavailable(Room* room, const protocol::Error& failure, const char* operation);
  // With the room locked: loads or creates it if `user` may, and makes the
  // user a member if they may join; else the refusal.
  std::optional<protocol::Error> open_for(Room& room, const std::string& room_id, const Identity& user,
                                          std::int64_t now);
  // With the room locked: takes it out of memory if nothing in it is live.
  void evict_if_settled(LockedRoom& room);
  std::vector<std::shared_ptr<Peer>> live_subscribers(Room& room, const std::string& except_user = {});
  // The members with their presence, from their stored records.
  std::vector<protocol::Member> members_of(Room& room, const std::vector<MemberRecord>& records);
  // Unsubscribes every connection of `user_id` in the room; returns them.
  std::vector<std::shared_ptr<Peer>> unsubscribe_user(Room& room, const std::string& user_id, const std::string& name,
                                                      std::int64_t now);
  void broadcast_presence(Room& room, const std::vector<PresenceChange>& changes);
  void stop_typing(Room& room, const std::string& user_id, const std::string& name);

  Storage& storage_;
  Dispatch& dispatch_;
  const Config& config_;
  PresenceTimings timings_;

  // A shard's lock guards its map only: it is released before a room's lock
  // is taken (evict_if_settled takes it with a room locked, never the other
  // way round).
  std::array<RoomShard, kShards> room_shards_;
};

}  // namespace parley::server
