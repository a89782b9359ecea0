#include "handshake.hpp"

#include <algorithm>

#include "client_address.hpp"

namespace parley::server {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct Origin {
  std::string scheme;
  std::string host;
  std::string port;  // empty: the scheme's default
};

bool valid_scheme(std::string_view s) {
  if (s.empty() || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
  });
}

bool valid_reg_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
  });
}

// scheme://host[:port], lowercased, the default port of http(s)/ws(s) dropped.
// `wildcard_host` lets the host start with "*." (configuration only).
std::optional<Origin> parse_origin(std::string_view text, bool wildcard_host, std::string& error) {
  std::string s = lowered(text);
  auto sep = s.find("://");
  if (sep == std::string::npos || !valid_scheme(std::string_view(s).substr(0, sep))) {
    error = "an origin is scheme://host[:port]";
    return std::nullopt;
  }
  Origin o;
  o.scheme = s.substr(0, sep);
  std::string_view rest = std::string_view(s).substr(sep + 3);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    error = "an origin has no path, query or user (write scheme://host[:port])";
    return std::nullopt;
  }
  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    auto inner = close == std::string_view::npos ? std::string_view() : rest.substr(1, close - 1);
    auto address = IpAddress::parse(inner);
    if (!address || !address->v6) {
      error = "a bracketed host must be an IPv6 address";
      return std::nullopt;
    }
    host = rest.substr(0, close + 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      error = "unexpected text after the host";
      return std::nullopt;
    }
    port = rest.empty() ? rest : rest.substr(1);
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    port = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    std::string_view name = host;
    if (wildcard_host && name.substr(0, 2) == "*.") name.remove_prefix(2);
    if (!valid_reg_name(name) || name.front() == '.' || name.back() == '.' ||
        name.find("..") != std::string_view::npos) {
      error = "not a host name: " + std::string(host);
      return std::nullopt;
    }
  }
  if (port.size() > 5 ||
      (!port.empty() && !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) ||
      (!port.empty() && std::stoul(std::string(port)) > 65535) ||
      (rest.find(':') != std::string_view::npos && port.empty())) {
    error = "not a port: " + std::string(port);
    return std::nullopt;
  }
  o.host = std::string(host);
  o.port = std::string(port);
  bool web = o.scheme == "http" || o.scheme == "ws";
  bool secure = o.scheme == "https" || o.scheme == "wss";
  if ((web && o.port == "80") || (secure && o.port == "443")) o.port.clear();
  return o;
}

UpgradeVerdict refuse(int status, std::string reason, std::vector<std::pair<std::string, std::string>> headers = {}) {
  UpgradeVerdict v;
  v.status = status;
  v.reason = std::move(reason) + "\n";
  v.headers = std::move(headers);
  return v;
}

}  // namespace

