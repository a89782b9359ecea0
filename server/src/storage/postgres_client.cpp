#include "storage/postgres_client.hpp"

#include <poll.h>

#include <charconv>
#include <iterator>
#include <limits>

#include "storage/storage.hpp"

namespace parley::server {
namespace {

constexpr std::string_view kSchemes[] = {"postgres://", "postgresql://"};

// Where a URL's password sits in `text`: the userinfo's (user:password@host)
// and every password= parameter, as [begin, end) spans.
std::vector<std::pair<std::size_t, std::size_t>> password_spans(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (std::size_t scheme = text.find("://"); scheme != std::string_view::npos; scheme = text.find("://", scheme + 3)) {
    std::size_t start = scheme + 3;
    // The authority ends at the query or at a space, not at the first '/':
    // an unencoded '/' in a password must not hide it.
    std::size_t end = text.find_first_of("? \t\n\"'", start);
    if (end == std::string_view::npos) end = text.size();
    std::size_t at = text.substr(0, end).rfind('@');
    if (at == std::string_view::npos || at < start) continue;
    std::size_t colon = text.find(':', start);
    if (colon < at) spans.emplace_back(colon + 1, at);
  }
  constexpr std::string_view kKey = "password=";
  for (std::size_t key = text.find(kKey); key != std::string_view::npos; key = text.find(kKey, key + 1)) {
    bool boundary = key == 0 || std::string_view("?& \t\n\"'").find(text[key - 1]) != std::string_view::npos;
    if (!boundary) continue;
    std::size_t value = key + kKey.size();
    std::size_t end = text.find_first_of("& \t\n\"'#", value);
    spans.emplace_back(value, end == std::string_view::npos ? text.size() : end);
  }
  return spans;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

void replace_all(std::string& text, const std::string& what, std::string_view with) {
  if (what.empty()) return;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size())) {
    text.replace(at, what.size(), with);
  }
}

// `message` (libpq's words about `url`) without the URL's password in any
// form: libpq quotes the part of a URI it cannot parse, which may be it.
std::string scrub(std::string message, const std::string& url) {
  for (auto [begin, end] : password_spans(url)) {
    std::string raw = url.substr(begin, end - begin);
    replace_all(message, raw, "***");
    replace_all(message, percent_decoded(raw), "***");
  }
  return message;
}

}  // namespace

bool is_postgres_url(std::string_view text) {
  for (auto scheme : kSchemes) {
    if (text.substr(0, scheme.size()) == scheme) return true;
  }
  return false;
}

std::string redact_url_password(std::string_view text) {
  std::string out(text);
  auto spans = password_spans(text);
  // From the last span back, so that earlier offsets stay valid.
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) out.replace(it->first, it->second - it->first, "***");
  return out;
}

std::optional<std::string> check_postgres_url(const std::string& url) {
  if (!is_postgres_url(url)) return std::string("not a PostgreSQL URL (postgres://... or postgresql://...)");
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string why = error != nullptr ? pg::one_line(error) : "out of memory";
    PQfreemem(error);
    return scrub(why, url);
  }
  PQconninfoFree(options);
  return std::nullopt;
}

namespace pg {

std::string one_line(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.empty()) {
      if (!out.empty()) out += "; ";
      out += line;
    }
    start = end + 1;
  }
  return out;
}

Connection connect(const std::string& url) {
  if (auto why = check_postgres_url(url)) throw Failure("bad URL " + redact_url_password(url) + ": " + *why);
  // Keywords before dbname are defaults the URL may override; after it,
  // settings parleyd depends on.
  const char* const keywords[] = {"connect_timeout", "application_name", "dbname", "client_encoding", nullptr};
  const char* const values[] = {"10", "parleyd", url.c_str(), "UTF8", nullptr};
  Connection conn(PQconnectdbParams(keywords, values, 1));
  if (!conn) throw Failure("cannot connect to " + redact_url_password(url) + ": out of memory");
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw Failure("cannot connect to " + redact_url_password(url) + ": " +
                  scrub(one_line(PQerrorMessage(conn.get())), url));
  }
  // libpq prints notices (and a server's goodbye on an idle connection) on
  // stderr by default.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

bool idle_and_alive(PGconn* conn) {
  if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE) return false;
  pollfd fd{PQsocket(conn), POLLIN, 0};
  if (fd.fd < 0) return false;
  return ::poll(&fd, 1, 0) == 0;
}

