// The rooms in memory, each behind its own lock. The maps from room ids are
// split into shards with a lock each, held only for a lookup and released
// before a room's lock is taken. A room nobody is subscribed to, with no
// presence or typing state left, is evicted (its state is in storage), so
// refused joins and old rooms hold no memory.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hub/presence.hpp"
#include "hub/remote_presence.hpp"
#include "hub/typing.hpp"
#include "parley/protocol/errors.hpp"
#include "peer.hpp"
#include "storage/records.hpp"

namespace parley::server {

struct Subscriber {
  std::weak_ptr<Peer> peer;
  std::string user_id;
};

struct Room {
  Room(PresenceTimings timings, std::int64_t typing_ttl_ms) : presence(timings), typing(typing_ttl_ms) {}
  std::mutex mutex;
  bool loaded = false;   // record holds the stored room
  bool evicted = false;  // taken out of its shard: look it up again
  // Loaded once: the subscribers have been sent every message up to
  // record.head_seq, so a reload after a storage failure catches up from there.
  bool known = false;
  RoomRecord record;  // its id is set from the start, the rest once loaded
  std::unordered_map<const Peer*, Subscriber> subscribers;
  RoomPresence presence;  // over this node's connections
  RoomTyping typing;
  // In a cluster: the room's bus channel is watched, the other nodes'
  // presence words, and when storage was last polled while the bus was down.
  bool watched = false;
  RemotePresence remote;
  std::int64_t polled_at = 0;
  // The status each user was last shown with to the subscribers (absent: offline).
  std::unordered_map<std::string, PresenceStatus> shown;

  // The subscribers' live connections, but for those of `except_user`.
  std::vector<std::shared_ptr<Peer>> live_subscribers(const std::string& except_user = {}) const;
  // Nothing in it that storage does not hold.
  bool settled() const { return subscribers.empty() && typing.empty() && presence.settled(); }
};

// A room with its lock held.
struct LockedRoom {
  std::shared_ptr<Room> room;
  std::unique_lock<std::mutex> lock;
  Room* operator->() const { return room.get(); }
  Room& operator*() const { return *room; }
  explicit operator bool() const { return room != nullptr; }
};

class RoomRegistry {
 public:
  RoomRegistry(PresenceTimings timings, std::int64_t typing_ttl_ms)
      : timings_(timings), typing_ttl_ms_(typing_ttl_ms) {}

  // The room, locked; created empty (record.id set, not loaded) when
  // `create` and it is not in memory. Empty when absent and not `create`.
  LockedRoom lock(const std::string& room_id, bool create);
  // The room, locked, if it is in memory and its lock is free at once; else empty.
  LockedRoom try_lock(const std::string& room_id);
  // The room, locked, if `peer` is subscribed to it; else empty, and
  // `refusal` says why (`forbidden`).
  LockedRoom lock_subscribed(const std::string& room_id, const Peer* peer, protocol::Error& refusal);
  // With the room locked: takes it out of memory if it is settled.
  void evict_if_settled(LockedRoom& room);
  // Calls `visit` with each room in memory, locked (one at a time).
  void for_each(const std::function<void(LockedRoom&)>& visit);
  std::size_t size() const;

 private:
  static constexpr std::size_t kShards = 32;
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<Room>> rooms;
  };
  Shard& shard_of(const std::string& id) { return shards_[std::hash<std::string>{}(id) % kShards]; }

  PresenceTimings timings_;
  std::int64_t typing_ttl_ms_;
  std::array<Shard, kShards> shards_;
};

}  // namespace parley::server
