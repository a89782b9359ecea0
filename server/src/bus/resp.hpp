// RESP2, the Redis wire format, without I/O: commands out, replies in.
// hiredis does the bytes (its redisReader parser and redisFormatCommandArgv)
// and stays inside resp.cpp; callers see std types only. The connection
// (redis_connection.hpp) feeds the reader whatever the socket gave it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace parley::server::redis {

struct Reply {
  enum class Type { string, array, integer, nil, status, error };
  Type type = Type::nil;
  std::string str;              // string, status, error
  long long integer = 0;        // integer
  std::vector<Reply> elements;  // array
  bool is_error() const { return type == Type::error; }

  static Reply error(std::string message) {
    Reply r;
    r.type = Type::error;
    r.str = std::move(message);
    return r;
  }
};

// A command as RESP (an array of bulk strings); binary-safe arguments.
// Throws std::invalid_argument for no arguments (Redis would answer nothing,
// and the replies of a pipeline would no longer match their commands), and
// std::length_error past 1 GiB (hiredis counts in int).
std::string format_command(const std::vector<std::string>& args);

// What one reply may cost before the reader refuses it as a protocol error:
// the peer is trusted to speak Redis, not to be sane. hiredis itself caps the
// nesting (7 levels) and an array's declared length (INT_MAX), but it would
// wait forever for a bulk string of any declared size, and builds a tree node
// for every element a peer sends.
struct ReaderLimits {
  // Bytes of a reply still incomplete (Redis's own proto-max-bulk-len).
  std::size_t max_pending_bytes = std::size_t{512} << 20;
  // Values in one reply, all levels together (~80 bytes of memory each).
  std::size_t max_values = std::size_t{1} << 22;
};

// Incremental parser: feed bytes, take complete replies. A protocol error is
// reported once (std::nullopt + error() non-empty) and the reader is unusable
// after.
class Reader {
 public:
  Reader();
  explicit Reader(ReaderLimits limits);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  void feed(const char* data, std::size_t n);
  // Next complete reply, if any; sets error() on a protocol error.
  std::optional<Reply> next();
  const std::string& error() const;

  struct State;  // hiredis's reader and what builds the reply (resp.cpp)

 private:
  std::unique_ptr<State> state_;
};

}  // namespace parley::server::redis
