// Storage on PostgreSQL, through libpq's synchronous API: each call blocks
// its thread until the database answers, so the caller runs storage calls on
// threads that may block (not on I/O threads).
//
// Connections: a pool of up to `pool_size` (default 4), opened as calls need
// them; a call borrows one for its duration, so calls from several threads
// run side by side, and a call waits for a connection when all are busy.
// Statements are prepared once per connection, on first use. A connection
// the server closed (a restart, a failover) is noticed when it is borrowed
// (an idle connection that became readable) or when a statement fails on it;
// it is then dropped and the next call connects again, so an outage costs
// the calls made during it (each an error value) and nothing after it.
//
// Several parleyd may share the database. A room's seq stays gap-free
// across them because append_message is one statement (so one transaction)
// that moves the room's head only from seq - 1 to seq (UPDATE ... WHERE
// head_seq = seq - 1: the row lock makes concurrent appends to a room take
// turns, and the loser finds the head moved and gets `conflict`) and inserts
// the message only if it did, under the UNIQUE dedup key (a key already
// taken, even by a transaction that committed a moment ago on another node,
// fails the statement, head and all, and the original is returned). room_count() and message_count() are this
// process's view: counted once at open, then moved by this process's own
// writes; another node's writes show only after a restart.
//
// Schema: postgres_client.cpp (versioned in parley_schema_version, shared
// numbering with the SQLite store).
#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "storage/changes.hpp"
#include "storage/group_commit.hpp"
#include "storage/message_rows.hpp"
#include "storage/postgres_client.hpp"
#include "storage/storage.hpp"
#include "storage/store_helpers.hpp"

