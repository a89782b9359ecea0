// Storage kept in memory behind one mutex: the same contract as the SQLite
// store (tests run against both), nothing survives the process.
#include <algorithm>
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
    std::lock_guard lock(mutex_);
    const RoomState* room = find_room(room_id);
    if (room == nullptr) return std::nullopt;
    return room->record;
  }

  bool create_room(const RoomRecord& record) override {
    std::lock_guard lock(mutex_);
    return rooms_.try_emplace(record.id, RoomState{record, {}, {}}).second;
  }

  std::size_t room_count() override {
    std::lock_guard lock(mutex_);
    return rooms_.size();
  }

  Appended append_message(const protocol::Message& message) override {
    std::lock_guard lock(mutex_);
    if (auto original = find_sent_locked(message.senderId, message.clientMsgId)) {
      return Appended{std::move(*original), true};
    }
    RoomState* room = find_room(message.roomId);
    if (room == nullptr) throw std::logic_error("append_message: no room '" + message.roomId + "'");
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
    sent_[message.senderId][message.clientMsgId] = SentAt{message.roomId, message.seq};
    ++message_count_;
    return Appended{std::move(stored), false};
  }

  std::optional<protocol::Message> find_sent(std::string_view sender_id, std::string_view client_msg_id) override {
    std::lock_guard lock(mutex_);
    return find_sent_locked(sender_id, client_msg_id);
  }

  std::vector<protocol::Message> messages_after(std::string_view room_id, std::int64_t after_seq,
                                                std::size_t limit) override {
    std::lock_guard lock(mutex_);
    std::vector<protocol::Message> out;
    const RoomState* room = find_room(room_id);
    if (room == nullptr) return out;
    for (auto it = room->messages.upper_bound(after_seq); it != room->messages.end() && out.size() < limit; ++it) {
      out.push_back(it->second);
    }
    return out;
  }

  std::vector<protocol::Message> messages_before(std::string_view room_id, std::int64_t before_seq,
                                                 std::size_t limit) override {
    std::lock_guard lock(mutex_);
    std::vector<protocol::Message> out;
    const RoomState* room = find_room(room_id);
    if (room == nullptr) return out;
    auto end = room->messages.lower_bound(before_seq);
    auto begin = end;
    for (std::size_t n = 0; n < limit && begin != room->messages.begin(); ++n) --begin;
    for (auto it = begin; it != end; ++it) out.push_back(it->second);
    return out;
  }

  std::int64_t message_count() override {
    std::lock_guard lock(mutex_);
    return message_count_;
  }

  std::optional<MemberRecord> load_member(std::string_view room_id, std::string_view user_id) override {
    std::lock_guard lock(mutex_);
    const StoredMember* member = find_member(room_id, user_id);
    if (member == nullptr) return std::nullopt;
    return to_record(room_id, std::string(user_id), *member);
  }

  std::vector<MemberRecord> members(std::string_view room_id) override {
    std::lock_guard lock(mutex_);
    std::vector<MemberRecord> out;
    const RoomState* room = find_room(room_id);
    if (room == nullptr) return out;
    for (const auto& [user_id, member] : room->members) out.push_back(to_record(room_id, user_id, member));
    return out;
  }

  void put_member(const MemberRecord& member) override {
    std::lock_guard lock(mutex_);
    RoomState* room = find_room(member.room_id);
    // The SQLite store's foreign key says the same.
    if (room == nullptr) throw std::logic_error("put_member: no room '" + member.room_id + "'");
    room->members.insert_or_assign(
        member.user_id, StoredMember{member.name, member.role, member.read_seq, member.delivered_seq, member.joined_at,
                                     member.last_seen});
  }

  bool remove_member(std::string_view room_id, std::string_view user_id) override {
    std::lock_guard lock(mutex_);
    RoomState* room = find_room(room_id);
    if (room == nullptr) return false;
    auto it = room->members.find(user_id);
    if (it == room->members.end()) return false;
    room->members.erase(it);
    return true;
  }

  std::optional<std::int64_t> advance_watermark(std::string_view room_id, std::string_view user_id, Watermark which,
                                                std::int64_t seq) override {
    std::lock_guard lock(mutex_);
    StoredMember* member = find_member(room_id, user_id);
    if (member == nullptr) return std::nullopt;
    std::int64_t& mark = which == Watermark::read ? member->read_seq : member->delivered_seq;
    mark = std::max(mark, seq);
    return mark;
  }

  void touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) override {
    std::lock_guard lock(mutex_);
    if (StoredMember* member = find_member(room_id, user_id)) member->last_seen = last_seen;
  }

  void flush() override {}

 private:
  RoomState* find_room(std::string_view room_id) {
    auto it = rooms_.find(room_id);
    return it == rooms_.end() ? nullptr : &it->second;
  }

  StoredMember* find_member(std::string_view room_id, std::string_view user_id) {
    RoomState* room = find_room(room_id);
    if (room == nullptr) return nullptr;
    auto it = room->members.find(user_id);
    return it == room->members.end() ? nullptr : &it->second;
  }

  std::optional<protocol::Message> find_sent_locked(std::string_view sender_id, std::string_view client_msg_id) {
    auto by_sender = sent_.find(sender_id);
    if (by_sender == sent_.end()) return std::nullopt;
    auto at = by_sender->second.find(client_msg_id);
    if (at == by_sender->second.end()) return std::nullopt;
    return find_room(at->second.room_id)->messages.at(at->second.seq);
  }

  std::mutex mutex_;
  ByName<RoomState> rooms_;
  ByName<ByName<SentAt>> sent_;  // sender id -> client message id -> message
  std::int64_t message_count_ = 0;
};

}  // namespace

std::unique_ptr<Storage> make_memory_storage() { return std::make_unique<MemoryStorage>(); }

}  // namespace parley::server
