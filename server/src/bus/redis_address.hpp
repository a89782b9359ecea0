// Where a Redis listens, and how to log in, from the URL an operator writes:
//   redis://host[:port][/db]               TCP, port 6379 by default
//   redis://[::1]:6380                     an IPv6 literal in brackets
//   redis://:password@host:port            AUTH password
//   redis://user:password@host:port        AUTH user password (Redis 6 ACL)
//   redis+unix:///absolute/path.sock       a Unix socket (also unix:///path;
//   redis+unix://:password@/path.sock      and with a password)
// User and password may be percent-encoded (%40 for @). Anything else is
// refused with a message that says what is wrong and never repeats the
// password (the URL may be in a log).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::server::redis {

struct Address {
  enum class Kind { tcp, unix_socket };
  Kind kind = Kind::tcp;
  std::string host;           // tcp: a name or an IP literal (no brackets)
  std::uint16_t port = 6379;  // tcp
  std::string path;           // unix_socket: absolute
  std::string user;           // AUTH user; empty: the default user
  std::string password;       // empty: no AUTH
  int db = 0;                 // SELECT after connecting when not 0

  // Throws std::invalid_argument.
  static Address parse(std::string_view url);
  // The URL without user and password, for logs.
  std::string describe() const;
};

}  // namespace parley::server::redis