namespace parley::server {
namespace {

using store::kMessageColumns;
using store::select_messages;
using store::sql_limit;
using store::Unwrap;

using pg::Params;

constexpr std::string_view kMemberColumns =
    "room_id, user_id, name, role, read_seq, delivered_seq, joined_at, last_seen";

enum Statement : std::size_t {
  kLoadRoom,
  kCreateRoom,
  kRoomHead,
  kAppend,
  kFindSent,
  kLoadMessage,
  kChangeTarget,
  kForgetEdits,
  kMessagesAfter,
  kMessagesBefore,
  kPruneMessages,
  kLoadMember,
  kMembers,
  kPutMember,
  kRemoveMember,
  kAdvanceRead,
  kAdvanceDelivered,
  kTouchMember,
  kStatementCount
};

const std::array<std::string, kStatementCount>& statement_sql() {
  static const std::array<std::string, kStatementCount> sql = {
      "SELECT id, kind, epoch, head_seq, created_at FROM rooms WHERE id = $1",
      "INSERT INTO rooms (id, kind, epoch, head_seq, created_at) VALUES ($1, $2, $3, $4, $5) "
      "ON CONFLICT (id) DO NOTHING",
      "SELECT head_seq FROM rooms WHERE id = $1",
      // One statement, so one transaction and one round trip: the head
      // moves only from seq - 1 (the whole of the seq check; the row lock
      // makes concurrent appends to the room take turns), and the message is
      // inserted only if it did. A dedup key already stored (or being stored
      // by a transaction that then commits) fails the INSERT with a unique
      // violation, which undoes the head's move with it.
      "WITH head AS (UPDATE rooms SET head_seq = $2::bigint WHERE id = $1::text AND head_seq = $2::bigint - 1 "
      "RETURNING id) "
      "INSERT INTO messages (" +
          std::string(kMessageColumns) +
          ") SELECT $1::text, $2::bigint, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, "
          "$10::bigint, $11::text, $12::text, $13::text, $14::bigint, $15::bigint, $16::text, $17::bigint, "
          "$18::text, $19::text, $20::bigint, $21::bigint FROM head",
      select_messages("WHERE m.room_id = $1 AND m.sender_id = $2 AND m.client_msg_id = $3"),
      select_messages("WHERE m.room_id = $1 AND m.id = $2"),
      "UPDATE messages SET content = $3, file_name = $4, file_size = $5, mime_type = $6, thumbnail_url = $7, "
      "updated_at = $8, deleted_at = $9, reactions = $10, url = $11, width = $12, height = $13 "
      "WHERE room_id = $1 AND seq = $2",
      "UPDATE messages SET content = '' WHERE room_id = $1 AND target = $2 AND type = 'edit'",
      select_messages("WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"),
      select_messages("WHERE m.room_id = $1 AND m.seq < $2 AND m.target IS NULL ORDER BY m.seq DESC LIMIT $3"),
      "DELETE FROM messages WHERE room_id = $1 AND seq < $2",
      "SELECT " + std::string(kMemberColumns) + " FROM members WHERE room_id = $1 AND user_id = $2",
      "SELECT " + std::string(kMemberColumns) + " FROM members WHERE room_id = $1 ORDER BY user_id",
      "INSERT INTO members (" + std::string(kMemberColumns) +
          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
          "ON CONFLICT (room_id, user_id) DO UPDATE SET name = excluded.name, role = excluded.role, "
          "read_seq = excluded.read_seq, delivered_seq = excluded.delivered_seq, joined_at = excluded.joined_at, "
          "last_seen = excluded.last_seen",
      "DELETE FROM members WHERE room_id = $1 AND user_id = $2",
      "UPDATE members SET read_seq = GREATEST(read_seq, $3) WHERE room_id = $1 AND user_id = $2 RETURNING read_seq",
      "UPDATE members SET delivered_seq = GREATEST(delivered_seq, $3) WHERE room_id = $1 AND user_id = $2 "
      "RETURNING delivered_seq",
      "UPDATE members SET last_seen = $3 WHERE room_id = $1 AND user_id = $2",
  };
  return sql;
}

// A stored word this version does not know (a newer parleyd's, or a damaged
// row) is a storage failure, not a guess.
template <class Enum>
Enum read_word(const pg::Result& r, int row, int column, std::optional<Enum> (*parse)(std::string_view),
               const char* what) {
  std::string word = r.text(row, column);
  if (auto value = parse(word)) return *value;
  throw pg::Failure(std::string("unknown ") + what + " '" + word + "' in the database");
}

// One row of a result, as store::read_message() reads it.
struct PgRow {
  const pg::Result& r;
  int row;
  std::string text(int column) const { return r.text(row, column); }
  std::int64_t int64(int column) const { return r.int64(row, column); }
  std::optional<std::string> optional_text(int column) const { return r.optional_text(row, column); }
  std::optional<std::int64_t> optional_int64(int column) const { return r.optional_int64(row, column); }
};
protocol::Message read_message(const pg::Result& r, int row) { return store::read_message(PgRow{r, row}); }
protocol::Message read_wire_message(const pg::Result& r, int row) { return store::read_wire_message(PgRow{r, row}); }

MemberRecord read_member(const pg::Result& r, int row) {
  return MemberRecord{r.text(row, 0),  r.text(row, 1),  r.text(row, 2),  read_word(r, row, 3, parse_role, "role"),
                      r.int64(row, 4), r.int64(row, 5), r.int64(row, 6), r.int64(row, 7)};
}

Params message_params(const protocol::Message& m) {
  static const protocol::Metadata kNoMetadata;
  const protocol::Metadata& metadata = m.metadata ? *m.metadata : kNoMetadata;
  Params p;
  p.text(m.roomId).int64(m.seq).text(m.id).text(m.senderId).text(m.senderName).text(m.clientMsgId);
  p.text(m.type).text(m.content).nullable_text(metadata.fileName).nullable_int64(metadata.fileSize);
  p.nullable_text(metadata.mimeType).nullable_text(metadata.thumbnailUrl).nullable_text(m.replyTo);
  p.int64(m.createdAt).nullable_int64(m.updatedAt).nullable_text(m.target).nullable_int64(m.deletedAt);
  p.text(store::encode_reactions(m.reactions)).nullable_text(metadata.url).nullable_int64(metadata.width);
  p.nullable_int64(metadata.height);
  return p;
}

// A change's target as change_target() left it, for kChangeTarget.
Params changed_params(const protocol::Message& m) {
  static const protocol::Metadata kNoMetadata;
  const protocol::Metadata& metadata = m.metadata ? *m.metadata : kNoMetadata;
  Params p;
  p.text(m.roomId).int64(m.seq).text(m.content).nullable_text(metadata.fileName).nullable_int64(metadata.fileSize);
  p.nullable_text(metadata.mimeType).nullable_text(metadata.thumbnailUrl).nullable_int64(m.updatedAt);
  p.nullable_int64(m.deletedAt).text(store::encode_reactions(m.reactions)).nullable_text(metadata.url);
  p.nullable_int64(metadata.width).nullable_int64(metadata.height);
  return p;
}

Params member_params(const MemberRecord& m) {
  Params p;
  p.text(m.room_id).text(m.user_id).text(m.name).text(to_string(m.role));
  p.int64(m.read_seq).int64(m.delivered_seq).int64(m.joined_at).int64(m.last_seen);
  return p;
}

// Up to `size` connections; a call borrows one for its duration.
class Pool {
  struct Slot {
    pg::Connection conn;
    std::array<bool, kStatementCount> prepared{};
  };

