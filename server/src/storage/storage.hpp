// Where parleyd keeps what must survive a restart: rooms, members and their
// roles and receipt watermarks, messages (with their dedup keys). An
// interface, so the embedded SQLite default and an in-memory store (tests,
// benchmarks) are interchangeable.
//
// Implementations are thread-safe: every method may be called from any
// thread. Calls for one room are serialised by the caller (the hub holds the
// room's lock), so append_message never races with itself for a room.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/messages.hpp"

namespace parley::server {

struct RoomRecord {
  std::string id;
  std::string kind;  // public | private | direct
  std::string epoch;
  std::int64_t head_seq = 0;  // seq of the newest message, 0 when empty
  std::int64_t created_at = 0;
  bool operator==(const RoomRecord&) const = default;
};

struct MemberRecord {
  std::string room_id;
  std::string user_id;
  std::string name;
  std::string role = "member";  // owner | admin | member
  std::int64_t read_seq = 0;
  std::int64_t delivered_seq = 0;
  std::int64_t joined_at = 0;
  std::int64_t last_seen = 0;
  bool operator==(const MemberRecord&) const = default;
};

enum class Watermark : std::uint8_t { read, delivered };

class Storage {
 public:
  virtual ~Storage() = default;

  // ---- rooms
  virtual std::optional<RoomRecord> load_room(std::string_view room_id) = 0;
  // Creates the room; returns false (and changes nothing) if it exists.
  virtual bool create_room(const RoomRecord& room) = 0;
  virtual std::size_t room_count() = 0;

  // ---- messages
  // Stores `message` (its seq must be the room's head_seq + 1; the room's
  // head_seq becomes message.seq in the same transaction). Returns the
  // stored message, or, when (senderId, clientMsgId) was already stored, the
  // original message and nothing is written.
  struct Appended {
    protocol::Message message;
    bool duplicate = false;
  };
  virtual Appended append_message(const protocol::Message& message) = 0;
  virtual std::optional<protocol::Message> find_sent(std::string_view sender_id, std::string_view client_msg_id) = 0;
  // Messages with seq > after_seq, ascending, at most `limit`.
  virtual std::vector<protocol::Message> messages_after(std::string_view room_id, std::int64_t after_seq,
                                                        std::size_t limit) = 0;
  // Messages with seq < before_seq, the newest `limit` of them, ascending.
  virtual std::vector<protocol::Message> messages_before(std::string_view room_id, std::int64_t before_seq,
                                                         std::size_t limit) = 0;
  virtual std::int64_t message_count() = 0;
  // Deletes the room's messages with seq < below_seq (history retention);
  // their dedup keys go with them. Returns how many were deleted.
  virtual std::size_t prune_messages(std::string_view room_id, std::int64_t below_seq) = 0;

  // ---- members
  virtual std::optional<MemberRecord> load_member(std::string_view room_id, std::string_view user_id) = 0;
  virtual std::vector<MemberRecord> members(std::string_view room_id) = 0;
  // Inserts or replaces the whole record.
  virtual void put_member(const MemberRecord& member) = 0;
  virtual bool remove_member(std::string_view room_id, std::string_view user_id) = 0;
  // Moves a watermark forward: max(old, seq). Returns the value now stored,
  // or nullopt when the user is not a member.
  virtual std::optional<std::int64_t> advance_watermark(std::string_view room_id, std::string_view user_id,
                                                        Watermark which, std::int64_t seq) = 0;
  virtual void touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) = 0;

  // Makes everything durable and compact (WAL checkpoint); called at shutdown.
  virtual void flush() = 0;
};

// The embedded default: a SQLite database (WAL) in `data_dir` (created if
// missing). Throws std::runtime_error with a clear message on failure.
std::unique_ptr<Storage> open_sqlite_storage(const std::string& data_dir);

// Everything in memory: nothing survives the process (tests, benchmarks).
std::unique_ptr<Storage> make_memory_storage();

}  // namespace parley::server
