// libpq plumbing shared by the PostgreSQL storage and `parleyd migrate`:
// connections, results that free themselves, parameters, and the versioned
// schema. Failures are thrown here as pg::Failure (what failed, the server's
// words, on one line, never the password); the storage turns them into
// values at each public method, as the SQLite store does.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::server::pg {

// Version of the schema this parleyd writes; shared with the SQLite store,
// so that a version means the same tables in both (version 2: the dedup key
// is per room).
inline constexpr int kSchemaVersion = 3;

// SQLSTATEs the storage tells apart.
inline constexpr std::string_view kUniqueViolation = "23505";
inline constexpr std::string_view kForeignKeyViolation = "23503";

class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& message, std::string sqlstate = {})
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// libpq's text on one line (it ends lines with \n and indents details).
std::string one_line(std::string_view text);

struct FinishConnection {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, FinishConnection>;

// Opens a connection to `url` (blocking; connect_timeout is 10 s unless the
// URL sets it; client_encoding is UTF8 whatever it says). Notices are
// dropped rather than printed on stderr. Throws Failure.
Connection connect(const std::string& url);

// True when an idle connection can be used: libpq thinks it is up, no
// transaction is open, and the server has sent nothing since the last result
// (an idle connection that became readable was closed by the server, e.g. at
// a restart). Never blocks.
bool idle_and_alive(PGconn* conn);

class Result {
 public:
  Result() = default;
  explicit Result(PGresult* result) : result_(result) {}

  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string text(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  std::optional<std::string> optional_text(int row, int column) const;
  std::optional<std::int64_t> optional_int64(int row, int column) const;
  // Rows an INSERT, UPDATE or DELETE touched (or COPY moved).
  std::int64_t affected() const;
  PGresult* get() const { return result_.get(); }

 private:
  struct Clear {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// Statement parameters, all sent as text ("" is a value; null() is NULL).
// PostgreSQL's text cannot hold U+0000: a value with a NUL byte is refused
// here (Failure) rather than cut short by libpq.
class Params {
 public:
  Params& text(std::string_view value);
  Params& nullable_text(const std::optional<std::string>& value);
  Params& int64(std::int64_t value);
  Params& nullable_int64(const std::optional<std::int64_t>& value);
  Params& null();

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into this object, valid while it is unchanged.
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
};

// Runs a statement without parameters (several separated by ';' are fine).
Result exec(PGconn* conn, const std::string& sql, std::string_view what);
// Runs one statement with parameters ($1, $2, ...).
Result exec(PGconn* conn, const std::string& sql, const Params& params, std::string_view what);
// Prepares a named statement on this connection.
void prepare(PGconn* conn, const std::string& name, const std::string& sql, std::string_view what);
Result exec_prepared(PGconn* conn, const std::string& name, const Params& params, std::string_view what);

// BEGIN ... COMMIT; rolled back when left without commit() (a failed
// rollback leaves the connection in a state its pool will not reuse).
class Transaction {
 public:
  Transaction(PGconn* conn, std::string_view what);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  PGconn* conn_;
  std::string what_;
  bool open_ = true;
};

// COPY ... FROM STDIN: start it, send data in the COPY text format, end it
// (returns the rows copied). A failure ends the COPY and throws.
void copy_begin(PGconn* conn, const std::string& sql, std::string_view what);
void copy_data(PGconn* conn, std::string_view data, std::string_view what);
std::int64_t copy_end(PGconn* conn, std::string_view what);

// Creates the schema in an empty database, or upgrades an older one in
// place, in one transaction; two parleyd starting at once take turns (an
// advisory lock). Throws Failure for a schema newer than kSchemaVersion or a
// damaged version table. Returns the version found before (0: empty).
int ensure_schema(PGconn* conn);

}  // namespace parley::server::pg
