// Client addresses behind proxies, as pure functions: IP addresses, CIDR
// ranges, trusted proxy lists, X-Forwarded-For and Forwarded (RFC 7239), and
// the walk that picks the client. The rule under test everywhere: a client
// never chooses the address it is counted under, whatever it writes.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "client_address.hpp"

namespace parley::server {
namespace {

IpAddress ip(const std::string& text) {
  auto a = IpAddress::parse(text);
  if (!a) ADD_FAILURE() << "not an address: " << text;
  return a.value_or(IpAddress{});
}

ProxyList proxies(const std::string& list) {
  std::string error;
  auto p = ProxyList::parse(list, error);
  if (!p) ADD_FAILURE() << list << ": " << error;
  return p.value_or(ProxyList{});
}

std::string cidr_error(const std::string& text) {
  std::string error;
  auto r = CidrRange::parse(text, error);
  EXPECT_FALSE(r) << text << " was accepted";
  return error;
}

bool in_range(const std::string& range, const std::string& address) {
  std::string error;
  auto r = CidrRange::parse(range, error);
  if (!r) {
    ADD_FAILURE() << range << ": " << error;
    return false;
  }
  return r->contains(ip(address));
}

// The hops as text ("-" for a hop without an address).
std::vector<std::string> texts(const std::vector<Hop>& hops) {
  std::vector<std::string> out;
  for (const auto& h : hops) out.push_back(h ? h->to_string() : "-");
  return out;
}

using V = std::vector<std::string>;

// ---- addresses

TEST(IpAddress, ParsesIPv4AndIPv6) {
  EXPECT_EQ(ip("192.0.2.1").to_string(), "192.0.2.1");
  EXPECT_FALSE(ip("192.0.2.1").v6);
  EXPECT_EQ(ip("2001:db8::1").to_string(), "2001:db8::1");
  EXPECT_TRUE(ip("2001:db8::1").v6);
  EXPECT_EQ(ip("2001:DB8:0:0:0:0:0:1").to_string(), "2001:db8::1");
  EXPECT_EQ(ip("::").to_string(), "::");
  EXPECT_EQ(ip("::1").to_string(), "::1");
  EXPECT_EQ(ip("0.0.0.0").to_string(), "0.0.0.0");
  EXPECT_EQ(ip("255.255.255.255").to_string(), "255.255.255.255");
}

TEST(IpAddress, MappedIPv4IsIPv4) {
  IpAddress a = ip("::ffff:192.0.2.1");
  EXPECT_FALSE(a.v6);
  EXPECT_EQ(a, ip("192.0.2.1"));
  EXPECT_EQ(a.to_string(), "192.0.2.1");
  EXPECT_EQ(IpAddress::from_v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}), ip("10.0.0.1"));
  EXPECT_TRUE(ip("::192.0.2.1").v6) << "IPv4-compatible (deprecated) is not mapped";
}

