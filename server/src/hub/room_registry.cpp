#include "hub/room_registry.hpp"

namespace parley::server {

std::vector<std::shared_ptr<Peer>> Room::live_subscribers(const std::string& except_user) const {
  std::vector<std::shared_ptr<Peer>> out;
  out.reserve(subscribers.size());
  for (const auto& [key, s] : subscribers) {
    if (!except_user.empty() && s.user_id == except_user) continue;
    if (auto p = s.peer.lock()) out.push_back(std::move(p));
  }
  return out;
}

LockedRoom RoomRegistry::lock(const std::string& room_id, bool create) {
  Shard& shard = shard_of(room_id);
  for (;;) {
    std::shared_ptr<Room> room;
    {
      std::lock_guard guard(shard.mutex);
      auto it = shard.rooms.find(room_id);
      if (it != shard.rooms.end()) {
        room = it->second;
      } else if (create) {
        room = shard.rooms.emplace(room_id, std::make_shared<Room>(timings_, typing_ttl_ms_)).first->second;
        room->record.id = room_id;
      } else {
        return {};
      }
    }
    std::unique_lock locked(room->mutex);
    // Evicted between the lookup and the lock: the shard has a fresh one, or none.
    if (!room->evicted) return {std::move(room), std::move(locked)};
  }
}

LockedRoom RoomRegistry::try_lock(const std::string& room_id) {
  Shard& shard = shard_of(room_id);
  std::shared_ptr<Room> room;
  {
    std::lock_guard guard(shard.mutex);
    auto it = shard.rooms.find(room_id);
    if (it == shard.rooms.end()) return {};
    room = it->second;
  }
  std::unique_lock locked(room->mutex, std::try_to_lock);
  if (!locked.owns_lock() || room->evicted) return {};
  return {std::move(room), std::move(locked)};
}

LockedRoom RoomRegistry::lock_subscribed(const std::string& room_id, const Peer* peer, protocol::Error& refusal) {
  LockedRoom room = lock(room_id, false);
  if (room && room->subscribers.count(peer)) return room;
  refusal = protocol::Error{protocol::ErrorCode::forbidden,
                            "not in this room: join it first (or you were removed from it)", "/roomId"};
  return {};
}

void RoomRegistry::evict_if_settled(LockedRoom& room) {
  if (!room->settled()) return;
  room->evicted = true;
  const std::string& room_id = room->record.id;
  Shard& shard = shard_of(room_id);
  std::lock_guard guard(shard.mutex);
  auto it = shard.rooms.find(room_id);
  if (it != shard.rooms.end() && it->second == room.room) shard.rooms.erase(it);
}

void RoomRegistry::for_each(const std::function<void(LockedRoom&)>& visit) {
  for (auto& shard : shards_) {
    std::vector<std::shared_ptr<Room>> rooms;
    {
      std::lock_guard guard(shard.mutex);
      rooms.reserve(shard.rooms.size());
      for (const auto& entry : shard.rooms) rooms.push_back(entry.second);
    }
    for (auto& shared : rooms) {
      LockedRoom room{shared, std::unique_lock(shared->mutex)};
      if (!room->evicted) visit(room);
    }
  }
}

std::size_t RoomRegistry::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard guard(shard.mutex);
    n += shard.rooms.size();
  }
  return n;
}

}  // namespace parley::server
