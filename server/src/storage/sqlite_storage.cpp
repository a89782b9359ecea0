// The embedded default Storage: one SQLite database, `parley.db` in the data
// folder, in WAL mode. One connection behind one mutex (SQLite has one writer
// at a time); every statement is prepared once and reused. Checkpoints run on
// a thread of their own (sqlite_checkpointer.hpp), off the commit path.
//
// Schema, version 3 (PRAGMA user_version):
//   rooms(id, kind, epoch, head_seq, created_at)
//   members(room_id, user_id, name, role, read_seq, delivered_seq, joined_at, last_seen)
//   messages(room_id, seq, id, sender_id, sender_name, client_msg_id, type, content,
//            file_name, file_size, mime_type, thumbnail_url, reply_to, created_at, updated_at,
//            target, deleted_at, reactions, url, width, height)
// with the dedup key UNIQUE(room_id, sender_id, client_msg_id) on messages,
// and indexes on (room_id, id) and on changes' (room_id, target).
// Version 1 had the key without room_id; version 2 had no edits, deletes,
// reactions or attachment URLs. Opening an older file migrates it in place.
//
// Errors: SQLite's failures are thrown as exceptions inside this file (the
// statements' helpers) and turned into values at each public method
// (guarded()), so no exception leaves the storage.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage/changes.hpp"
#include "storage/group_commit.hpp"
#include "storage/message_rows.hpp"
#include "storage/sqlite_checkpointer.hpp"
#include "storage/storage.hpp"
#include "storage/store_helpers.hpp"

namespace parley::server {
namespace {

using store::kMessageColumns;
using store::read_message;
using store::read_wire_message;
using store::select_messages;
using store::sql_limit;
using store::Unwrap;

constexpr int kSchemaVersion = 3;
constexpr int kBusyTimeoutMs = 5000;
// UPDATE ... RETURNING and upserts need 3.35.
constexpr int kMinSqliteVersion = 3035000;

// WITHOUT ROWID everywhere: each table is read through its primary key (a
// room's messages by (room_id, seq) ranges), so clustering rows on that key
// saves an index and a lookup per row. Foreign keys keep members and messages
// from outliving or preceding their room.
constexpr const char* kSchema = R"sql(
CREATE TABLE rooms (
  id         TEXT    NOT NULL PRIMARY KEY,
  kind       TEXT    NOT NULL,
  epoch      TEXT    NOT NULL,
  head_seq   INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE members (
  room_id       TEXT    NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id       TEXT    NOT NULL,
  name          TEXT    NOT NULL,
  role          TEXT    NOT NULL,
  read_seq      INTEGER NOT NULL,
  delivered_seq INTEGER NOT NULL,
  joined_at     INTEGER NOT NULL,
  last_seen     INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;

CREATE TABLE messages (
  room_id       TEXT    NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  seq           INTEGER NOT NULL,
  id            TEXT    NOT NULL,
  sender_id     TEXT    NOT NULL,
  sender_name   TEXT    NOT NULL,
  client_msg_id TEXT    NOT NULL,
  type          TEXT    NOT NULL,
  content       TEXT    NOT NULL,
  file_name     TEXT,
  file_size     INTEGER,
  mime_type     TEXT,
  thumbnail_url TEXT,
  reply_to      TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER,
  PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;

CREATE UNIQUE INDEX messages_dedup ON messages (room_id, sender_id, client_msg_id);
)sql";

// Version 1 -> 2: the dedup key is per room. The old key was stricter, so
// every row satisfies the new one.
constexpr const char* kMigrateTo2 = R"sql(
DROP INDEX messages_dedup;
CREATE UNIQUE INDEX messages_dedup ON messages (room_id, sender_id, client_msg_id);
)sql";

// Version 2 -> 3: changes (edit, delete, react, unreact) name their target;
// tombstones, reactions (storage/changes.hpp's encoding) and attachments'
// URL and size. Messages are found by id (targets, replies' originals).
constexpr const char* kMigrateTo3 = R"sql(
ALTER TABLE messages ADD COLUMN target TEXT;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
ALTER TABLE messages ADD COLUMN reactions TEXT;
ALTER TABLE messages ADD COLUMN url TEXT;
ALTER TABLE messages ADD COLUMN width INTEGER;
ALTER TABLE messages ADD COLUMN height INTEGER;
CREATE INDEX messages_id ON messages (room_id, id);
CREATE INDEX messages_target ON messages (room_id, target) WHERE target IS NOT NULL;
)sql";

constexpr std::string_view kMemberColumns =
    "room_id, user_id, name, role, read_seq, delivered_seq, joined_at, last_seen";

[[noreturn]] void fail(sqlite3* db, std::string_view operation) {
  throw std::runtime_error("sqlite storage: " + std::string(operation) + ": " + sqlite3_errmsg(db));
}

void check(sqlite3* db, int rc, std::string_view operation) {
  if (rc != SQLITE_OK) fail(db, operation);
}

struct CloseDatabase {
  // close_v2 never fails for want of finalized statements (it defers), and a
  // destructor has no one to report to anyway.
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DatabasePtr = std::unique_ptr<sqlite3, CloseDatabase>;

struct FinalizeStatement {
  // finalize only repeats the last step's result, which was already handled.
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

StatementPtr prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc =
      sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size() + 1), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  StatementPtr owned(stmt);
  if (rc != SQLITE_OK) fail(db, "prepare \"" + sql + "\"");
  return owned;
}

// One use of a cached statement: bind, step, read columns. Resets the
// statement and clears its bindings when it goes out of scope, however the use
// ends, so the next use starts clean and no read transaction is left open.
class Query {
 public:
  Query(sqlite3* db, const StatementPtr& stmt, std::string_view operation)
      : db_(db), stmt_(stmt.get()), operation_(operation) {}
  ~Query() {
    // reset only repeats the last step's result (already turned into an
    // exception); clear_bindings always succeeds.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, std::string_view text) {
    // A null data pointer would bind SQL NULL, not "".
    const char* data = text.data() != nullptr ? text.data() : "";
    check(db_, sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), operation_);
    return *this;
  }
  Query& bind(int index, std::int64_t value) {
    check(db_, sqlite3_bind_int64(stmt_, index, value), operation_);
    return *this;
  }
  Query& bind_nullable(int index, const std::optional<std::string>& text) {
    if (text) return bind(index, std::string_view(*text));
    check(db_, sqlite3_bind_null(stmt_, index), operation_);
    return *this;
  }
  Query& bind_nullable(int index, const std::optional<std::int64_t>& value) {
    if (value) return bind(index, *value);
    check(db_, sqlite3_bind_null(stmt_, index), operation_);
    return *this;
  }