TEST(IpAddress, RefusesEverythingElse) {
  for (const char* bad : {"",
                          " 192.0.2.1",
                          "192.0.2.1 ",
                          "192.0.2",
                          "192.0.2.1.5",
                          "256.0.0.1",
                          "192.0.2.-1",
                          "a.b.c.d",
                          "192.0.2.1/32",
                          "0x7f.0.0.1",
                          "2001:db8:::1",
                          "12345::",
                          "2001:db8::1%eth0",
                          "[::1]",
                          "::1]",
                          "1:2:3:4:5:6:7:8:9",
                          "unknown",
                          "_hidden",
                          "localhost",
                          "0000:0000:0000:0000:0000:ffff:255.255.255.255x"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << "'" << bad << "'";
  }
  EXPECT_FALSE(IpAddress::parse(std::string(1000, '1')));
  EXPECT_FALSE(IpAddress::parse(std::string("1.2.3.4\0", 8)));
}

// ---- ranges

TEST(CidrRange, ContainsWhatItsPrefixCovers) {
  EXPECT_TRUE(in_range("10.0.0.0/8", "10.255.1.2"));
  EXPECT_FALSE(in_range("10.0.0.0/8", "11.0.0.0"));
  EXPECT_TRUE(in_range("192.168.0.0/23", "192.168.1.255"));
  EXPECT_FALSE(in_range("192.168.0.0/23", "192.168.2.0"));
  EXPECT_TRUE(in_range("0.0.0.0/0", "203.0.113.9"));
  EXPECT_FALSE(in_range("0.0.0.0/0", "2001:db8::1")) << "families never mix";
  EXPECT_TRUE(in_range("::/0", "2001:db8::1"));
  EXPECT_FALSE(in_range("::/0", "192.0.2.1"));
  EXPECT_TRUE(in_range("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(in_range("2001:db8::/32", "2001:db9::"));
  EXPECT_TRUE(in_range("2001:db8::/127", "2001:db8::1"));
  EXPECT_FALSE(in_range("2001:db8::/127", "2001:db8::2"));
  EXPECT_TRUE(in_range("192.0.2.7", "192.0.2.7")) << "an address alone is a /32";
  EXPECT_FALSE(in_range("192.0.2.7", "192.0.2.8"));
  EXPECT_TRUE(in_range("::1", "::1"));
  EXPECT_FALSE(in_range("::1", "::2"));
  EXPECT_TRUE(in_range("::ffff:10.0.0.0/104", "10.1.2.3")) << "an IPv4-mapped range is its IPv4 range";
  EXPECT_TRUE(in_range("::ffff:10.0.0.0/104", "::ffff:10.1.2.3"));
  EXPECT_FALSE(in_range("::ffff:10.0.0.0/104", "11.0.0.1"));
}

TEST(CidrRange, RefusesMalformedRangesWithAReason) {
  EXPECT_NE(cidr_error("10.0.0.0/33").find("0 to 32"), std::string::npos);
  EXPECT_NE(cidr_error("2001:db8::/129").find("0 to 128"), std::string::npos);
  EXPECT_NE(cidr_error("10.0.0.1/8").find("did you mean 10.0.0.0/8?"), std::string::npos);
  EXPECT_NE(cidr_error("192.168.1.10/2").find("did you mean 192.0.0.0/2?"), std::string::npos)
      << "a typo for /24 must not silently trust a quarter of the Internet";
  EXPECT_NE(cidr_error("2001:db8::1/64").find("2001:db8::/64"), std::string::npos);
  EXPECT_NE(cidr_error("10.0.0.300/8").find("not an IPv4 or IPv6 address"), std::string::npos);
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0/ 8",
                          "10.0.0.0/1000", "10.0.0.0/8x", "::ffff:10.0.0.0/64", "example.com/8"}) {
    cidr_error(bad);
  }
}

TEST(ProxyList, ParsesACommaSeparatedList) {
  ProxyList none = proxies("");
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.contains(ip("127.0.0.1")));
  ProxyList list = proxies(" 10.0.0.0/8 , ::1,192.0.2.7");
  EXPECT_EQ(list.ranges().size(), 3u);
  EXPECT_TRUE(list.contains(ip("10.9.8.7")));
  EXPECT_TRUE(list.contains(ip("::1")));
  EXPECT_TRUE(list.contains(ip("192.0.2.7")));
  EXPECT_FALSE(list.contains(ip("192.0.2.8")));
  EXPECT_FALSE(list.contains(ip("::2")));
  std::string error;
  EXPECT_FALSE(ProxyList::parse("10.0.0.0/8,,::1", error));
  EXPECT_NE(error.find("empty entry"), std::string::npos);
  EXPECT_FALSE(ProxyList::parse("10.0.0.0/8,", error));
  EXPECT_FALSE(ProxyList::parse("10.0.0.0/8 ::1", error)) << "a space is not a separator";
  EXPECT_FALSE(ProxyList::parse("proxy.internal", error));
}

// ---- X-Forwarded-For

