// Storage kept in memory: the same contract as the SQLite store (tests run
// against both), nothing survives the process and nothing fails. No global
// lock: rooms (with their messages and members) live in shards by room id,
// dedup keys in shards by sender, each shard with its own lock. A thread
// holding a room shard may take a sender shard, never the other way round.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/changes.hpp"
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
  Role role = Role::member;
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
  std::map<std::int64_t, protocol::Message> messages;  // by seq, reactor lists complete
  ByName<StoredMember> members;                        // by user id
  ByName<std::int64_t> seqs;                           // message id -> seq

  protocol::Message* by_id(std::string_view id) {
    auto it = seqs.find(id);
    return it == seqs.end() ? nullptr : &messages.at(it->second);
  }
  // A stored message as reads give it: reactors trimmed, a reply's quote.
  protocol::Message wire(const protocol::Message& stored) {
    protocol::Message m = stored;
    store::trim_for_wire(m);
    if (m.replyTo) {
      if (const protocol::Message* original = by_id(*m.replyTo)) m.quote = store::quote_of(*original);
    }
    return m;
  }
};

class MemoryStorage final : public Storage {
 public:
  StorageResult<std::optional<RoomRecord>> load_room(std::string_view room_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    const RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return std::optional<RoomRecord>();
    return std::optional<RoomRecord>(room->record);
  }