  // True when a row is ready to read, false when the statement is done.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, operation_);
  }
  // Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }
  int changes() const { return sqlite3_changes(db_); }

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (data == nullptr) {
      if (sqlite3_errcode(db_) == SQLITE_NOMEM) fail(db_, operation_);
      return {};
    }
    return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::optional<std::string> optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
  }
  std::optional<std::int64_t> optional_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string_view operation_;
};

// Runs SQL that returns no rows and takes no parameters (setup only).
void exec(sqlite3* db, const char* sql, std::string_view operation) {
  char* message = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string reason = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw std::runtime_error("sqlite storage: " + std::string(operation) + ": " + reason);
  }
}

// A one-row, one-column setup query (PRAGMAs that answer).
std::string query_text(sqlite3* db, const std::string& sql, std::string_view operation) {
  auto stmt = prepare(db, sql);
  Query query(db, stmt, operation);
  if (!query.step()) throw std::runtime_error("sqlite storage: " + std::string(operation) + ": no result");
  return query.text(0);
}

void create_schema_if_absent(sqlite3* db) {
  // IMMEDIATE takes the write lock first, so two processes opening a new
  // folder at once cannot both create the schema.
  exec(db, "BEGIN IMMEDIATE", "schema: begin");
  try {
    int version = std::stoi(query_text(db, "PRAGMA user_version", "schema: read user_version"));
    if (version < 0 || version > kSchemaVersion) {
      throw std::runtime_error("sqlite storage: the database has schema version " + std::to_string(version) +
                               "; this parleyd knows version " + std::to_string(kSchemaVersion));
    }
    // A new file is created at version 2 and upgraded like an old one, so
    // both paths give the same tables.
    if (version == 0) exec(db, kSchema, "schema: create");
    if (version == 1) exec(db, kMigrateTo2, "schema: migrate to version 2");
    if (version < 3) exec(db, kMigrateTo3, "schema: migrate to version 3");
    if (version != kSchemaVersion) {
      exec(db, ("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str(), "schema: set user_version");
    }
    exec(db, "COMMIT", "schema: commit");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);  // the error being thrown is the one that matters
    throw;
  }
}

DatabasePtr open_database(const std::string& data_dir) {
  if (sqlite3_libversion_number() < kMinSqliteVersion) {
    throw std::runtime_error(std::string("sqlite storage: SQLite ") + sqlite3_libversion() +
                             " is too old; parleyd needs 3.35 or newer");
  }
  if (data_dir.empty()) throw std::runtime_error("sqlite storage: no data directory given");
  std::filesystem::path dir(data_dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw std::runtime_error("sqlite storage: cannot create data directory '" + data_dir + "': " + error.message());
  }
  std::string path = (dir / "parley.db").string();

  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DatabasePtr db(raw);  // open allocates a handle (for its error message) even when it fails
  if (rc != SQLITE_OK) {
    std::string reason = db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
    throw std::runtime_error("sqlite storage: cannot open '" + path + "': " + reason);
  }
  check(db.get(), sqlite3_extended_result_codes(db.get(), 1), "enable extended result codes");
  check(db.get(), sqlite3_busy_timeout(db.get(), kBusyTimeoutMs), "set busy_timeout");

  // The first write to a new file happens here, so an unwritable folder fails
  // now, with the path in the message.
  std::string mode = query_text(db.get(), "PRAGMA journal_mode = WAL", "open '" + path + "': set journal_mode");
  if (mode != "wal") {
    throw std::runtime_error("sqlite storage: open '" + path + "': journal_mode is '" + mode + "', not 'wal'");
  }
  // In WAL mode NORMAL loses nothing when the process dies (only on power
  // loss), which is the durability promised, without an fsync per message.
  exec(db.get(), "PRAGMA synchronous = NORMAL", "set synchronous");
  exec(db.get(), "PRAGMA foreign_keys = ON", "set foreign_keys");
  // A deleted message's words must leave the file, not linger in freed
  // space until it is reused: freed space is overwritten with zeros.
  exec(db.get(), "PRAGMA secure_delete = ON", "set secure_delete");
  create_schema_if_absent(db.get());
  return db;
}

// Every statement the storage runs, prepared once per connection.
struct Statements {
  explicit Statements(sqlite3* db)
      : begin(prepare(db, "BEGIN IMMEDIATE")),
        commit(prepare(db, "COMMIT")),
        rollback(prepare(db, "ROLLBACK")),
        savepoint(prepare(db, "SAVEPOINT one_append")),
        release(prepare(db, "RELEASE one_append")),
        rollback_to(prepare(db, "ROLLBACK TO one_append")),
        load_room(prepare(db, "SELECT id, kind, epoch, head_seq, created_at FROM rooms WHERE id = ?1")),
        create_room(prepare(db,
                            "INSERT INTO rooms (id, kind, epoch, head_seq, created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                            "ON CONFLICT (id) DO NOTHING")),
        room_count(prepare(db, "SELECT count(*) FROM rooms")),
        room_head(prepare(db, "SELECT head_seq FROM rooms WHERE id = ?1")),
        set_room_head(prepare(db, "UPDATE rooms SET head_seq = ?2 WHERE id = ?1")),
        insert_message(prepare(db, "INSERT INTO messages (" + std::string(kMessageColumns) +
                                       ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                                       "?16, ?17, ?18, ?19, ?20, ?21)")),
        find_sent(prepare(db, select_messages("WHERE m.room_id = ?1 AND m.sender_id = ?2 AND m.client_msg_id = ?3"))),
        load_message(prepare(db, select_messages("WHERE m.room_id = ?1 AND m.id = ?2"))),
        messages_after(prepare(db, select_messages("WHERE m.room_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT ?3"))),
        messages_before(prepare(
            db,
            select_messages("WHERE m.room_id = ?1 AND m.seq < ?2 AND m.target IS NULL ORDER BY m.seq DESC LIMIT ?3"))),
        change_target(prepare(db,
                              "UPDATE messages SET content = ?3, file_name = ?4, file_size = ?5, mime_type = ?6, "
                              "thumbnail_url = ?7, updated_at = ?8, deleted_at = ?9, reactions = ?10, url = ?11, "
                              "width = ?12, height = ?13 WHERE room_id = ?1 AND seq = ?2")),
        forget_edits(
            prepare(db, "UPDATE messages SET content = '' WHERE room_id = ?1 AND target = ?2 AND type = 'edit'")),
        message_count(prepare(db, "SELECT count(*) FROM messages")),
        prune_messages(prepare(db, "DELETE FROM messages WHERE room_id = ?1 AND seq < ?2")),
        load_member(
            prepare(db, "SELECT " + std::string(kMemberColumns) + " FROM members WHERE room_id = ?1 AND user_id = ?2")),
        members(
            prepare(db, "SELECT " + std::string(kMemberColumns) + " FROM members WHERE room_id = ?1 ORDER BY user_id")),
        put_member(prepare(db, "INSERT INTO members (" + std::string(kMemberColumns) +
                                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                                   "ON CONFLICT (room_id, user_id) DO UPDATE SET name = excluded.name, "
                                   "role = excluded.role, read_seq = excluded.read_seq, "
                                   "delivered_seq = excluded.delivered_seq, joined_at = excluded.joined_at, "
                                   "last_seen = excluded.last_seen")),
        remove_member(prepare(db, "DELETE FROM members WHERE room_id = ?1 AND user_id = ?2")),
        advance_read(prepare(db,
                             "UPDATE members SET read_seq = max(read_seq, ?3) WHERE room_id = ?1 AND user_id = ?2 "
                             "RETURNING read_seq")),
        advance_delivered(prepare(db,
                                  "UPDATE members SET delivered_seq = max(delivered_seq, ?3) "
                                  "WHERE room_id = ?1 AND user_id = ?2 RETURNING delivered_seq")),
        touch_member(prepare(db, "UPDATE members SET last_seen = ?3 WHERE room_id = ?1 AND user_id = ?2")) {}

  StatementPtr begin, commit, rollback, savepoint, release, rollback_to;
  StatementPtr load_room, create_room, room_count, room_head, set_room_head;
  StatementPtr insert_message, find_sent, load_message, messages_after, messages_before, change_target, forget_edits;
  StatementPtr message_count, prune_messages;
  StatementPtr load_member, members, put_member, remove_member, advance_read, advance_delivered, touch_member;
};

// A stored word this version does not know (a newer parleyd's, or a damaged
// file) is a storage failure, not a guess.
template <class Enum>
Enum read_word(const Query& q, int column, std::optional<Enum> (*parse)(std::string_view), const char* what) {
  std::string word = q.text(column);
  if (auto value = parse(word)) return *value;
  throw std::runtime_error(std::string("unknown ") + what + " '" + word + "' in the database");
}

MemberRecord read_member(const Query& q) {
  return MemberRecord{q.text(0),  q.text(1),  q.text(2),  read_word(q, 3, parse_role, "role"),
                      q.int64(4), q.int64(5), q.int64(6), q.int64(7)};
}

class SqliteStorage final : public Storage {
 public:
  explicit SqliteStorage(const std::string& data_dir)
      : db_(open_database(data_dir)),
        statements_(db_.get()),
        checkpointer_(std::make_unique<SqliteCheckpointer>(db_.get(), sqlite3_db_filename(db_.get(), "main"))) {
    // The only scans: once, at start, so that the counts never need one.
    room_count_ = count(statements_.room_count, "room_count");
    message_count_ = count(statements_.message_count, "message_count");
  }
  ~SqliteStorage() override { checkpointer_.reset(); }  // its hook and connection go before ours

  StorageResult<std::optional<RoomRecord>> load_room(std::string_view room_id) override {
    return guarded("load_room", [&] {
      Query q(db(), statements_.load_room, "load_room");
      q.bind(1, room_id);
      if (!q.step()) return std::optional<RoomRecord>();
      return std::optional<RoomRecord>(
          RoomRecord{q.text(0), read_word(q, 1, parse_room_kind, "room kind"), q.text(2), q.int64(3), q.int64(4)});
    });
  }

  StorageResult<bool> create_room(const RoomRecord& room, const std::vector<MemberRecord>& members) override {
    return guarded("create_room", [&] {
      Transaction transaction(*this, "create_room");
      {
        Query q(db(), statements_.create_room, "create_room");
        q.bind(1, room.id)
            .bind(2, to_string(room.kind))
            .bind(3, room.epoch)
            .bind(4, room.head_seq)
            .bind(5, room.created_at);
        q.run();
        if (q.changes() != 1) return false;
      }
      for (const auto& m : members) write_member(m);
      transaction.commit();
      room_count_.fetch_add(1, std::memory_order_relaxed);
      return true;
    });
  }

  std::int64_t room_count() const override { return room_count_.load(std::memory_order_relaxed); }

  StorageResult<std::int64_t> count_rooms(std::string_view prefix) override {
    return guarded("count_rooms", [&] {
      StatementPtr stmt = prepare(
          db(), "SELECT count(*) FROM rooms WHERE substr(id, 1, ?1) = ?2 AND instr(substr(id, ?1 + 1), '/') = 0");
      Query q(db(), stmt, "count_rooms");
      q.bind(1, static_cast<std::int64_t>(prefix.size())).bind(2, prefix);
      if (!q.step()) throw std::runtime_error("sqlite storage: count_rooms: no result");
      return q.int64(0);
    });
  }

  // Appends that overlap share a transaction (group_commit.hpp).
  StorageResult<Appended> append_message(const protocol::Message& message) override { return group_.append(message); }

  GroupCommit::Stats group_commit_stats() const { return group_.stats(); }
  StorageResult<std::optional<protocol::Message>> find_sent(std::string_view room_id, std::string_view sender_id,
                                                            std::string_view client_msg_id) override {
    return guarded("find_sent", [&] { return find_sent_locked(room_id, sender_id, client_msg_id); });
  }

  StorageResult<std::optional<protocol::Message>> load_message(std::string_view room_id, std::string_view id) override {
    return guarded("load_message", [&] {
      auto m = load_message_locked(room_id, id);
      if (m) store::trim_for_wire(*m);
      return m;
    });
  }

  StorageResult<std::vector<protocol::Message>> messages_after(std::string_view room_id, std::int64_t after_seq,
                                                               std::size_t limit) override {
    return guarded("messages_after", [&] {
      Query q(db(), statements_.messages_after, "messages_after");
      q.bind(1, room_id).bind(2, after_seq).bind(3, sql_limit(limit));
      std::vector<protocol::Message> out;
      while (q.step()) out.push_back(read_wire_message(q));
      return out;
    });
  }

  StorageResult<std::vector<protocol::Message>> messages_before(std::string_view room_id, std::int64_t before_seq,
                                                                std::size_t limit) override {
    return guarded("messages_before", [&] {
      Query q(db(), statements_.messages_before, "messages_before");
      q.bind(1, room_id).bind(2, before_seq).bind(3, sql_limit(limit));
      std::vector<protocol::Message> out;
      while (q.step()) out.push_back(read_wire_message(q));
      std::reverse(out.begin(), out.end());  // read newest first to apply the limit there
      return out;
    });
  }

  std::int64_t message_count() const override { return message_count_.load(std::memory_order_relaxed); }

  StorageResult<std::size_t> prune_messages(std::string_view room_id, std::int64_t below_seq) override {
    return guarded("prune_messages", [&] {
      Query q(db(), statements_.prune_messages, "prune_messages");
      q.bind(1, room_id).bind(2, below_seq);
      q.run();
      auto n = static_cast<std::size_t>(q.changes());
      message_count_.fetch_sub(static_cast<std::int64_t>(n), std::memory_order_relaxed);
      return n;
    });
  }

  StorageResult<std::optional<MemberRecord>> load_member(std::string_view room_id, std::string_view user_id) override {
    return guarded("load_member", [&] {
      Query q(db(), statements_.load_member, "load_member");
      q.bind(1, room_id).bind(2, user_id);
      if (!q.step()) return std::optional<MemberRecord>();
      return std::optional<MemberRecord>(read_member(q));
    });
  }

  StorageResult<std::vector<MemberRecord>> members(std::string_view room_id) override {
    return guarded("members", [&] {
      Query q(db(), statements_.members, "members");
      q.bind(1, room_id);
      std::vector<MemberRecord> out;
      while (q.step()) out.push_back(read_member(q));
      return out;
    });
  }

  StorageStatus put_member(const MemberRecord& member) override {
    return status(guarded("put_member", [&]() -> StorageResult<bool> {
      try {
        write_member(member);
      } catch (const std::runtime_error&) {
        // Same contract as the memory store: a member of no room is not found.
        if (sqlite3_extended_errcode(db()) == SQLITE_CONSTRAINT_FOREIGNKEY) {
          return protocol::Error{protocol::ErrorCode::not_found, "put_member: no room '" + member.room_id + "'", ""};
        }
        throw;
      }
      return true;
    }));
  }

  StorageResult<bool> remove_member(std::string_view room_id, std::string_view user_id) override {
    return guarded("remove_member", [&] {
      Query q(db(), statements_.remove_member, "remove_member");
      q.bind(1, room_id).bind(2, user_id);
      q.run();
      return q.changes() == 1;
    });
  }

  StorageResult<std::optional<std::int64_t>> advance_watermark(std::string_view room_id, std::string_view user_id,
                                                               Watermark which, std::int64_t seq) override {
    return guarded("advance_watermark", [&] {
      const auto& stmt = which == Watermark::read ? statements_.advance_read : statements_.advance_delivered;
      Query q(db(), stmt, "advance_watermark");
      q.bind(1, room_id).bind(2, user_id).bind(3, seq);
      if (!q.step()) return std::optional<std::int64_t>();
      std::int64_t stored = q.int64(0);
      q.run();  // RETURNING: finish the statement before it is reset
      return std::optional<std::int64_t>(stored);
    });
  }

  StorageStatus touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) override {
    return status(guarded("touch_member", [&] {
      Query q(db(), statements_.touch_member, "touch_member");
      q.bind(1, room_id).bind(2, user_id).bind(3, last_seen);
      q.run();
      return true;
    }));
  }

  StorageStatus flush() override {
    return status(guarded("flush", [&] {
      // What PRAGMA wal_checkpoint(TRUNCATE) does, with a result code to check:
      // SQLITE_BUSY means a reader elsewhere kept part of the WAL from the file.
      check(db(), sqlite3_wal_checkpoint_v2(db(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr),
            "flush (wal_checkpoint TRUNCATE)");
      return true;
    }));
  }

 private:
  // One transaction for a batch of appends: each in a savepoint of its own,
  // so a refused one (a dedup hit, a stale seq, an unknown room) leaves the
  // others alone. If the transaction does not commit, none is stored and
  // every append gets the failure.
  std::vector<StorageResult<Appended>> append_batch(const std::vector<const protocol::Message*>& batch) {
    std::vector<StorageResult<Appended>> results;
    results.reserve(batch.size());
    std::int64_t added = 0;
    auto whole = guarded("append_message", [&] {
      results.clear();
      added = 0;
      Transaction transaction(*this, "append_message");
      for (const protocol::Message* message : batch) {
        Query(db(), statements_.savepoint, "append_message: savepoint").run();
        StorageResult<Appended> one = append_locked(*message);
        if (!one || one.value().duplicate) {
          Query(db(), statements_.rollback_to, "append_message: rollback to savepoint").run();
        } else {
          ++added;
        }
        Query(db(), statements_.release, "append_message: release savepoint").run();
        results.push_back(std::move(one));
      }
      transaction.commit();
      return true;
    });
    if (!whole) return std::vector<StorageResult<Appended>>(batch.size(), whole.error());
    message_count_.fetch_add(added, std::memory_order_relaxed);
    return results;
  }

  // With the lock held, in a transaction: one append's checks and writes.
  StorageResult<Appended> append_locked(const protocol::Message& message) {
    if (auto original = find_sent_locked(message.roomId, message.senderId, message.clientMsgId)) {
      return Appended{std::move(*original), true};
    }
    std::int64_t head = 0;
    {
      Query q(db(), statements_.room_head, "append_message: read head_seq");
      q.bind(1, message.roomId);
      if (!q.step()) {
        return protocol::Error{protocol::ErrorCode::not_found, "append_message: no room '" + message.roomId + "'", ""};
      }
      head = q.int64(0);
    }
    if (message.seq != head + 1) {
      return protocol::Error{protocol::ErrorCode::conflict,
                             "append_message: seq " + std::to_string(message.seq) + " in room '" + message.roomId +
                                 "' whose head_seq is " + std::to_string(head),
                             ""};
    }
    std::optional<protocol::Message> referenced;
    if (auto id = store::referenced_id(message)) referenced = load_message_locked(message.roomId, *id);
    if (auto refused = store::check_references(message, referenced ? &*referenced : nullptr)) return *refused;
    if (message.target) {
      if (auto refused = store::change_target(message, *referenced)) return *refused;
      write_changed(*referenced);
      if (message.type == "delete") {
        Query q(db(), statements_.forget_edits, "append_message: forget edits");
        q.bind(1, message.roomId).bind(2, *message.target);
        q.run();
      }
    }
    insert(message);
    {
      Query q(db(), statements_.set_room_head, "append_message: set head_seq");
      q.bind(1, message.roomId).bind(2, message.seq);
      q.run();
    }
    protocol::Message stored = message;
    if (stored.metadata == protocol::Metadata{}) stored.metadata.reset();  // what reading it back gives
    stored.quote.reset();
    if (message.replyTo) stored.quote = store::quote_of(*referenced);
    return Appended{std::move(stored), false};
  }

  // Runs `body` with the connection locked; SQLite's failures (thrown by the
  // helpers above) come back as values. `body` returns a T or a Result<T>.
  template <class Body, class T = typename Unwrap<std::invoke_result_t<Body&>>::type>
  StorageResult<T> guarded(std::string_view operation, Body&& body) {
    try {
      std::lock_guard lock(mutex_);
      if (!usable()) return StorageResult<T>(storage_error("sqlite storage: " + unusable_));
      return StorageResult<T>(body());
    } catch (const std::exception& e) {
      std::string what = e.what();
      if (what.rfind("sqlite storage: ", 0) != 0) what = "sqlite storage: " + std::string(operation) + ": " + what;
      return StorageResult<T>(storage_error(std::move(what)));
    }
  }
  static StorageStatus status(const StorageResult<bool>& r) {
    if (r) return std::nullopt;
    return r.error();
  }

  // BEGIN IMMEDIATE ... COMMIT, rolled back if the scope is left without
  // commit(). IMMEDIATE takes the write lock up front: a deferred transaction
  // that reads then writes can fail with SQLITE_BUSY without waiting.
  class Transaction {
   public:
    Transaction(SqliteStorage& storage, std::string_view operation) : storage_(storage), operation_(operation) {
      Query(storage_.db(), storage_.statements_.begin, operation_).run();
    }
    ~Transaction() {
      // After some errors (SQLITE_FULL, SQLITE_IOERR...) SQLite has already
      // rolled back; then there is nothing left to undo.
      if (committed_ || sqlite3_get_autocommit(storage_.db()) != 0) return;
      sqlite3_stmt* rollback = storage_.statements_.rollback.get();
      if (sqlite3_step(rollback) != SQLITE_DONE) {
        // A destructor cannot throw, and writes made from now on would land
        // in a transaction that never commits: refuse them instead.
        storage_.unusable_ =
            std::string("rollback after ") + std::string(operation_) + " failed: " + sqlite3_errmsg(storage_.db());
      }
      sqlite3_reset(rollback);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit() {
      Query(storage_.db(), storage_.statements_.commit, operation_).run();
      committed_ = true;
    }

   private:
    SqliteStorage& storage_;
    std::string_view operation_;
    bool committed_ = false;
  };

  sqlite3* db() const { return db_.get(); }

  // With the lock held: false while a transaction that failed to roll back
  // is still open (writes would land in it and never commit). Each call
  // tries the rollback again, so the store recovers once the cause is gone.
  bool usable() {
    if (unusable_.empty()) return true;
    if (sqlite3_get_autocommit(db()) == 0) {
      sqlite3_stmt* rollback = statements_.rollback.get();
      sqlite3_step(rollback);
      sqlite3_reset(rollback);
    }
    if (sqlite3_get_autocommit(db()) == 0) return false;
    unusable_.clear();
    return true;
  }

  std::int64_t count(const StatementPtr& stmt, std::string_view operation) {
    Query q(db(), stmt, operation);
    if (!q.step()) throw std::runtime_error("sqlite storage: " + std::string(operation) + ": no result");
    return q.int64(0);
  }

  std::optional<protocol::Message> find_sent_locked(std::string_view room_id, std::string_view sender_id,
                                                    std::string_view client_msg_id) {
    Query q(db(), statements_.find_sent, "find_sent");
    q.bind(1, room_id).bind(2, sender_id).bind(3, client_msg_id);
    if (!q.step()) return std::nullopt;
    return read_wire_message(q);
  }

  // As stored (reactor lists complete), for a change to apply to.
  std::optional<protocol::Message> load_message_locked(std::string_view room_id, std::string_view id) {
    Query q(db(), statements_.load_message, "load_message");
    q.bind(1, room_id).bind(2, id);
    if (!q.step()) return std::nullopt;
    return read_message(q);
  }

  void write_member(const MemberRecord& member) {
    Query q(db(), statements_.put_member, "put_member");
    q.bind(1, member.room_id).bind(2, member.user_id).bind(3, member.name).bind(4, to_string(member.role));
    q.bind(5, member.read_seq).bind(6, member.delivered_seq).bind(7, member.joined_at).bind(8, member.last_seen);
    q.run();
  }

  void insert(const protocol::Message& m) {
    static const protocol::Metadata kNoMetadata;
    const protocol::Metadata& metadata = m.metadata ? *m.metadata : kNoMetadata;
    Query q(db(), statements_.insert_message, "append_message: insert");
    q.bind(1, m.roomId).bind(2, m.seq).bind(3, m.id).bind(4, m.senderId).bind(5, m.senderName);
    q.bind(6, m.clientMsgId).bind(7, m.type).bind(8, m.content);
    q.bind_nullable(9, metadata.fileName).bind_nullable(10, metadata.fileSize).bind_nullable(11, metadata.mimeType);
    q.bind_nullable(12, metadata.thumbnailUrl).bind_nullable(13, m.replyTo).bind(14, m.createdAt);
    q.bind_nullable(15, m.updatedAt).bind_nullable(16, m.target).bind_nullable(17, m.deletedAt);
    q.bind(18, store::encode_reactions(m.reactions)).bind_nullable(19, metadata.url);
    q.bind_nullable(20, metadata.width).bind_nullable(21, metadata.height);
    q.run();
  }

  // A change's target, as change_target() left it.
  void write_changed(const protocol::Message& m) {
    static const protocol::Metadata kNoMetadata;
    const protocol::Metadata& metadata = m.metadata ? *m.metadata : kNoMetadata;
    Query q(db(), statements_.change_target, "append_message: change target");
    q.bind(1, m.roomId).bind(2, m.seq).bind(3, m.content).bind_nullable(4, metadata.fileName);
    q.bind_nullable(5, metadata.fileSize).bind_nullable(6, metadata.mimeType).bind_nullable(7, metadata.thumbnailUrl);
    q.bind_nullable(8, m.updatedAt).bind_nullable(9, m.deletedAt).bind(10, store::encode_reactions(m.reactions));
    q.bind_nullable(11, metadata.url).bind_nullable(12, metadata.width).bind_nullable(13, metadata.height);
    q.run();
  }

  std::mutex mutex_;
  GroupCommit group_{[this](const std::vector<const protocol::Message*>& batch) { return append_batch(batch); }};
  std::string unusable_;  // why the connection can no longer be trusted, if it cannot
  DatabasePtr db_;        // declared before the statements: they are finalized first
  Statements statements_;
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  std::atomic<std::int64_t> room_count_{0};
  std::atomic<std::int64_t> message_count_{0};
};

}  // namespace

std::unique_ptr<Storage> open_sqlite_storage(const std::string& data_dir) {
  return std::make_unique<SqliteStorage>(data_dir);
}

}  // namespace parley::server
