#include "storage/migrate.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "storage/postgres_client.hpp"
#include "storage/storage.hpp"

namespace parley::server {
namespace {

// What the SQLite store's schema version must be once opened (it upgrades
// older files itself); the PostgreSQL one uses the same numbering.
constexpr int kSqliteSchemaVersion = pg::kSchemaVersion;
// COPY data is sent in pieces of about this size.
constexpr std::size_t kCopyChunk = 1 << 20;

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

struct CloseDatabase {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};

// A read-only connection to the SQLite store, holding one read transaction
// (one snapshot) from open to close.
class SqliteSource {
 public:
  explicit SqliteSource(const std::string& path) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) fail("cannot open " + path + ": " + (db_ ? sqlite3_errmsg(db_.get()) : sqlite3_errstr(rc)));
    sqlite3_busy_timeout(db_.get(), 5000);
    exec("BEGIN");
    // The snapshot starts with the first read.
    auto version = query("PRAGMA user_version");
    if (!step(version) || sqlite3_column_int(version.get(), 0) != kSqliteSchemaVersion) {
      fail(path + " does not have SQLite schema version " + std::to_string(kSqliteSchemaVersion));
    }
  }
  ~SqliteSource() {
    if (db_) sqlite3_exec(db_.get(), "COMMIT", nullptr, nullptr, nullptr);  // a read transaction: nothing to lose
  }

  using Statement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;
  Statement query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &stmt, nullptr);
    Statement owned(stmt);
    if (rc != SQLITE_OK) fail("SQLite: " + sql + ": " + sqlite3_errmsg(db_.get()));
    return owned;
  }
  // True when a row is ready.
  bool step(const Statement& stmt) {
    int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(std::string("SQLite: reading: ") + sqlite3_errmsg(db_.get()));
  }

 private:
  void exec(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      fail(std::string("SQLite: ") + sql + ": " + sqlite3_errmsg(db_.get()));
    }
  }
  std::unique_ptr<sqlite3, CloseDatabase> db_;
};

std::string_view column_text(sqlite3_stmt* stmt, int column) {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  if (data == nullptr) return {};
  return {data, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column))};
}

// Rows for COPY ... FROM STDIN in its text format: tab-separated fields,
// \N for NULL, and backslash escapes for the characters that would end a
// field or a row.
class CopyRows {
 public:
  CopyRows(PGconn* conn, std::string table, const std::string& columns) : conn_(conn), table_(std::move(table)) {
    pg::copy_begin(conn_, "COPY " + table_ + " (" + columns + ") FROM STDIN", "copy " + table_);
  }

  ~CopyRows() {
    if (finished_) return;
    // Left by a failure: end the COPY so the server throws its rows away.
    PQputCopyEnd(conn_, "parleyd migrate stopped");
    while (PGresult* result = PQgetResult(conn_)) PQclear(result);
  }
  CopyRows(const CopyRows&) = delete;
  CopyRows& operator=(const CopyRows&) = delete;

  // Copies the row's first `column_count` columns as they are (NULL,
  // integer or text). `where` names the row in errors.
  void row(sqlite3_stmt* stmt, int column_count, const std::string& where) {
    for (int i = 0; i < column_count; ++i) {
      if (i > 0) buffer_ += '\t';
      if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
        buffer_ += "\\N";
      } else if (sqlite3_column_type(stmt, i) == SQLITE_INTEGER) {
        buffer_ += std::to_string(sqlite3_column_int64(stmt, i));
      } else {
        field(column_text(stmt, i), where, sqlite3_column_name(stmt, i));
      }
    }
    buffer_ += '\n';
    ++rows_;
    if (buffer_.size() >= kCopyChunk) send();
  }

  // Ends the COPY; returns the rows PostgreSQL took, checked against those sent.
  std::int64_t finish() {
    send();
    finished_ = true;
    std::int64_t copied = pg::copy_end(conn_, "copy " + table_);
    if (copied != rows_) {
      fail(table_ + ": sent " + std::to_string(rows_) + " rows, PostgreSQL copied " + std::to_string(copied));
    }
    return copied;
  }

 private:
  void field(std::string_view value, const std::string& where, const char* column) {
    for (char c : value) {
      switch (c) {
        case '\\':
          buffer_ += "\\\\";
          break;
        case '\n':
          buffer_ += "\\n";
          break;
        case '\r':
          buffer_ += "\\r";
          break;
        case '\t':
          buffer_ += "\\t";
          break;
        case '\0':
          fail(where + ": " + column + " holds a NUL character (U+0000), which PostgreSQL text cannot store");
        default:
          buffer_ += c;
      }
    }
  }
  void send() {
    pg::copy_data(conn_, buffer_, "copy " + table_);
    buffer_.clear();
  }

  PGconn* conn_;
  std::string table_;
  std::string buffer_;
  std::int64_t rows_ = 0;
  bool finished_ = false;
};