  StorageResult<bool> create_room(const RoomRecord& record, const std::vector<MemberRecord>& members) override {
    auto [rooms, lock] = rooms_of(record.id);
    auto [it, created] = rooms.try_emplace(record.id, RoomState{record, {}, {}, {}});
    if (!created) return false;
    for (const auto& m : members) {
      it->second.members.insert_or_assign(
          m.user_id, StoredMember{m.name, m.role, m.read_seq, m.delivered_seq, m.joined_at, m.last_seen});
    }
    room_count_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  std::int64_t room_count() const override { return room_count_.load(std::memory_order_relaxed); }

  StorageResult<std::int64_t> count_rooms(std::string_view prefix) override {
    std::int64_t n = 0;
    for (auto& shard : room_shards_) {
      std::lock_guard lock(shard.mutex);
      for (const auto& [id, room] : shard.rooms) {
        if (id.compare(0, prefix.size(), prefix) == 0 && id.find('/', prefix.size()) == std::string::npos) ++n;
      }
    }
    return n;
  }

  StorageResult<Appended> append_message(const protocol::Message& message) override {
    auto [rooms, lock] = rooms_of(message.roomId);
    RoomState* room = find_room(rooms, message.roomId);
    if (room == nullptr) return no_room("append_message", message.roomId);
    SentShard& sent = sent_shards_[shard_of(message.senderId)];
    std::unique_lock sent_lock(sent.mutex);
    if (auto seq = find_at(sent, message.roomId, message.senderId, message.clientMsgId)) {
      return Appended{room->wire(room->messages.at(*seq)), true};
    }
    std::int64_t head = room->record.head_seq;
    if (message.seq != head + 1) return wrong_seq(message, head);
    protocol::Message* referenced = nullptr;
    if (auto id = store::referenced_id(message)) referenced = room->by_id(*id);
    if (auto refused = store::check_references(message, referenced)) return *refused;
    if (message.target) {
      protocol::Message changed = *referenced;
      if (auto refused = store::change_target(message, changed)) return *refused;
      *referenced = std::move(changed);
      if (message.type == "delete") {
        for (auto& [seq, m] : room->messages) {
          if (m.type == "edit" && m.target == message.target) m.content.clear();
        }
      }
    }
    protocol::Message stored = message;
    stored.quote.reset();
    // As in SQLite, where metadata is nullable columns: none set is none.
    if (stored.metadata == protocol::Metadata{}) stored.metadata.reset();
    room->seqs.insert_or_assign(stored.id, stored.seq);
    room->messages.emplace(stored.seq, stored);
    room->record.head_seq = message.seq;
    sent.by_key[key_of(message.roomId, message.senderId, message.clientMsgId)] = message.seq;
    message_count_.fetch_add(1, std::memory_order_relaxed);
    return Appended{room->wire(stored), false};
  }

  StorageResult<std::optional<protocol::Message>> find_sent(std::string_view room_id, std::string_view sender_id,
                                                            std::string_view client_msg_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return std::optional<protocol::Message>();
    SentShard& sent = sent_shards_[shard_of(sender_id)];
    std::lock_guard sent_lock(sent.mutex);
    auto seq = find_at(sent, room_id, sender_id, client_msg_id);
    if (!seq) return std::optional<protocol::Message>();
    return std::optional<protocol::Message>(room->wire(room->messages.at(*seq)));
  }

  StorageResult<std::optional<protocol::Message>> load_message(std::string_view room_id, std::string_view id) override {
    auto [rooms, lock] = rooms_of(room_id);
    RoomState* room = find_room(rooms, room_id);
    const protocol::Message* m = room == nullptr ? nullptr : room->by_id(id);
    if (m == nullptr) return std::optional<protocol::Message>();
    return std::optional<protocol::Message>(room->wire(*m));
  }

  StorageResult<std::vector<protocol::Message>> messages_after(std::string_view room_id, std::int64_t after_seq,
                                                               std::size_t limit) override {
    auto [rooms, lock] = rooms_of(room_id);
    std::vector<protocol::Message> out;
    RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return out;
    for (auto it = room->messages.upper_bound(after_seq); it != room->messages.end() && out.size() < limit; ++it) {
      out.push_back(room->wire(it->second));
    }
    return out;
  }

  StorageResult<std::vector<protocol::Message>> messages_before(std::string_view room_id, std::int64_t before_seq,
                                                                std::size_t limit) override {
    auto [rooms, lock] = rooms_of(room_id);
    std::vector<protocol::Message> out;
    RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return out;
    for (auto it = room->messages.lower_bound(before_seq); it != room->messages.begin() && out.size() < limit;) {
      --it;
      if (!it->second.target) out.push_back(room->wire(it->second));  // changes are applied already
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::int64_t message_count() const override { return message_count_.load(std::memory_order_relaxed); }

  StorageResult<std::size_t> prune_messages(std::string_view room_id, std::int64_t below_seq) override {
    auto [rooms, lock] = rooms_of(room_id);
    RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return std::size_t{0};
    auto end = room->messages.lower_bound(below_seq);
    std::size_t n = 0;
    for (auto it = room->messages.begin(); it != end; ++n) {
      // Its dedup key goes too, as the SQLite row's unique key does.
      SentShard& sent = sent_shards_[shard_of(it->second.senderId)];
      {
        std::lock_guard sent_lock(sent.mutex);
        auto key = sent.by_key.find(key_of(room_id, it->second.senderId, it->second.clientMsgId));
        if (key != sent.by_key.end()) sent.by_key.erase(key);
      }
      room->seqs.erase(it->second.id);
      it = room->messages.erase(it);
    }
    message_count_.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
    return n;
  }

  StorageResult<std::optional<MemberRecord>> load_member(std::string_view room_id, std::string_view user_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    const StoredMember* member = find_member(rooms, room_id, user_id);
    if (member == nullptr) return std::optional<MemberRecord>();
    return std::optional<MemberRecord>(to_record(room_id, std::string(user_id), *member));
  }

  StorageResult<std::vector<MemberRecord>> members(std::string_view room_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    std::vector<MemberRecord> out;
    const RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return out;
    for (const auto& [user_id, member] : room->members) out.push_back(to_record(room_id, user_id, member));
    return out;
  }

  StorageStatus put_member(const MemberRecord& member) override {
    auto [rooms, lock] = rooms_of(member.room_id);
    RoomState* room = find_room(rooms, member.room_id);
    // The SQLite store's foreign key says the same.
    if (room == nullptr) return no_room("put_member", member.room_id);
    room->members.insert_or_assign(
        member.user_id, StoredMember{member.name, member.role, member.read_seq, member.delivered_seq, member.joined_at,
                                     member.last_seen});
    return std::nullopt;
  }

  StorageResult<bool> remove_member(std::string_view room_id, std::string_view user_id) override {
    auto [rooms, lock] = rooms_of(room_id);
    RoomState* room = find_room(rooms, room_id);
    if (room == nullptr) return false;
    auto it = room->members.find(user_id);
    if (it == room->members.end()) return false;
    room->members.erase(it);
    return true;
  }

  StorageResult<std::optional<std::int64_t>> advance_watermark(std::string_view room_id, std::string_view user_id,
                                                               Watermark which, std::int64_t seq) override {
    auto [rooms, lock] = rooms_of(room_id);
    StoredMember* member = find_member(rooms, room_id, user_id);
    if (member == nullptr) return std::optional<std::int64_t>();
    std::int64_t& mark = which == Watermark::read ? member->read_seq : member->delivered_seq;
    mark = std::max(mark, seq);
    return std::optional<std::int64_t>(mark);
  }

  StorageStatus touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) override {
    auto [rooms, lock] = rooms_of(room_id);
    if (StoredMember* member = find_member(rooms, room_id, user_id)) member->last_seen = last_seen;
    return std::nullopt;
  }

  StorageStatus flush() override { return std::nullopt; }

 private:
  static constexpr std::size_t kShards = 32;
  struct RoomShard {
    std::mutex mutex;
    ByName<RoomState> rooms;
  };
  struct SentShard {
    std::mutex mutex;
    ByName<std::int64_t> by_key;  // key_of(room, sender, client message id) -> seq
  };
  // The dedup key as one string: the parts cannot contain a NUL.
  static std::string key_of(std::string_view room_id, std::string_view sender_id, std::string_view client_msg_id) {
    std::string key;
    key.reserve(room_id.size() + sender_id.size() + client_msg_id.size() + 2);
    key.append(room_id).push_back('\0');
    key.append(sender_id).push_back('\0');
    key.append(client_msg_id);
    return key;
  }
  static protocol::Error no_room(const char* operation, std::string_view room_id) {
    return protocol::Error{protocol::ErrorCode::not_found,
                           std::string(operation) + ": no room '" + std::string(room_id) + "'", ""};
  }
  static protocol::Error wrong_seq(const protocol::Message& m, std::int64_t head) {
    return protocol::Error{protocol::ErrorCode::conflict,
                           "append_message: seq " + std::to_string(m.seq) + " in room '" + m.roomId +
                               "' whose head_seq is " + std::to_string(head),
                           ""};
  }
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

  static std::optional<std::int64_t> find_at(SentShard& sent, std::string_view room_id, std::string_view sender_id,
                                             std::string_view client_msg_id) {
    auto at = sent.by_key.find(key_of(room_id, sender_id, client_msg_id));
    if (at == sent.by_key.end()) return std::nullopt;
    return at->second;
  }

  std::array<RoomShard, kShards> room_shards_;
  std::array<SentShard, kShards> sent_shards_;
  std::atomic<std::int64_t> room_count_{0};
  std::atomic<std::int64_t> message_count_{0};
};

}  // namespace

std::unique_ptr<Storage> make_memory_storage() { return std::make_unique<MemoryStorage>(); }

}  // namespace parley::server