TEST(XForwardedFor, ListsHopsFromClientToNearestProxy) {
  EXPECT_EQ(texts(parse_x_forwarded_for("203.0.113.7")), V{"203.0.113.7"});
  EXPECT_EQ(texts(parse_x_forwarded_for("203.0.113.7, 10.0.0.1")), (V{"203.0.113.7", "10.0.0.1"}));
  EXPECT_EQ(texts(parse_x_forwarded_for("  203.0.113.7 ,\t10.0.0.1  ")), (V{"203.0.113.7", "10.0.0.1"}));
  EXPECT_EQ(texts(parse_x_forwarded_for("2001:db8::1")), V{"2001:db8::1"});
  EXPECT_EQ(texts(parse_x_forwarded_for("[2001:db8::1]")), V{"2001:db8::1"});
  EXPECT_EQ(texts(parse_x_forwarded_for("[2001:db8::1]:443")), V{"2001:db8::1"});
  EXPECT_EQ(texts(parse_x_forwarded_for("203.0.113.7:8080")), V{"203.0.113.7"});
  EXPECT_EQ(texts(parse_x_forwarded_for("::ffff:203.0.113.7")), V{"203.0.113.7"});
  EXPECT_TRUE(parse_x_forwarded_for("").empty());
  EXPECT_TRUE(parse_x_forwarded_for(" , ,, ").empty()) << "empty list elements are skipped";
  EXPECT_EQ(texts(parse_x_forwarded_for("203.0.113.7,,10.0.0.1,")), (V{"203.0.113.7", "10.0.0.1"}));
}

TEST(XForwardedFor, ElementsThatAreNotAddressesAreHopsWithoutOne) {
  for (const char* bad : {"unknown", "_hidden", "garbage", "203.0.113.7:", "203.0.113.7:99999", "203.0.113.7:http",
                          "[203.0.113.7]", "[2001:db8::1", "2001:db8::1]", "[2001:db8::1]x", "[2001:db8::1]:",
                          "203.0.113.7 10.0.0.1", "\"203.0.113.7\"", "for=203.0.113.7", "1.2.3.4:5:6"}) {
    EXPECT_EQ(texts(parse_x_forwarded_for(bad)), V{"-"}) << bad;
  }
  EXPECT_EQ(texts(parse_x_forwarded_for("garbage, 203.0.113.7")), (V{"-", "203.0.113.7"}));
}

// ---- Forwarded (RFC 7239)

TEST(Forwarded, ReadsTheForParameterOfEachElement) {
  // The examples of RFC 7239 §4 and §7.
  EXPECT_EQ(texts(parse_forwarded("for=\"_gazonk\"")), V{"-"});
  EXPECT_EQ(texts(parse_forwarded("For=\"[2001:db8:cafe::17]:4711\"")), V{"2001:db8:cafe::17"});
  EXPECT_EQ(texts(parse_forwarded("for=192.0.2.60;proto=http;by=203.0.113.43")), V{"192.0.2.60"});
  EXPECT_EQ(texts(parse_forwarded("for=192.0.2.43, for=198.51.100.17")), (V{"192.0.2.43", "198.51.100.17"}));
  EXPECT_EQ(texts(parse_forwarded("for=192.0.2.43,for=\"[2001:db8:cafe::17]\",for=unknown")),
            (V{"192.0.2.43", "2001:db8:cafe::17", "-"}));
  EXPECT_EQ(texts(parse_forwarded("for=\"192.0.2.43:47011\"")), V{"192.0.2.43"});
  EXPECT_EQ(texts(parse_forwarded("for=\"[2001:db8:cafe::17]:_port\"")), V{"2001:db8:cafe::17"});
  // Leniency real proxies need: an unquoted IPv4 with a port, spaces around ';'.
  EXPECT_EQ(texts(parse_forwarded("for=192.0.2.43:47011")), V{"192.0.2.43"});
  EXPECT_EQ(texts(parse_forwarded("proto=https ; for=192.0.2.43 ;by=10.0.0.1")), V{"192.0.2.43"});
  EXPECT_EQ(texts(parse_forwarded("FOR=192.0.2.43")), V{"192.0.2.43"});
  EXPECT_EQ(texts(parse_forwarded(", for=192.0.2.43 ,, ")), V{"192.0.2.43"}) << "empty elements are skipped";
  // A comma in a quoted string does not end the element.
  EXPECT_EQ(texts(parse_forwarded("for=\"a,b\", for=192.0.2.43")), (V{"-", "192.0.2.43"}));
  EXPECT_EQ(texts(parse_forwarded("for=\"\\192.0.2.43\"")), V{"192.0.2.43"}) << "a quoted-pair is its character";
}