constexpr const char* kRoomColumns = "id, kind, epoch, head_seq, created_at";
constexpr const char* kMemberColumns = "room_id, user_id, name, role, read_seq, delivered_seq, joined_at, last_seen";
constexpr const char* kMessageColumns =
    "room_id, seq, id, sender_id, sender_name, client_msg_id, type, content, file_name, file_size, mime_type, "
    "thumbnail_url, reply_to, created_at, updated_at, target, deleted_at, reactions, url, width, height";
constexpr int kMessageColumnCount = 21;

MigrationReport copy_all(SqliteSource& source, PGconn* target) {
  MigrationReport report;
  {
    CopyRows rows(target, "rooms", kRoomColumns);
    auto stmt = source.query(std::string("SELECT ") + kRoomColumns + " FROM rooms ORDER BY id");
    while (source.step(stmt)) {
      std::string where = "room '" + std::string(column_text(stmt.get(), 0)) + "'";
      // A word the PostgreSQL store would refuse to read is refused now.
      if (!parse_room_kind(column_text(stmt.get(), 1))) {
        fail(where + " has an unknown kind '" + std::string(column_text(stmt.get(), 1)) + "'");
      }
      rows.row(stmt.get(), 5, where);
    }
    report.rooms = rows.finish();
  }
  {
    CopyRows rows(target, "members", kMemberColumns);
    auto stmt = source.query(std::string("SELECT ") + kMemberColumns + " FROM members ORDER BY room_id, user_id");
    while (source.step(stmt)) {
      std::string where = "member '" + std::string(column_text(stmt.get(), 1)) + "' of room '" +
                          std::string(column_text(stmt.get(), 0)) + "'";
      if (!parse_role(column_text(stmt.get(), 3))) {
        fail(where + " has an unknown role '" + std::string(column_text(stmt.get(), 3)) + "'");
      }
      rows.row(stmt.get(), 8, where);
    }
    report.members = rows.finish();
  }
  {
    CopyRows rows(target, "messages", kMessageColumns);
    auto stmt = source.query(std::string("SELECT ") + kMessageColumns + " FROM messages ORDER BY room_id, seq");
    while (source.step(stmt)) {
      std::string where = "message " + std::to_string(sqlite3_column_int64(stmt.get(), 1)) + " of room '" +
                          std::string(column_text(stmt.get(), 0)) + "'";
      rows.row(stmt.get(), kMessageColumnCount, where);
    }
    report.messages = rows.finish();
  }
  return report;
}

}  // namespace

MigrationReport migrate_sqlite_to_postgres(const std::string& data_dir, const std::string& url) {
  std::string path = (std::filesystem::path(data_dir) / "parley.db").string();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    fail("no SQLite store at " + path + " (--from sqlite:<the --data-dir of the parleyd that wrote it>)");
  }
  // Opening it as parleyd does upgrades an older file, and refuses a newer one.
  open_sqlite_storage(data_dir).reset();
  SqliteSource source(path);

  try {
    pg::Connection target = pg::connect(url);
    pg::ensure_schema(target.get());
    pg::Transaction transaction(target.get(), "migrate");
    // No parleyd writes to the tables while they are filled; one still
    // running keeps the copy waiting, at most 10 s.
    pg::exec(target.get(), "SET LOCAL lock_timeout = '10s'", "migrate: set lock_timeout");
    pg::exec(target.get(), "LOCK TABLE rooms, members, messages IN EXCLUSIVE MODE", "migrate: lock the tables");
    if (pg::exec(target.get(), "SELECT EXISTS (SELECT 1 FROM rooms)", "migrate: look for rooms").text(0, 0) == "t") {
      fail("the target database " + redact_url_password(url) +
           " already holds rooms; parleyd migrate copies into an empty database only (nothing was changed)");
    }
    MigrationReport report = copy_all(source, target.get());
    transaction.commit();
    return report;
  } catch (const pg::Failure& failure) {
    fail(std::string("PostgreSQL: ") + failure.what() + " (no data was copied)");
  }
}

}  // namespace parley::server