 public:
  Pool(std::string url, std::size_t size) : url_(std::move(url)), size_(size) {}

  // A borrowed connection; back to the pool when it goes, or dropped if it
  // is no longer idle and healthy.
  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<Slot> slot) : pool_(pool), slot_(std::move(slot)) {}
    ~Lease() { pool_.give_back(std::move(slot_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    PGconn* conn() const { return slot_->conn.get(); }
    pg::Result run(Statement statement, const Params& params, std::string_view what) {
      std::string name = "parley_" + std::to_string(static_cast<std::size_t>(statement));
      if (!slot_->prepared[statement]) {
        pg::prepare(conn(), name, statement_sql()[statement], what);
        slot_->prepared[statement] = true;
      }
      return pg::exec_prepared(conn(), name, params, what);
    }

   private:
    Pool& pool_;
    std::unique_ptr<Slot> slot_;
  };

  // Waits for an idle connection or room for a new one. Throws pg::Failure
  // when a new connection cannot be opened.
  Lease borrow() {
    std::unique_ptr<Slot> slot;
    {
      std::unique_lock lock(mutex_);
      available_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
      if (!idle_.empty()) {
        slot = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;  // this call's, until its connection is given back or dropped
      }
    }
    // A connection the server has closed since (a restart) is replaced here,
    // before the call could fail on it.
    if (slot && !pg::idle_and_alive(slot->conn.get())) slot.reset();
    if (!slot) {
      try {
        slot = std::make_unique<Slot>(Slot{pg::connect(url_), {}});
      } catch (...) {
        give_back(nullptr);
        throw;
      }
    }
    return Lease(*this, std::move(slot));
  }

  // Adds an open connection (the one that set the schema up at open).
  void adopt(pg::Connection conn) {
    std::lock_guard lock(mutex_);
    ++open_;
    idle_.push_back(std::make_unique<Slot>(Slot{std::move(conn), {}}));
  }

 private:
  void give_back(std::unique_ptr<Slot> slot) {
    if (slot && PQstatus(slot->conn.get()) == CONNECTION_OK && PQtransactionStatus(slot->conn.get()) != PQTRANS_IDLE) {
      // Left mid-transaction (a failure inside one): end it, or drop the connection.
      PQclear(PQexec(slot->conn.get(), "ROLLBACK"));
    }
    if (slot &&
        (PQstatus(slot->conn.get()) != CONNECTION_OK || PQtransactionStatus(slot->conn.get()) != PQTRANS_IDLE)) {
      slot.reset();
    }
    {
      std::lock_guard lock(mutex_);
      if (slot) {
        idle_.push_back(std::move(slot));
      } else {
        --open_;
      }
    }
    available_.notify_one();
  }

  const std::string url_;
  const std::size_t size_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Slot>> idle_;
  std::size_t open_ = 0;  // idle, lent, or being opened
};

class PostgresStorage final : public Storage {
 public:
  PostgresStorage(const std::string& url, std::size_t pool_size) : pool_(url, pool_size) {
    // Startup failures throw: parleyd does not start without its storage.
    try {
      pg::Connection conn = pg::connect(url);
      pg::ensure_schema(conn.get());
      // The only scans: once, at start, so that the counts never need one.
      room_count_ = pg::exec(conn.get(), "SELECT count(*) FROM rooms", "count rooms").int64(0, 0);
      message_count_ = pg::exec(conn.get(), "SELECT count(*) FROM messages", "count messages").int64(0, 0);
      pool_.adopt(std::move(conn));
    } catch (const pg::Failure& failure) {
      throw std::runtime_error("postgres storage: " + std::string(failure.what()));
    }
  }

  StorageResult<std::optional<RoomRecord>> load_room(std::string_view room_id) override {
    return guarded("load_room", [&](Pool::Lease& c) {
      auto r = c.run(kLoadRoom, Params().text(room_id), "load_room");
      if (r.rows() == 0) return std::optional<RoomRecord>();
      return std::optional<RoomRecord>(RoomRecord{r.text(0, 0), read_word(r, 0, 1, parse_room_kind, "room kind"),
                                                  r.text(0, 2), r.int64(0, 3), r.int64(0, 4)});
    });
  }

  StorageResult<bool> create_room(const RoomRecord& room, const std::vector<MemberRecord>& members) override {
    return guarded("create_room", [&](Pool::Lease& c) {
      Params params;
      params.text(room.id).text(to_string(room.kind)).text(room.epoch).int64(room.head_seq).int64(room.created_at);
      pg::Transaction transaction(c.conn(), "create_room");
      if (c.run(kCreateRoom, params, "create_room").affected() != 1) return false;
      for (const auto& m : members) c.run(kPutMember, member_params(m), "create_room: member");
      transaction.commit();
      room_count_.fetch_add(1, std::memory_order_relaxed);
      return true;
    });
  }

  std::int64_t room_count() const override { return room_count_.load(std::memory_order_relaxed); }

  StorageResult<std::int64_t> count_rooms(std::string_view prefix) override {
    return guarded("count_rooms", [&](Pool::Lease& c) {
      // left() and position(), not LIKE: '_' in a tenant name is no wildcard.
      auto r = pg::exec(c.conn(),
                        "SELECT count(*) FROM rooms WHERE left(id, length($1)) = $1 "
                        "AND position('/' IN substr(id, length($1) + 1)) = 0",
                        Params().text(prefix), "count_rooms");
      return r.int64(0, 0);
    });
  }

  // Appends that overlap share a transaction, and so one WAL flush
  // (group_commit.hpp); a lone one is its own single statement.
  StorageResult<Appended> append_message(const protocol::Message& message) override { return group_.append(message); }

  StorageResult<std::optional<protocol::Message>> find_sent(std::string_view room_id, std::string_view sender_id,
                                                            std::string_view client_msg_id) override {
    return guarded("find_sent", [&](Pool::Lease& c) { return find_sent_on(c, room_id, sender_id, client_msg_id); });
  }

  StorageResult<std::optional<protocol::Message>> load_message(std::string_view room_id, std::string_view id) override {
    return guarded("load_message", [&](Pool::Lease& c) {
      auto m = load_message_on(c, room_id, id);
      if (m) store::trim_for_wire(*m);
      return m;
    });
  }

  StorageResult<std::vector<protocol::Message>> messages_after(std::string_view room_id, std::int64_t after_seq,
                                                               std::size_t limit) override {
    return guarded("messages_after", [&](Pool::Lease& c) {
      auto r = c.run(kMessagesAfter, Params().text(room_id).int64(after_seq).int64(sql_limit(limit)), "messages_after");
      std::vector<protocol::Message> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_wire_message(r, i));
      return out;
    });
  }

  StorageResult<std::vector<protocol::Message>> messages_before(std::string_view room_id, std::int64_t before_seq,
                                                                std::size_t limit) override {
    return guarded("messages_before", [&](Pool::Lease& c) {
      auto r =
          c.run(kMessagesBefore, Params().text(room_id).int64(before_seq).int64(sql_limit(limit)), "messages_before");
      std::vector<protocol::Message> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = r.rows() - 1; i >= 0; --i) out.push_back(read_wire_message(r, i));  // read newest first
      return out;
    });
  }

