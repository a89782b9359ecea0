// Client addresses behind reverse proxies: IP addresses, CIDR ranges, the
// list of trusted proxies, and the Forwarded (RFC 7239) and X-Forwarded-For
// headers they add. Pure: no sockets, no Boost; unit-tested on their own.
//
// Only a trusted proxy is believed: when the TCP peer is one, the hops its
// header lists are walked from the right (the hop the peer itself added)
// over further trusted proxies; the first untrusted hop is the client. A hop
// that is not an address ("unknown", an obfuscated name, garbage) stops the
// walk at the proxy that reported it, so a client can never choose the
// address it is counted under.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::server {

// An IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what
// a dual-stack listener sees for IPv4 peers) are held as IPv4.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4

  // A dotted quad (no leading zeros) or an IPv6 address in RFC 4291 text
  // form, without brackets or zone.
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress from_v4(const std::array<std::uint8_t, 4>& b);
  static IpAddress from_v6(const std::array<std::uint8_t, 16>& b);

  std::string to_string() const;
  bool operator==(const IpAddress& o) const { return v6 == o.v6 && bytes == o.bytes; }
  bool operator!=(const IpAddress& o) const { return !(*this == o); }
};

// An address range: "10.0.0.0/8", "2001:db8::/32", or one address ("::1").
struct CidrRange {
  IpAddress base;
  unsigned prefix = 0;  // bits

  // nullopt, with `error` set, for anything else (a prefix too long, host
  // bits set below the prefix, a malformed address).
  static std::optional<CidrRange> parse(std::string_view text, std::string& error);
  bool contains(const IpAddress& address) const;
};

// The reverse proxies whose forwarding headers are believed.
class ProxyList {
 public:
  // A comma-separated list of addresses and ranges ("" is none).
  static std::optional<ProxyList> parse(std::string_view list, std::string& error);
  bool contains(const IpAddress& address) const;
  bool empty() const { return ranges_.empty(); }
  const std::vector<CidrRange>& ranges() const { return ranges_; }

 private:
  std::vector<CidrRange> ranges_;
};

// Which header the trusted proxies maintain. Only one is read: a proxy that
// appends to one passes the other through untouched, so reading both would
// let a client write its own address.
enum class ProxyHeader : std::uint8_t { x_forwarded_for, forwarded };

// One hop of a forwarding header: its address, or nullopt when the proxy
// did not give one ("unknown", an obfuscated identifier, a malformed value).
using Hop = std::optional<IpAddress>;

// The hops of one X-Forwarded-For field value, left (client) to right (the
// nearest proxy). Elements are addresses, optionally with a port
// ("192.0.2.1:4711", "[2001:db8::1]:4711") or brackets; empty elements are
// skipped (RFC 9110 lists).
std::vector<Hop> parse_x_forwarded_for(std::string_view value);
// The hops of one Forwarded field value (RFC 7239): the `for` parameter of
// each element (token or quoted string; IPv6 in brackets; optional port).
// An element without exactly one `for` is a hop without an address; a value
// that is not valid syntax at all is one such hop.
std::vector<Hop> parse_forwarded(std::string_view value);

// The address the per-address limits count a connection under. `values` are
// the request's field values of `header`, in the order they came.
IpAddress client_address(const IpAddress& peer, const ProxyList& trusted, ProxyHeader header,
                         const std::vector<std::string_view>& values);

}  // namespace parley::server