std::string Result::text(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  return std::string(value, static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Result::int64(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  const char* end = value + PQgetlength(result_.get(), row, column);
  std::int64_t out = 0;
  auto [stop, error] = std::from_chars(value, end, out);
  if (error != std::errc() || stop != end) {
    throw Failure("column " + std::string(PQfname(result_.get(), column)) + " holds '" + std::string(value, end) +
                  "', not an integer");
  }
  return out;
}

std::optional<std::string> Result::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return text(row, column);
}

std::optional<std::int64_t> Result::optional_int64(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return int64(row, column);
}

std::int64_t Result::affected() const {
  std::string_view count = PQcmdTuples(result_.get());
  std::int64_t out = 0;
  std::from_chars(count.data(), count.data() + count.size(), out);  // "" for commands that count nothing: 0
  return out;
}

Params& Params::text(std::string_view value) {
  if (value.find('\0') != std::string_view::npos) {
    throw Failure("a text value holds a NUL byte (U+0000), which PostgreSQL text cannot store");
  }
  values_.emplace_back(value);
  nulls_.push_back(false);
  return *this;
}

Params& Params::nullable_text(const std::optional<std::string>& value) { return value ? text(*value) : null(); }

Params& Params::int64(std::int64_t value) {
  values_.push_back(std::to_string(value));
  nulls_.push_back(false);
  return *this;
}

Params& Params::nullable_int64(const std::optional<std::int64_t>& value) { return value ? int64(*value) : null(); }

Params& Params::null() {
  values_.emplace_back();
  nulls_.push_back(true);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) out.push_back(nulls_[i] ? nullptr : values_[i].c_str());
  return out;
}

namespace {

[[noreturn]] void fail(PGconn* conn, const PGresult* result, std::string_view what) {
  std::string sqlstate;
  std::string message;
  if (result != nullptr) {
    if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE)) sqlstate = state;
    if (const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) message = primary;
  }
  if (message.empty()) message = one_line(PQerrorMessage(conn));
  if (message.empty() && result != nullptr) message = PQresStatus(PQresultStatus(result));
  if (message.empty()) message = "no result (out of memory?)";
  if (result != nullptr) {
    // Where in a COPY, a function or a trigger (absent for most statements).
    if (const char* context = PQresultErrorField(result, PG_DIAG_CONTEXT)) message += " (" + one_line(context) + ")";
  }
  if (PQstatus(conn) == CONNECTION_BAD) message += " (connection lost; the next call connects again)";
  throw Failure(std::string(what) + ": " + message, sqlstate);
}

Result checked(PGconn* conn, PGresult* raw, std::string_view what) {
  Result result(raw);
  ExecStatusType status = raw != nullptr ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(conn, raw, what);
  return result;
}

}  // namespace

Result exec(PGconn* conn, const std::string& sql, std::string_view what) {
  return checked(conn, PQexec(conn, sql.c_str()), what);
}

Result exec(PGconn* conn, const std::string& sql, const Params& params, std::string_view what) {
  auto values = params.pointers();
  return checked(conn, PQexecParams(conn, sql.c_str(), params.size(), nullptr, values.data(), nullptr, nullptr, 0),
                 what);
}

void prepare(PGconn* conn, const std::string& name, const std::string& sql, std::string_view what) {
  checked(conn, PQprepare(conn, name.c_str(), sql.c_str(), 0, nullptr), what);
}

Result exec_prepared(PGconn* conn, const std::string& name, const Params& params, std::string_view what) {
  auto values = params.pointers();
  return checked(conn, PQexecPrepared(conn, name.c_str(), params.size(), values.data(), nullptr, nullptr, 0), what);
}

Transaction::Transaction(PGconn* conn, std::string_view what) : conn_(conn), what_(what) {
  exec(conn_, "BEGIN", what_ + ": begin");
}

Transaction::~Transaction() {
  if (!open_) return;
  // A destructor has no one to report to: if ROLLBACK fails, the connection
  // is not idle (or is gone) and its pool drops it.
  PQclear(PQexec(conn_, "ROLLBACK"));
}

void Transaction::commit() {
  open_ = false;  // a failed COMMIT ends the transaction too
  exec(conn_, "COMMIT", what_ + ": commit");
}

void copy_begin(PGconn* conn, const std::string& sql, std::string_view what) {
  Result result(PQexec(conn, sql.c_str()));
  if (result.get() == nullptr || PQresultStatus(result.get()) != PGRES_COPY_IN) fail(conn, result.get(), what);
}

void copy_data(PGconn* conn, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    auto chunk = std::min<std::size_t>(data.size(), std::numeric_limits<int>::max());
    if (PQputCopyData(conn, data.data(), static_cast<int>(chunk)) != 1) fail(conn, nullptr, what);
    data.remove_prefix(chunk);
  }
}

std::int64_t copy_end(PGconn* conn, std::string_view what) {
  if (PQputCopyEnd(conn, nullptr) != 1) fail(conn, nullptr, what);
  Result result = checked(conn, PQgetResult(conn), what);
  // The COPY's result is followed by a null one; anything else is drained.
  while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
  return result.affected();
}