  std::int64_t message_count() const override { return message_count_.load(std::memory_order_relaxed); }

  StorageResult<std::size_t> prune_messages(std::string_view room_id, std::int64_t below_seq) override {
    return guarded("prune_messages", [&](Pool::Lease& c) {
      auto n = c.run(kPruneMessages, Params().text(room_id).int64(below_seq), "prune_messages").affected();
      message_count_.fetch_sub(n, std::memory_order_relaxed);
      return static_cast<std::size_t>(n);
    });
  }

  StorageResult<std::optional<MemberRecord>> load_member(std::string_view room_id, std::string_view user_id) override {
    return guarded("load_member", [&](Pool::Lease& c) {
      auto r = c.run(kLoadMember, Params().text(room_id).text(user_id), "load_member");
      if (r.rows() == 0) return std::optional<MemberRecord>();
      return std::optional<MemberRecord>(read_member(r, 0));
    });
  }

  StorageResult<std::vector<MemberRecord>> members(std::string_view room_id) override {
    return guarded("members", [&](Pool::Lease& c) {
      auto r = c.run(kMembers, Params().text(room_id), "members");
      std::vector<MemberRecord> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(read_member(r, i));
      return out;
    });
  }

  StorageStatus put_member(const MemberRecord& member) override {
    return status(guarded("put_member", [&](Pool::Lease& c) -> StorageResult<bool> {
      try {
        c.run(kPutMember, member_params(member), "put_member");
      } catch (const pg::Failure& failure) {
        // Same contract as the other stores: a member of no room is not found.
        if (failure.sqlstate() == pg::kForeignKeyViolation) {
          return protocol::Error{protocol::ErrorCode::not_found, "put_member: no room '" + member.room_id + "'", ""};
        }
        throw;
      }
      return true;
    }));
  }

