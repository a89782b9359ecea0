// Storage kept in memory: the same contract as the SQLite store (tests run
// against both), nothing survives the process. No global lock: rooms (with
// their messages and members) live in shards by room id, dedup keys in shards
// by sender, each shard with its own lock. A thread holding a room shard may
// take a sender shard, never the other way round.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/storage.hpp"

namespace parley::server {
namespace {

// std::less<> everywhere so string_view keys look up without a copy.
template <class V>
using ByName = std::map<std::string, V, std::less<>>;

// A member as kept here: the room and the user are the maps' keys already,
// which spares two strings per member of every room.
struct StoredMember {
  std::string name;
  std::string role;
  std::int64_t read_seq = 0;
  std::int64_t delivered_seq = 0;
  std::int64_t joined_at = 0;
  std::int64_t last_seen = 0;
};

MemberRecord to_record(std::string_view room_id, const std::string& user_id, const StoredMember& m) {
  return MemberRecord{std::string(room_id), user_id,         m.name,      m.role,
                      m.read_seq,           m.delivered_seq, m.joined_at, m.last_seen};
}

struct RoomState {
  RoomRecord record;
  std::map<std::int64_t, protocol::Message> messages;  // by seq
  ByName<StoredMember> members;                        // by user id
};

// Where a sent message lives, found by its dedup key.
struct SentAt {
  std::string room_id;
  std::int64_t seq = 0;
};

class MemoryStorage final : public Storage {
 public:
  std::optional<RoomRecord> load_room(std::string_view room_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    const RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return std::nullopt;
    return room->record;
  }

  bool create_room(const RoomRecord& record) override {
    auto [rooms, lock] = rooms_of(record.id);
    bool created = rooms.try_emplace(record.id, RoomState{record, {}, {}}).second;
    if (created) room_count_.fetch_add(1, std::memory_order_relaxed);
    return created;
  }

  std::size_t room_count() override { return room_count_.load(std::memory_order_relaxed); }

  Appended append_message(const protocol::Message& message) override {
    auto [rooms, lock] = rooms_of(message.roomId);
    RoomState* room = find_room(rooms, message.roomId);
    if (room == nullptr) throw std::logic_error("append_message: no room '" + message.roomId + "'");
    SentShard& sent = sent_shards_[shard_of(message.senderId)];
    std::unique_lock sent_lock(sent.mutex);
    if (auto at = find_at(sent, message.senderId, message.clientMsgId)) {
      if (at->room_id == message.roomId) return Appended{room->messages.at(at->seq), true};
      // Stored in another room, whose shard may not be taken with ours held.
      sent_lock.unlock();
      lock.unlock();
      return Appended{message_at(*at).value(), true};
    }
    std::int64_t head = room->record.head_seq;
    if (message.seq != head + 1) {
      throw std::logic_error("append_message: seq " + std::to_string(message.seq) + " in room '" + message.roomId +
                             "' whose head_seq is " + std::to_string(head));
    }
    protocol::Message stored = message;
    // As in SQLite, where metadata is four nullable columns: none set is none.
    if (stored.metadata == protocol::Metadata{}) stored.metadata.reset();
    room->messages.emplace(stored.seq, stored);
    room->record.head_seq = message.seq;
    sent.by_sender[message.senderId][message.clientMsgId] = SentAt{message.roomId, message.seq};
    message_count_.fetch_add(1, std::memory_order_relaxed);
    return Appended{std::move(stored), false};
  }

  std::optional<protocol::Message> find_sent(std::string_view sender_id, std::string_view client_msg_id) override {
    std::optional<SentAt> at;
    {
      SentShard& sent = sent_shards_[shard_of(sender_id)];
      std::lock_guard lock(sent.mutex);
      at = find_at(sent, sender_id, client_msg_id);
    }
    return at ? message_at(*at) : std::nullopt;
  }

  std::vector<protocol::Message> messages_after(std::string_view room_id, std::int64_t after_seq,
                                                std::size_t limit) override {
    auto [rooms, lock] = rooms_of(room_id);
    std::vector<protocol::Message> out;
    const RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return out;
    for (auto it = room->messages.upper_bound(after_seq); it != room->messages.end() && out.size() < limit; ++it) {
      out.push_back(it->second);
    }
    return out;
  }

  std::vector<protocol::Message> messages_before(std::string_view room_id, std::int64_t before_seq,
                                                 std::size_t limit) override {
    auto [rooms, lock] = rooms_of(room_id);
    std::vector<protocol::Message> out;
    const RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return out;
    auto end = room->messages.lower_bound(before_seq);
    auto begin = end;
    for (std::size_t n = 0; n < limit && begin != room->messages.begin(); ++n) --begin;
    for (auto it = begin; it != end; ++it) out.push_back(it->second);
    return out;
  }

  std::int64_t message_count() override { return message_count_.load(std::memory_order_relaxed); }