TEST(Forwarded, ElementsWithoutExactlyOneAddressAreHopsWithoutOne) {
  EXPECT_EQ(texts(parse_forwarded("proto=https")), V{"-"});
  EXPECT_EQ(texts(parse_forwarded(";")), V{"-"});
  EXPECT_EQ(texts(parse_forwarded("for=192.0.2.1;for=192.0.2.2")), V{"-"}) << "for twice in one element";
  EXPECT_EQ(texts(parse_forwarded("for=\"\"")), V{"-"});
  EXPECT_EQ(texts(parse_forwarded("for=\"2001:db8::1\"")), V{"-"}) << "IPv6 must be bracketed";
  EXPECT_EQ(texts(parse_forwarded("for=\"[192.0.2.1]\"")), V{"-"});
  EXPECT_EQ(texts(parse_forwarded("for=\"192.0.2.1:99999\"")), V{"-"});
  EXPECT_EQ(texts(parse_forwarded("for=\"\\\"192.0.2.1\\\"\"")), V{"-"});
  EXPECT_EQ(texts(parse_forwarded("for=localhost")), V{"-"});
}

TEST(Forwarded, AValueThatIsNotValidSyntaxIsOneHopWithoutAnAddress) {
  for (const char* bad : {"for=\"192.0.2.1", "for=\"192.0.2.1\\", "for", "for=", "=192.0.2.1", "for =192.0.2.1",
                          "for= 192.0.2.1", "for=192.0.2.1 junk", "for=\"192.0.2.1\"junk", "f@r=192.0.2.1",
                          "for=192.0.2.1, for=\"oops", "for=\"a\x01\"", "for=a\"b"}) {
    EXPECT_EQ(texts(parse_forwarded(bad)), V{"-"}) << bad;
  }
}

// ---- the client address

TEST(ClientAddress, AnUntrustedPeerIsTheClientWhateverItSays) {
  ProxyList trusted = proxies("10.0.0.0/8");
  IpAddress peer = ip("198.51.100.9");
  EXPECT_EQ(client_address(peer, trusted, ProxyHeader::x_forwarded_for, {"203.0.113.7"}), peer);
  EXPECT_EQ(client_address(peer, trusted, ProxyHeader::forwarded, {"for=203.0.113.7"}), peer);
  EXPECT_EQ(client_address(peer, ProxyList{}, ProxyHeader::x_forwarded_for, {"203.0.113.7"}), peer);
}

TEST(ClientAddress, BehindTrustedProxiesTheFirstUntrustedHopFromTheRight) {
  ProxyList trusted = proxies("10.0.0.0/8, 2001:db8:ffff::/48");
  IpAddress proxy = ip("10.0.0.1");
  auto xff = [&](std::vector<std::string_view> values) {
    return client_address(proxy, trusted, ProxyHeader::x_forwarded_for, values).to_string();
  };
  EXPECT_EQ(xff({}), "10.0.0.1") << "no header: the proxy itself";
  EXPECT_EQ(xff({""}), "10.0.0.1");
  EXPECT_EQ(xff({"203.0.113.7"}), "203.0.113.7");
  EXPECT_EQ(xff({"203.0.113.7, 10.0.0.2"}), "203.0.113.7") << "a chain of trusted proxies";
  EXPECT_EQ(xff({"6.6.6.6, 203.0.113.7"}), "203.0.113.7") << "what the client wrote itself is left of its hop";
  EXPECT_EQ(xff({"6.6.6.6, 10.0.0.3, 203.0.113.7, 10.0.0.2"}), "203.0.113.7");
  EXPECT_EQ(xff({"10.0.0.3, 10.0.0.2"}), "10.0.0.3") << "all trusted: the first";
  EXPECT_EQ(xff({"6.6.6.6", "203.0.113.7"}), "203.0.113.7") << "several fields are one list, in order";
  EXPECT_EQ(xff({"2001:db8::7, 2001:db8:ffff::1"}), "2001:db8::7");
  EXPECT_EQ(xff({"[2001:db8::7]:4711"}), "2001:db8::7");
  EXPECT_EQ(xff({"::ffff:203.0.113.7"}), "203.0.113.7");
}