  StorageResult<bool> remove_member(std::string_view room_id, std::string_view user_id) override {
    return guarded("remove_member", [&](Pool::Lease& c) {
      return c.run(kRemoveMember, Params().text(room_id).text(user_id), "remove_member").affected() == 1;
    });
  }

  StorageResult<std::optional<std::int64_t>> advance_watermark(std::string_view room_id, std::string_view user_id,
                                                               Watermark which, std::int64_t seq) override {
    return guarded("advance_watermark", [&](Pool::Lease& c) {
      auto r = c.run(which == Watermark::read ? kAdvanceRead : kAdvanceDelivered,
                     Params().text(room_id).text(user_id).int64(seq), "advance_watermark");
      if (r.rows() == 0) return std::optional<std::int64_t>();
      return std::optional<std::int64_t>(r.int64(0, 0));
    });
  }

  StorageStatus touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) override {
    return status(guarded("touch_member", [&](Pool::Lease& c) {
      c.run(kTouchMember, Params().text(room_id).text(user_id).int64(last_seen), "touch_member");
      return true;
    }));
  }

  // Every commit is already durable on the server (synchronous_commit is
  // the server's setting); there is nothing of ours to write.
  StorageStatus flush() override { return std::nullopt; }

 private:
  // Runs `body` on a borrowed connection; failures (thrown by the helpers)
  // come back as values. `body` returns a T or a Result<T>.
  template <class Body, class T = typename Unwrap<std::invoke_result_t<Body&, Pool::Lease&>>::type>
  StorageResult<T> guarded(std::string_view operation, Body&& body) {
    try {
      Pool::Lease lease = pool_.borrow();
      return StorageResult<T>(body(lease));
    } catch (const std::exception& e) {
      std::string what = e.what();
      // The statements' failures name their operation already.
      if (what.rfind(operation, 0) != 0) what = std::string(operation) + ": " + what;
      return StorageResult<T>(storage_error("postgres storage: " + what));
    }
  }
  static StorageStatus status(const StorageResult<bool>& r) {
    if (r) return std::nullopt;
    return r.error();
  }