  std::size_t prune_messages(std::string_view room_id, std::int64_t below_seq) override {
    auto [rooms, lock] = rooms_of(room_id);
    RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return 0;
    auto end = room->messages.lower_bound(below_seq);
    std::size_t n = 0;
    for (auto it = room->messages.begin(); it != end; ++n) {
      // Its dedup key goes too, as the SQLite row's unique key does.
      SentShard& sent = sent_shards_[shard_of(it->second.senderId)];
      {
        std::lock_guard sent_lock(sent.mutex);
        auto by_sender = sent.by_sender.find(it->second.senderId);
        if (by_sender != sent.by_sender.end()) {
          auto key = by_sender->second.find(it->second.clientMsgId);
          if (key != by_sender->second.end()) by_sender->second.erase(key);
          if (by_sender->second.empty()) sent.by_sender.erase(by_sender);
        }
      }
      it = room->messages.erase(it);
    }
    message_count_.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
    return n;
  }

  std::optional<MemberRecord> load_member(std::string_view room_id, std::string_view user_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    const StoredMember* member = find_member(rooms, room_id, user_id);
    if (member == nullptr) return std::nullopt;
    return to_record(room_id, std::string(user_id), *member);
  }

  std::vector<MemberRecord> members(std::string_view room_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    std::vector<MemberRecord> out;
    const RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return out;
    for (const auto& [user_id, member] : room->members) out.push_back(to_record(room_id, user_id, member));
    return out;
  }

  void put_member(const MemberRecord& member) override {
    auto [rooms, lock] = rooms_of(member.room_id);
    RoomState* room = find_room(rooms, member.room_id);
    // The SQLite store's foreign key says the same.
    if (room == nullptr) throw std::logic_error("put_member: no room '" + member.room_id + "'");
    room->members.insert_or_assign(
        member.user_id, StoredMember{member.name, member.role, member.read_seq, member.delivered_seq, member.joined_at,
                                     member.last_seen});
  }

  bool remove_member(std::string_view room_id, std::string_view user_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return false;
    auto it = room->members.find(user_id);
    if (it == room->members.end()) return false;
    room->members.erase(it);
    return true;
  }

  std::optional<std::int64_t> advance_watermark(std::string_view room_id, std::string_view user_id, Watermark which,
                                                std::int64_t seq) override {
    auto [rooms, lock] = rooms_of(room_id);
    StoredMember* member = find_member(rooms, room_id, user_id);
    if (member == nullptr) return std::nullopt;
    std::int64_t& mark = which == Watermark::read ? member->read_seq : member->delivered_seq;
    mark = std::max(mark, seq);
    return mark;
  }

  void touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) override {
    auto [rooms, lock] = rooms_of(room_id);
    if (StoredMember* member = find_member(rooms, room_id, user_id)) member->last_seen = last_seen;
  }

  void flush() override {}

 private:
  static constexpr std::size_t kShards = 32;
  struct RoomShard {
    std::mutex mutex;
    ByName<RoomState> rooms;
  };
  struct SentShard {
    std::mutex mutex;
    ByName<ByName<SentAt>> by_sender;  // sender id -> client message id -> message
  };
  static std::size_t shard_of(std::string_view id) { return std::hash<std::string_view>{}(id) % kShards; }

  // A room shard's map, locked.
  struct Locked {
    ByName<RoomState>& rooms;
    std::unique_lock<std::mutex> lock;
  };
  Locked rooms_of(std::string_view room_id) {
    RoomShard& shard = room_shards_[shard_of(room_id)];
    return Locked{shard.rooms, std::unique_lock(shard.mutex)};
  }

  static RoomState* find_room(ByName<RoomState>& rooms, std::string_view room_id) {
    auto it = rooms.find(room_id);
    return it == rooms.end() ? nullptr : &it->second;
  }

  static StoredMember* find_member(ByName<RoomState>& rooms, std::string_view room_id, std::string_view user_id) {
    RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return nullptr;
    auto it = room->members.find(user_id);
    return it == room->members.end() ? nullptr : &it->second;
  }

  static std::optional<SentAt> find_at(SentShard& sent, std::string_view sender_id, std::string_view client_msg_id) {
    auto by_sender = sent.by_sender.find(sender_id);
    if (by_sender == sent.by_sender.end()) return std::nullopt;
    auto at = by_sender->second.find(client_msg_id);
    if (at == by_sender->second.end()) return std::nullopt;
    return at->second;
  }

  // The stored message at `at`, with its room's shard locked here.
  std::optional<protocol::Message> message_at(const SentAt& at) {
    auto [rooms, lock] = rooms_of(at.room_id);
    RoomState* room = find_room(rooms, at.room_id);
    if (room == nullptr) return std::nullopt;
    auto it = room->messages.find(at.seq);
    if (it == room->messages.end()) return std::nullopt;
    return it->second;
  }

  std::array<RoomShard, kShards> room_shards_;
  std::array<SentShard, kShards> sent_shards_;
  std::atomic<std::size_t> room_count_{0};
  std::atomic<std::int64_t> message_count_{0};
};

}  // namespace

std::unique_ptr<Storage> make_memory_storage() { return std::make_unique<MemoryStorage>(); }

}  // namespace parley::server
