#include "client_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace parley::server {

namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A port: 1 to 5 digits up to 65535, or an obfuscated one ("_abc", RFC 7239 §6.3).
bool valid_port(std::string_view p) {
  if (p.size() >= 2 && p[0] == '_') {
    return std::all_of(p.begin() + 1, p.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
             c == '-';
    });
  }
  if (!all_digits(p) || p.size() > 5) return false;
  return std::stoul(std::string(p)) <= 65535;
}

// A node of a forwarding header: an address with an optional port, IPv6 in
// brackets (bare IPv6 only where `bare_v6` allows it: X-Forwarded-For).
Hop parse_node(std::string_view s, bool bare_v6) {
  if (s.empty()) return std::nullopt;
  if (s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    auto rest = s.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !valid_port(rest.substr(1)))) return std::nullopt;
    auto inner = s.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos) return std::nullopt;  // "[192.0.2.1]"
    return IpAddress::parse(inner);
  }
  auto colons = std::count(s.begin(), s.end(), ':');
  if (colons == 1) {
    auto colon = s.find(':');
    if (!valid_port(s.substr(colon + 1))) return std::nullopt;
    auto a = IpAddress::parse(s.substr(0, colon));
    if (a && a->v6) return std::nullopt;
    return a;
  }
  if (colons > 1 && !bare_v6) return std::nullopt;
  return IpAddress::parse(s);
}

bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

// An unquoted value: a token, leniently with ':' '[' ']' (IPv4 with a port
// is often sent unquoted); never a separator of the list or the element.
bool is_bare_value_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 45 || text.find('\0') != std::string_view::npos) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (text.find(':') == std::string_view::npos) {
    std::array<std::uint8_t, 4> b{};
    if (inet_pton(AF_INET, buf, b.data()) != 1) return std::nullopt;
    return from_v4(b);
  }
  std::array<std::uint8_t, 16> b{};
  if (inet_pton(AF_INET6, buf, b.data()) != 1) return std::nullopt;
  return from_v6(b);
}

IpAddress IpAddress::from_v4(const std::array<std::uint8_t, 4>& b) {
  IpAddress a;
  std::copy(b.begin(), b.end(), a.bytes.begin());
  return a;
}

IpAddress IpAddress::from_v6(const std::array<std::uint8_t, 16>& b) {
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), b.begin())) return from_v4({b[12], b[13], b[14], b[15]});
  IpAddress a;
  a.v6 = true;
  a.bytes = b;
  return a;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf)) return "unknown";
  return buf;
}

std::optional<CidrRange> CidrRange::parse(std::string_view text, std::string& error) {
  auto slash = text.find('/');
  auto address_text = text.substr(0, slash);
  auto base = IpAddress::parse(address_text);
  if (!base) {
    error = "not an IPv4 or IPv6 address: " + std::string(address_text);
    return std::nullopt;
  }
  bool written_v6 = address_text.find(':') != std::string_view::npos;
  unsigned written_bits = written_v6 ? 128 : 32;
  unsigned prefix = written_bits;
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    if (!all_digits(p) || p.size() > 3 || std::stoul(std::string(p)) > written_bits) {
      error = "the prefix length of " + std::string(text) + " is not 0 to " + std::to_string(written_bits);
      return std::nullopt;
    }
    prefix = static_cast<unsigned>(std::stoul(std::string(p)));
  }
  if (written_v6 && !base->v6) {
    // An IPv4-mapped range (::ffff:10.0.0.0/104) is the IPv4 range it maps.
    if (prefix < 96) {
      error = std::string(text) + " mixes IPv4-mapped and other IPv6 addresses; write IPv4 ranges as IPv4";
      return std::nullopt;
    }
    prefix -= 96;
  }
  CidrRange r{*base, prefix};
  unsigned bits = base->v6 ? 128 : 32;
  for (unsigned i = prefix; i < bits; ++i) {
    if (base->bytes[i / 8] & (0x80 >> (i % 8))) {
      CidrRange masked = r;
      for (unsigned j = prefix; j < bits; ++j)
        masked.base.bytes[j / 8] &= static_cast<std::uint8_t>(~(0x80 >> (j % 8)));
      error = std::string(text) + " has bits set past its prefix length; did you mean " + masked.base.to_string() +
              "/" + std::to_string(prefix) + "?";
      return std::nullopt;
    }
  }
  return r;
}