TEST(ClientAddress, AHopWithoutAnAddressStopsAtTheProxyThatReportedIt) {
  ProxyList trusted = proxies("10.0.0.0/8");
  IpAddress proxy = ip("10.0.0.1");
  auto xff = [&](std::vector<std::string_view> values) {
    return client_address(proxy, trusted, ProxyHeader::x_forwarded_for, values).to_string();
  };
  EXPECT_EQ(xff({"garbage"}), "10.0.0.1");
  EXPECT_EQ(xff({"unknown"}), "10.0.0.1");
  EXPECT_EQ(xff({"203.0.113.7, unknown"}), "10.0.0.1") << "never skipped over to a client-written hop";
  EXPECT_EQ(xff({"203.0.113.7, unknown, 10.0.0.2"}), "10.0.0.2");
  EXPECT_EQ(xff({"203.0.113.7, 10.0.0.2, garbage"}), "10.0.0.1");
  EXPECT_EQ(xff({"garbage, 203.0.113.7"}), "203.0.113.7") << "what lies left of the client does not matter";
}

TEST(ClientAddress, ForwardedHeader) {
  ProxyList trusted = proxies("10.0.0.0/8");
  IpAddress proxy = ip("10.0.0.1");
  auto fwd = [&](std::vector<std::string_view> values) {
    return client_address(proxy, trusted, ProxyHeader::forwarded, values).to_string();
  };
  EXPECT_EQ(fwd({"for=203.0.113.7;proto=https"}), "203.0.113.7");
  EXPECT_EQ(fwd({"for=\"[2001:db8::7]:4711\""}), "2001:db8::7");
  EXPECT_EQ(fwd({"for=6.6.6.6, for=203.0.113.7, for=10.0.0.2"}), "203.0.113.7");
  EXPECT_EQ(fwd({"for=_hidden"}), "10.0.0.1");
  EXPECT_EQ(fwd({"proto=https"}), "10.0.0.1");
  // A client's broken field cannot swallow the field its proxy added after it...
  EXPECT_EQ(fwd({"for=\"6.6.6.6", "for=203.0.113.7"}), "203.0.113.7");
  // ...and a broken field on the proxy's side is believed for nothing.
  EXPECT_EQ(fwd({"for=203.0.113.7", "for=\"6.6.6.6"}), "10.0.0.1");
  EXPECT_EQ(fwd({"for=\"6.6.6.6, for=203.0.113.7"}), "10.0.0.1") << "one field, broken: the proxy";
  // Only the configured header is read.
  EXPECT_EQ(client_address(proxy, trusted, ProxyHeader::forwarded, {}).to_string(), "10.0.0.1");
}

TEST(ClientAddress, HugeAndRandomHeadersNeverCrashAndNeverInventAnAddress) {
  ProxyList trusted = proxies("10.0.0.0/8, ::1");
  IpAddress proxy = ip("10.0.0.1");
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "10.0.0." + std::to_string(i % 250) + ", ";
  many += "203.0.113.7";
  EXPECT_EQ(client_address(proxy, trusted, ProxyHeader::x_forwarded_for, {many}).to_string(), "203.0.113.7");
  std::string deep(8192, ';');
  EXPECT_EQ(client_address(proxy, trusted, ProxyHeader::forwarded, {deep}), proxy);

  // Random values from the characters that matter: the result is the peer
  // or an address that was written in the header.
  std::mt19937 rng(12345);
  const std::string alphabet = "0123456789abcdef.:[]\",;= _\\fortunkwn\t";
  for (int round = 0; round < 20000; ++round) {
    std::string value;
    auto length = rng() % 60;
    for (std::size_t i = 0; i < length; ++i) value.push_back(alphabet[rng() % alphabet.size()]);
    for (auto header : {ProxyHeader::x_forwarded_for, ProxyHeader::forwarded}) {
      IpAddress got = client_address(proxy, trusted, header, {value});
      if (got == proxy) continue;
      auto hops = header == ProxyHeader::forwarded ? parse_forwarded(value) : parse_x_forwarded_for(value);
      bool listed = false;
      for (const auto& h : hops) listed = listed || (h && *h == got);
      EXPECT_TRUE(listed) << "'" << value << "' gave " << got.to_string();
    }
  }
}

}  // namespace
}  // namespace parley::server