  std::vector<StorageResult<Appended>> append_batch(const std::vector<const protocol::Message*>& batch) {
    if (batch.size() == 1) {
      auto one = guarded("append_message", [&](Pool::Lease& c) { return append_on(c, *batch[0], false); });
      if (one && !one.value().duplicate) message_count_.fetch_add(1, std::memory_order_relaxed);
      return {std::move(one)};
    }
    // Rooms' rows are locked in the order of their ids (each room's messages
    // keep theirs): two nodes batching the same rooms never wait on each
    // other in a cycle, which PostgreSQL would break after deadlock_timeout
    // by failing a whole batch (bench/repro-pg-deadlock.mjs).
    std::vector<std::size_t> order(batch.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t x, std::size_t y) { return batch[x]->roomId < batch[y]->roomId; });
    std::vector<std::optional<StorageResult<Appended>>> results(batch.size());
    std::int64_t added = 0;
    auto whole = guarded("append_message", [&](Pool::Lease& c) {
      added = 0;
      pg::Transaction transaction(c.conn(), "append_message");
      for (std::size_t i : order) {
        results[i] = append_on(c, *batch[i], true);
        if (*results[i] && !results[i]->value().duplicate) ++added;
      }
      transaction.commit();
      return true;
    });
    if (!whole) return std::vector<StorageResult<Appended>>(batch.size(), whole.error());
    message_count_.fetch_add(added, std::memory_order_relaxed);
    std::vector<StorageResult<Appended>> out;
    out.reserve(batch.size());
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
  }

  // One append: the statement moves head_seq from seq - 1 to seq and inserts
  // the message, or writes nothing (a taken dedup key or seq, no room); then
  // says which. In a batch (`savepoint`) a refusal is undone to its savepoint
  // so that the transaction goes on for the others. A message that refers to
  // another (a change, a reply) is checked and applied after its statement,
  // which holds the room's row lock: no other node's append to the room can
  // change what it refers to meanwhile. Outside a batch it gets a transaction
  // of its own for that.
  StorageResult<Appended> append_on(Pool::Lease& c, const protocol::Message& message, bool savepoint) {
    std::optional<std::string> referenced_id = store::referenced_id(message);
    std::optional<pg::Transaction> own;
    if (referenced_id && !savepoint) {
      own.emplace(c.conn(), "append_message");
      savepoint = true;
    }
    std::optional<pg::Failure> taken;
    if (savepoint) pg::exec(c.conn(), "SAVEPOINT one_append", "append_message: savepoint");
    auto undo = [&] {
      if (!savepoint) return;
      pg::exec(c.conn(), "ROLLBACK TO SAVEPOINT one_append", "append_message: rollback to savepoint");
      pg::exec(c.conn(), "RELEASE SAVEPOINT one_append", "append_message: release");
    };
    try {
      if (c.run(kAppend, message_params(message), "append_message").affected() == 1) {
        protocol::Message stored = message;
        if (stored.metadata == protocol::Metadata{}) stored.metadata.reset();  // what reading it back gives
        stored.quote.reset();
        if (referenced_id) {
          auto referenced = load_message_on(c, message.roomId, *referenced_id);
          auto refused = store::check_references(message, referenced ? &*referenced : nullptr);
          if (!refused && message.target) refused = store::change_target(message, *referenced);
          if (refused) {
            undo();
            return *refused;
          }
          if (message.target) {
            c.run(kChangeTarget, changed_params(*referenced), "append_message: change target");
            if (message.type == "delete") {
              c.run(kForgetEdits, Params().text(message.roomId).text(*message.target), "append_message: forget edits");
            }
          } else {
            stored.quote = store::quote_of(*referenced);
          }
        }
        if (savepoint) pg::exec(c.conn(), "RELEASE SAVEPOINT one_append", "append_message: release");
        if (own) own->commit();
        return Appended{std::move(stored), false};
      }
    } catch (const pg::Failure& failure) {
      if (failure.sqlstate() != pg::kUniqueViolation) throw;
      taken = failure;
    }
    undo();
    // Nothing was written. A known dedup key answers first, whatever the seq.
    if (auto original = find_sent_on(c, message.roomId, message.senderId, message.clientMsgId)) {
      return Appended{std::move(*original), true};
    }
    // A unique violation that was not the dedup key: the room's messages
    // already hold this seq (its head_seq is behind them).
    if (taken) throw *taken;
    auto head = c.run(kRoomHead, Params().text(message.roomId), "append_message: read head_seq");
    if (head.rows() == 0) {
      return protocol::Error{protocol::ErrorCode::not_found, "append_message: no room '" + message.roomId + "'", ""};
    }
    return protocol::Error{protocol::ErrorCode::conflict,
                           "append_message: seq " + std::to_string(message.seq) + " in room '" + message.roomId +
                               "' whose head_seq is " + std::to_string(head.int64(0, 0)),
                           ""};
  }

  static std::optional<protocol::Message> find_sent_on(Pool::Lease& c, std::string_view room_id,
                                                       std::string_view sender_id, std::string_view client_msg_id) {
    auto r = c.run(kFindSent, Params().text(room_id).text(sender_id).text(client_msg_id), "find_sent");
    if (r.rows() == 0) return std::nullopt;
    return read_wire_message(r, 0);
  }

  // As stored (reactor lists complete), for a change to apply to.
  static std::optional<protocol::Message> load_message_on(Pool::Lease& c, std::string_view room_id,
                                                          std::string_view id) {
    auto r = c.run(kLoadMessage, Params().text(room_id).text(id), "load_message");
    if (r.rows() == 0) return std::nullopt;
    return read_message(r, 0);
  }

  Pool pool_;
  GroupCommit group_{[this](const std::vector<const protocol::Message*>& batch) { return append_batch(batch); }};
  std::atomic<std::int64_t> room_count_{0};
  std::atomic<std::int64_t> message_count_{0};
};

}  // namespace

std::unique_ptr<Storage> open_postgres_storage(const std::string& url, std::size_t pool_size) {
  if (pool_size == 0) throw std::runtime_error("postgres storage: the pool needs at least one connection");
  return std::make_unique<PostgresStorage>(url, pool_size);
}

}  // namespace parley::server