namespace {

// Version 1: the tables, with the dedup key (sender_id, client_msg_id).
// Identifiers compare and sort as bytes (COLLATE "C"), as SQLite's BINARY
// does: members are listed by user_id in the same order on both stores, and
// the primary keys serve that order.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE rooms (
  id         text COLLATE "C" NOT NULL PRIMARY KEY,
  kind       text   NOT NULL,
  epoch      text   NOT NULL,
  head_seq   bigint NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE members (
  room_id       text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id       text COLLATE "C" NOT NULL,
  name          text   NOT NULL,
  role          text   NOT NULL,
  read_seq      bigint NOT NULL,
  delivered_seq bigint NOT NULL,
  joined_at     bigint NOT NULL,
  last_seen     bigint NOT NULL,
  PRIMARY KEY (room_id, user_id)
);

CREATE TABLE messages (
  room_id       text COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  seq           bigint NOT NULL,
  id            text   NOT NULL,
  sender_id     text COLLATE "C" NOT NULL,
  sender_name   text   NOT NULL,
  client_msg_id text COLLATE "C" NOT NULL,
  type          text   NOT NULL,
  content       text   NOT NULL,
  file_name     text,
  file_size     bigint,
  mime_type     text,
  thumbnail_url text,
  reply_to      text,
  created_at    bigint NOT NULL,
  updated_at    bigint,
  PRIMARY KEY (room_id, seq),
  CONSTRAINT messages_dedup UNIQUE (sender_id, client_msg_id)
);
)sql";

// Version 1 -> 2: the dedup key is per room. The old key was stricter, so
// every row satisfies the new one.
constexpr const char* kVersion2 = R"sql(
ALTER TABLE messages
  DROP CONSTRAINT messages_dedup,
  ADD CONSTRAINT messages_dedup UNIQUE (room_id, sender_id, client_msg_id);
)sql";

// Version 2 -> 3: changes (edit, delete, react, unreact) name their target;
// tombstones, reactions (storage/changes.hpp's encoding) and attachments'
// URL and size. Messages are found by id (targets, replies' originals).
constexpr const char* kVersion3 = R"sql(
ALTER TABLE messages
  ADD COLUMN target text,
  ADD COLUMN deleted_at bigint,
  ADD COLUMN reactions text,
  ADD COLUMN url text,
  ADD COLUMN width bigint,
  ADD COLUMN height bigint;
CREATE INDEX messages_id ON messages (room_id, id);
CREATE INDEX messages_target ON messages (room_id, target) WHERE target IS NOT NULL;
)sql";

struct Step {
  int version;
  const char* sql;
};
// Every version's step, in order. A new database runs them all, so the
// upgrade path is the creation path and both give the same tables.
constexpr Step kSteps[] = {{1, kVersion1}, {2, kVersion2}, {3, kVersion3}};
static_assert(std::size(kSteps) == kSchemaVersion);

// pg_advisory_xact_lock's key for schema changes: "parley" in ASCII.
constexpr const char* kSchemaLock = "SELECT pg_advisory_xact_lock(123563833845113)";

}  // namespace

int ensure_schema(PGconn* conn) {
  Transaction transaction(conn, "schema");
  exec(conn, kSchemaLock, "schema: lock");
  Result table = exec(conn, "SELECT to_regclass('parley_schema_version') IS NOT NULL", "schema: find the version");
  if (table.text(0, 0) != "t") {
    exec(conn,
         "CREATE TABLE parley_schema_version (version integer NOT NULL); INSERT INTO parley_schema_version VALUES (0)",
         "schema: create parley_schema_version");
  }
  Result row = exec(conn, "SELECT version FROM parley_schema_version", "schema: read the version");
  if (row.rows() != 1) {
    throw Failure("schema: parley_schema_version holds " + std::to_string(row.rows()) + " rows, not one");
  }
  auto found = row.int64(0, 0);
  if (found > kSchemaVersion || found < 0) {
    throw Failure("the database has schema version " + std::to_string(found) + "; this parleyd knows version " +
                  std::to_string(kSchemaVersion) + " (run a newer parleyd, or point this one at another database)");
  }
  for (const auto& step : kSteps) {
    if (step.version <= found) continue;
    exec(conn, step.sql, "schema: upgrade to version " + std::to_string(step.version));
  }
  if (found != kSchemaVersion) {
    exec(conn, "UPDATE parley_schema_version SET version = " + std::to_string(kSchemaVersion),
         "schema: set the version");
  }
  transaction.commit();
  return static_cast<int>(found);
}

}  // namespace pg
}  // namespace parley::server
