#include "bus/redis_address.hpp"

#include <sys/un.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace parley::server::redis {

namespace {

constexpr std::string_view kForms = "redis://host:port or redis+unix:///absolute/path.sock";

[[noreturn]] void refuse(const std::string& why) {
  throw std::invalid_argument("bad Redis URL: " + why + " (expected " + std::string(kForms) + ")");
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX escapes, for user and password (which may hold @ : / as %40 %3A %2F).
// The message never shows the text: it may be the password.
std::string percent_decoded(std::string_view text, const char* what) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (high < 0 || low < 0) refuse(std::string("the ") + what + " has a % not followed by two hex digits");
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

// Digits only, at most `max`.
bool parse_number(std::string_view text, long max, long& out) {
  if (text.empty() || text.size() > 10) return false;
  long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  if (value > max) return false;
  out = value;
  return true;
}

// A DNS name has at most 253 characters.
bool is_host_name(std::string_view host) {
  return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
  });
}

bool is_ipv6_literal(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == ':' || c == '.';
  });
}

void parse_userinfo(std::string_view userinfo, Address& address) {
  auto colon = userinfo.find(':');
  if (colon == std::string_view::npos) {
    refuse("a user without a password (write redis://user:password@host, or redis://:password@host)");
  }
  address.user = percent_decoded(userinfo.substr(0, colon), "user");
  address.password = percent_decoded(userinfo.substr(colon + 1), "password");
  if (address.password.empty()) refuse("an empty password");
}

void parse_host_port(std::string_view authority, Address& address) {
  if (authority.empty()) refuse("no host");
  std::string_view port;
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) refuse("an IPv6 address without its closing ]");
    address.host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') refuse("text after the IPv6 address");
    if (!is_ipv6_literal(address.host)) refuse("a bad IPv6 address");
    if (!after.empty()) port = after.substr(1);
    if (!after.empty() && port.empty()) refuse("an empty port");
  } else {
    auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
      refuse("an IPv6 address goes in brackets: redis://[::1]:6379");
    }
    address.host = authority.substr(0, colon);
    if (!is_host_name(address.host)) refuse("a bad host name '" + address.host + "'");
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) refuse("an empty port");
    }
  }
  if (!port.empty()) {
    long number = 0;
    if (!parse_number(port, 65535, number) || number == 0) {
      refuse("the port '" + std::string(port) + "' is not a number from 1 to 65535");
    }
    address.port = static_cast<std::uint16_t>(number);
  }
}

}  // namespace

Address Address::parse(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) refuse("no scheme");
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  Address address;
  if (scheme == "redis+unix" || scheme == "unix") {
    address.kind = Kind::unix_socket;
  } else if (scheme == "rediss") {
    refuse("TLS (rediss://) is not supported");
  } else if (scheme != "redis") {
    refuse("the scheme '" + scheme + "://' is not Redis's");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    refuse("a query or fragment (? or #; percent-encode them in a password)");
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(authority.size());
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    parse_userinfo(authority.substr(0, at), address);
    authority = authority.substr(at + 1);
  }

  if (address.kind == Kind::unix_socket) {
    if (!authority.empty()) refuse("a host in a Unix socket URL (three slashes: redis+unix:///path.sock)");
    if (path.size() <= 1) refuse("an empty Unix socket path");
    if (path.find('\0') != std::string_view::npos) refuse("a NUL in the Unix socket path");
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      refuse("a Unix socket path longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
    }
    address.path = path;
    return address;
  }

  // An @ past the host: a password holding a / that was not encoded. The
  // host and port parsed from it would be pieces of the password.
  if (path.find('@') != std::string_view::npos) refuse("an @ after the host (percent-encode / as %2F in a password)");
  parse_host_port(authority, address);
  if (path.size() > 1) {
    long db = 0;
    if (!parse_number(path.substr(1), 1'000'000, db)) {
      refuse("the path '" + std::string(path) + "' is not a database number");
    }
    address.db = static_cast<int>(db);
  }
  return address;
}

std::string Address::describe() const {
  if (kind == Kind::unix_socket) return "redis+unix://" + path;
  std::string text = "redis://";
  if (!user.empty()) text += user + "@";
  text += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  text += ":" + std::to_string(port);
  if (db != 0) text += "/" + std::to_string(db);
  return text;
}

}  // namespace parley::server::redis
