// The opening handshake of RFC 6455 §4.2.1, as a pure check of a parsed
// request: no sockets, no Beast types (HttpSession adapts its request), so
// every refusal is unit-tested. Also the Origin policy (--allowed-origins).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace parley::server {

// Which browser origins may open a WebSocket. Tokens travel in the first
// frame, never in cookies, so a foreign page gains nothing by connecting
// (no cross-site WebSocket hijacking); the default therefore allows every
// origin, and a request without Origin (a non-browser client, which could
// send any Origin it likes) is always allowed.
class OriginPolicy {
 public:
  // "*" (every origin), or a comma-separated list of origins: scheme://host
  // with an optional :port, an optional "*." in front of the host for its
  // subdomains (not the host itself), or "null". Paths are refused.
  static std::optional<OriginPolicy> parse(std::string_view list, std::string& error);
  bool allows(std::string_view origin) const;
  bool any() const { return any_; }

 private:
  struct Pattern {
    std::string scheme;
    std::string host;  // with a wildcard: the suffix after "*" (".example.com")
    std::string port;  // empty: the scheme's default
    bool wildcard = false;
    bool null_origin = false;
  };
  bool any_ = true;
  std::vector<Pattern> patterns_;
};

// One header field as received (names in any case, duplicates kept).
struct HeaderField {
  std::string_view name;
  std::string_view value;
};

struct UpgradeRequest {
  std::string_view method;  // "GET"
  unsigned version = 11;    // 10: HTTP/1.0, 11: HTTP/1.1
  std::vector<HeaderField> fields;
  bool has_body = false;  // Content-Length > 0 or a chunked body
};

// The verdict: accepted (status 101, with the key to answer) or a refusal
// with its status, the headers it needs and a plain-text reason.
struct UpgradeVerdict {
  int status = 101;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // Allow, Upgrade, Sec-WebSocket-Version
  std::string key;                                           // accepted: Sec-WebSocket-Key
  bool ok() const { return status == 101; }
};

// In this order: method (405 with Allow: GET), HTTP version (400), Upgrade
// naming websocket (426 with Upgrade: websocket), Connection naming Upgrade
// (400), exactly one non-empty Host (400), no body (400), exactly one
// Sec-WebSocket-Version of 13 (426 with Sec-WebSocket-Version: 13), exactly
// one Sec-WebSocket-Key of 16 bytes in base64 (400), at most one Origin
// (400) and one the policy allows (403). List headers (Upgrade, Connection)
// may come as several fields and are matched by token, case-insensitively.
UpgradeVerdict check_upgrade(const UpgradeRequest& request, const OriginPolicy& origins);

// Every value of the fields named `name` (case-insensitive), in order.
std::vector<std::string_view> field_values(const std::vector<HeaderField>& fields, std::string_view name);
// Whether a comma-separated list (over several values) holds `token`,
// case-insensitively.
bool has_token(const std::vector<std::string_view>& values, std::string_view token);
// Standard base64 with padding (RFC 4648 §4); nullopt for anything else.
std::optional<std::string> decode_base64(std::string_view text);

}  // namespace parley::server
