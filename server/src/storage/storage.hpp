// Where parleyd keeps what must survive a restart: rooms, members and their
// roles and receipt watermarks, messages (with their dedup keys). An
// interface, so the embedded SQLite default, PostgreSQL (several parleyd on
// one database) and an in-memory store (tests, benchmarks) are
// interchangeable.
//
// Implementations are thread-safe: every method may be called from any
// thread. Calls for one room are serialised by the caller (the hub holds the
// room's lock), so append_message never races with itself for a room within
// a process. Several processes share only a PostgreSQL store, which checks a
// message's seq in the database itself.
//
// Failures are values, never exceptions: a full disk, an I/O error, a
// database busy past its timeout or a database server out of reach comes
// back as an Error (code `internal`, with what failed in its message, for
// the log). Nothing was written then, and the store is usable again as soon
// as the cause is gone: the caller answers that one request, and every other
// keeps being served.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/messages.hpp"
#include "parley/protocol/result.hpp"
#include "storage/records.hpp"

namespace parley::server {

template <class T>
using StorageResult = protocol::Result<T>;
// What a write that returns nothing gives: nullopt when it was done.
using StorageStatus = std::optional<protocol::Error>;

class Storage {
 public:
  virtual ~Storage() = default;

  // ---- rooms
  virtual StorageResult<std::optional<RoomRecord>> load_room(std::string_view room_id) = 0;
  // Creates the room with its first members, all or nothing; false (and
  // nothing changed) if it exists.
  virtual StorageResult<bool> create_room(const RoomRecord& room, const std::vector<MemberRecord>& members) = 0;
  // Counts kept up to date by the writes themselves: reading them scans
  // nothing and takes no lock (a /metrics scrape must not stall sends).
  virtual std::int64_t room_count() const = 0;
  // Rooms whose id starts with `prefix` and has no '/' after it: one
  // tenant's rooms (tenants/tenant_storage.hpp). Scans: called once per
  // tenant, when it is first used.
  virtual StorageResult<std::int64_t> count_rooms(std::string_view prefix) = 0;

  // ---- messages
  // Stores `message` (its seq must be the room's head_seq + 1; the room's
  // head_seq becomes message.seq in the same transaction). Returns the
  // stored message, or, when (roomId, senderId, clientMsgId) was already
  // stored, the original message and nothing is written. A seq that does not
  // follow the head, or an unknown room, is refused with `conflict` or
  // `not_found` with an empty path (a caller's stale view; it should reload
  // the room).
  // A change (edit, delete, react, unreact) is applied to its target in the
  // same transaction: a deleted message keeps its place with its content,
  // metadata and reactions gone, and so do the edits that carried its text.
  // A reply gets its quote. What the stored state refuses (storage/changes.hpp:
  // a missing or deleted target or original, too many reactions) comes back
  // as an error with the field's path, and nothing is written.
  struct Appended {
    protocol::Message message;
    bool duplicate = false;
  };
  virtual StorageResult<Appended> append_message(const protocol::Message& message) = 0;
  // The message a sender sent to a room under a client message id (the dedup key).
  virtual StorageResult<std::optional<protocol::Message>> find_sent(std::string_view room_id,
                                                                    std::string_view sender_id,
                                                                    std::string_view client_msg_id) = 0;
  // The room's message with this id, as it is now; nullopt if there is none.
  virtual StorageResult<std::optional<protocol::Message>> load_message(std::string_view room_id,
                                                                       std::string_view id) = 0;
  // Messages with seq > after_seq, ascending, at most `limit`: changes too,
  // so that a client that missed them replays them in order.
  virtual StorageResult<std::vector<protocol::Message>> messages_after(std::string_view room_id, std::int64_t after_seq,
                                                                       std::size_t limit) = 0;
  // Timeline messages (not changes: they are applied already) with seq <
  // before_seq, the newest `limit` of them, ascending.
  // Every message read carries its current state: edits, tombstone,
  // reactions (the first kMaxListedReactors users of each) and a reply's quote.
  virtual StorageResult<std::vector<protocol::Message>> messages_before(std::string_view room_id,
                                                                        std::int64_t before_seq, std::size_t limit) = 0;
  virtual std::int64_t message_count() const = 0;
  // Deletes the room's messages with seq < below_seq (history retention);
  // their dedup keys go with them. Returns how many were deleted.
  virtual StorageResult<std::size_t> prune_messages(std::string_view room_id, std::int64_t below_seq) = 0;

  // ---- members
  virtual StorageResult<std::optional<MemberRecord>> load_member(std::string_view room_id,
                                                                 std::string_view user_id) = 0;
  virtual StorageResult<std::vector<MemberRecord>> members(std::string_view room_id) = 0;
  // Inserts or replaces the whole record (`not_found` for an unknown room).
  virtual StorageStatus put_member(const MemberRecord& member) = 0;
  virtual StorageResult<bool> remove_member(std::string_view room_id, std::string_view user_id) = 0;
  // Moves a watermark forward: max(old, seq). Returns the value now stored,
  // or nullopt when the user is not a member.
  virtual StorageResult<std::optional<std::int64_t>> advance_watermark(std::string_view room_id,
                                                                       std::string_view user_id, Watermark which,
                                                                       std::int64_t seq) = 0;
  virtual StorageStatus touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) = 0;

  // Makes everything durable and compact (WAL checkpoint); called at shutdown.
  virtual StorageStatus flush() = 0;
};

// A storage failure as a value: code `internal` and what failed.
protocol::Error storage_error(std::string message);

// The embedded default: a SQLite database (WAL) in `data_dir` (created if
// missing). Throws std::runtime_error with a clear message when it cannot be
// opened: parleyd does not start without its storage.
std::unique_ptr<Storage> open_sqlite_storage(const std::string& data_dir);

// A PostgreSQL database, reached through libpq with a connection URI
// (postgres://user:password@host:port/database?sslmode=require, or
// postgresql://...; a password may also come from PGPASSWORD or ~/.pgpass).
// The schema is created in an empty database and upgraded in place from an
// older version; a newer version is refused. Several parleyd (several
// Storage objects) may share one database: appends to a room stay gap-free
// across them (postgres_storage.cpp says how).
//
// Each call blocks its thread on the database (libpq's synchronous API): run
// storage calls on threads that may block, not on I/O threads. Up to
// `pool_size` connections are kept and calls take turns on them, so at most
// that many calls wait on the database at once. Throws std::runtime_error with
// a clear message (never the password) when the URL is unusable, the server
// cannot be reached or the schema is from a newer parleyd.
inline constexpr std::size_t kDefaultPostgresPoolSize = 4;
std::unique_ptr<Storage> open_postgres_storage(const std::string& url,
                                               std::size_t pool_size = kDefaultPostgresPoolSize);

// Whether `text` names a PostgreSQL database (postgres:// or postgresql://).
bool is_postgres_url(std::string_view text);
// Why libpq cannot use `url` (one line, without the password), or nullopt
// when it parses. Contacts no server.
std::optional<std::string> check_postgres_url(const std::string& url);
// `text` with the password of a URL in it (user:password@, or a password=
// query parameter) replaced by ***, fit for logs and error messages.
std::string redact_url_password(std::string_view text);

// Everything in memory: nothing survives the process (tests, benchmarks).
std::unique_ptr<Storage> make_memory_storage();

}  // namespace parley::server