bool CidrRange::contains(const IpAddress& a) const {
  if (a.v6 != base.v6) return false;
  unsigned full = prefix / 8;
  if (!std::equal(base.bytes.begin(), base.bytes.begin() + full, a.bytes.begin())) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (base.bytes[full] & mask) == (a.bytes[full] & mask);
}

std::optional<ProxyList> ProxyList::parse(std::string_view list, std::string& error) {
  ProxyList out;
  if (trim(list).empty()) return out;
  for (;;) {
    auto comma = list.find(',');
    auto item = trim(list.substr(0, comma));
    if (item.empty()) {
      error = "an empty entry in the list";
      return std::nullopt;
    }
    auto range = CidrRange::parse(item, error);
    if (!range) return std::nullopt;
    out.ranges_.push_back(*range);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

bool ProxyList::contains(const IpAddress& address) const {
  return std::any_of(ranges_.begin(), ranges_.end(), [&](const CidrRange& r) { return r.contains(address); });
}

std::vector<Hop> parse_x_forwarded_for(std::string_view value) {
  std::vector<Hop> hops;
  for (;;) {
    auto comma = value.find(',');
    auto item = trim(value.substr(0, comma));
    if (!item.empty()) hops.push_back(parse_node(item, true));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return hops;
}

std::vector<Hop> parse_forwarded(std::string_view value) {
  const std::vector<Hop> malformed{std::nullopt};
  std::vector<Hop> hops;
  std::size_t i = 0;
  const std::size_t n = value.size();
  auto skip_ows = [&] {
    while (i < n && is_ows(value[i])) ++i;
  };
  for (;;) {  // one element
    std::optional<std::string> for_value;
    bool duplicate_for = false;
    bool empty = true;
    for (;;) {  // one pair
      skip_ows();
      if (i < n && value[i] != ',' && value[i] != ';') {
        std::size_t start = i;
        while (i < n && is_tchar(value[i])) ++i;
        if (i == start || i >= n || value[i] != '=') return malformed;
        std::string name(value.substr(start, i - start));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        ++i;  // '='
        std::string v;
        if (i < n && value[i] == '"') {
          ++i;
          bool closed = false;
          while (i < n && !closed) {
            char c = value[i++];
            auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\t') || u == 0x7f) return malformed;
            if (c == '"') {
              closed = true;
            } else if (c == '\\') {
              if (i >= n) return malformed;
              v.push_back(value[i++]);
            } else {
              v.push_back(c);
            }
          }
          if (!closed) return malformed;
        } else {
          std::size_t vstart = i;
          while (i < n && is_bare_value_char(value[i])) ++i;
          if (i == vstart) return malformed;
          v = std::string(value.substr(vstart, i - vstart));
        }
        if (name == "for") {
          duplicate_for = duplicate_for || for_value.has_value();
          for_value = std::move(v);
        }
        empty = false;
      }
      skip_ows();
      if (i < n && value[i] == ';') {
        ++i;
        empty = false;
        continue;
      }
      break;
    }
    if (i < n && value[i] != ',') return malformed;
    if (!empty) hops.push_back(for_value && !duplicate_for ? parse_node(*for_value, false) : std::nullopt);
    if (i >= n) break;
    ++i;  // ','
  }
  return hops;
}

IpAddress client_address(const IpAddress& peer, const ProxyList& trusted, ProxyHeader header,
                         const std::vector<std::string_view>& values) {
  if (!trusted.contains(peer)) return peer;
  std::vector<Hop> hops;
  for (auto v : values) {
    auto more = header == ProxyHeader::forwarded ? parse_forwarded(v) : parse_x_forwarded_for(v);
    hops.insert(hops.end(), more.begin(), more.end());
  }
  IpAddress nearest = peer;  // the last trusted proxy seen
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    if (!*it) return nearest;  // a proxy we trust could not say who came before it
    if (!trusted.contains(**it)) return **it;
    nearest = **it;
  }
  return nearest;  // every hop is a trusted proxy: the first one is the client
}

}  // namespace parley::server