std::optional<OriginPolicy> OriginPolicy::parse(std::string_view list, std::string& error) {
  OriginPolicy policy;
  if (trim(list) == "*") return policy;
  if (trim(list).empty()) {
    error = "the list is empty (use * for every origin)";
    return std::nullopt;
  }
  policy.any_ = false;
  for (;;) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (item.empty()) {
      error = "an empty entry in the list";
      return std::nullopt;
    }
    if (item == "*") {
      policy.any_ = true;
    } else if (iequals(item, "null")) {
      Pattern p;
      p.null_origin = true;
      policy.patterns_.push_back(p);
    } else {
      std::string why;
      auto o = parse_origin(item, true, why);
      if (!o) {
        error = std::string(item) + ": " + why;
        return std::nullopt;
      }
      Pattern p;
      p.scheme = o->scheme;
      p.port = o->port;
      p.wildcard = o->host.rfind("*.", 0) == 0;
      p.host = p.wildcard ? o->host.substr(1) : o->host;  // "*.example.com" keeps ".example.com"
      policy.patterns_.push_back(p);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return policy;
}

bool OriginPolicy::allows(std::string_view origin) const {
  if (any_) return true;
  origin = trim(origin);
  if (iequals(origin, "null")) {
    return std::any_of(patterns_.begin(), patterns_.end(), [](const Pattern& p) { return p.null_origin; });
  }
  std::string ignored;
  auto o = parse_origin(origin, false, ignored);
  if (!o) return false;
  return std::any_of(patterns_.begin(), patterns_.end(), [&](const Pattern& p) {
    if (p.null_origin || p.scheme != o->scheme || p.port != o->port) return false;
    return p.wildcard ? o->host.size() > p.host.size() && ends_with(o->host, p.host) : o->host == p.host;
  });
}

std::vector<std::string_view> field_values(const std::vector<HeaderField>& fields, std::string_view name) {
  std::vector<std::string_view> out;
  for (const auto& f : fields) {
    if (iequals(f.name, name)) out.push_back(f.value);
  }
  return out;
}

bool has_token(const std::vector<std::string_view>& values, std::string_view token) {
  for (auto value : values) {
    for (;;) {
      auto comma = value.find(',');
      auto item = trim(value.substr(0, comma));
      if (!item.empty() && iequals(item, token)) return true;
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return false;
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  if (padding == 1 && text.size() >= 2 && text[text.size() - 2] == '=') return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size() - padding; ++i) {
    int v = value(text[i]);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

UpgradeVerdict check_upgrade(const UpgradeRequest& req, const OriginPolicy& origins) {
  if (req.method != "GET") {
    return refuse(405, "the WebSocket endpoint takes GET requests only", {{"Allow", "GET"}});
  }
  if (req.version < 11) return refuse(400, "a WebSocket upgrade needs HTTP/1.1 or later");
  auto upgrade = field_values(req.fields, "upgrade");
  if (!has_token(upgrade, "websocket")) {
    return refuse(426,
                  upgrade.empty() ? "this is a WebSocket endpoint: send an upgrade request (Upgrade: websocket)"
                                  : "the Upgrade header must name websocket",
                  {{"Upgrade", "websocket"}});
  }
  if (!has_token(field_values(req.fields, "connection"), "upgrade")) {
    return refuse(400, "the Connection header must include Upgrade");
  }
  auto host = field_values(req.fields, "host");
  if (host.empty()) return refuse(400, "missing Host header");
  if (host.size() > 1) return refuse(400, "more than one Host header");
  if (trim(host[0]).empty()) return refuse(400, "empty Host header");
  if (req.has_body) return refuse(400, "an upgrade request has no body");

  const std::pair<std::string, std::string> supported{"Sec-WebSocket-Version", "13"};
  auto version = field_values(req.fields, "sec-websocket-version");
  if (version.empty()) return refuse(426, "missing Sec-WebSocket-Version: this server speaks version 13", {supported});
  if (version.size() > 1) {
    return refuse(426, "more than one Sec-WebSocket-Version header: this server speaks version 13", {supported});
  }
  if (trim(version[0]) != "13") {
    auto v = trim(version[0]);
    bool printable =
        !v.empty() && v.size() <= 3 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    return refuse(426,
                  (printable ? "WebSocket version " + std::string(v) : std::string("this WebSocket version")) +
                      " is not supported: this server speaks version 13",
                  {supported});
  }

  auto key = field_values(req.fields, "sec-websocket-key");
  if (key.empty()) return refuse(400, "missing Sec-WebSocket-Key");
  if (key.size() > 1) return refuse(400, "more than one Sec-WebSocket-Key header");
  auto decoded = decode_base64(trim(key[0]));
  if (!decoded) return refuse(400, "Sec-WebSocket-Key is not base64");
  if (decoded->size() != 16) {
    return refuse(
        400, "Sec-WebSocket-Key must be 16 bytes in base64; this one is " + std::to_string(decoded->size()) + " bytes");
  }

  auto origin = field_values(req.fields, "origin");
  if (origin.size() > 1) return refuse(400, "more than one Origin header");
  if (!origin.empty() && !origins.allows(origin[0])) {
    auto shown = trim(origin[0]).substr(0, 200);
    return refuse(403, "the origin " + std::string(shown) + " may not connect to this server (--allowed-origins)");
  }

  UpgradeVerdict ok;
  ok.key = std::string(trim(key[0]));
  return ok;
}

}  // namespace parley::server
