// Verifies the JWT a client presents in `hello`: HS256 only (the `alg`
// header is pinned), signature in constant time, `exp` required and `nbf`
// honoured, `sub` a valid user id, `name` a valid display name, `tenant` (if
// any) a valid tenant name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/result.hpp"

namespace parley::server {

struct Identity {
  std::string user_id;  // sub
  std::string name;     // name, or sub when absent
  std::int64_t expires_at_ms = 0;
  std::vector<std::string> rooms;  // optional `rooms` claim
  std::optional<std::string> role;
  std::string tenant = "default";  // optional `tenant` claim (tenants/tenants.hpp)
};

class TokenVerifier {
 public:
  explicit TokenVerifier(std::string secret) : secret_(std::move(secret)) {}

  // `now_ms` is the current Unix time in milliseconds.
  protocol::Result<Identity> verify(std::string_view token, std::int64_t now_ms) const;

 private:
  std::string secret_;
};

// Signs claims (a JSON object) as an HS256 JWT; for tests and tools.
std::string sign_hs256(std::string_view claims_json, std::string_view secret, std::string_view alg = "HS256");

}  // namespace parley::server
