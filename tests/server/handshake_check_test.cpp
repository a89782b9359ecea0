// The opening handshake (RFC 6455 §4.2.1) and the Origin policy as pure
// functions: every refusal, its status, the headers it carries, and the
// order in which the checks run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "handshake.hpp"

namespace parley::server {
namespace {

const OriginPolicy kAny;

OriginPolicy origins(const std::string& list) {
  std::string error;
  auto p = OriginPolicy::parse(list, error);
  if (!p) ADD_FAILURE() << list << ": " << error;
  return p.value_or(OriginPolicy{});
}

std::string origin_error(const std::string& list) {
  std::string error;
  EXPECT_FALSE(OriginPolicy::parse(list, error)) << list << " was accepted";
  return error;
}

// A valid upgrade request; tests change it.
struct Request {
  std::string method = "GET";
  unsigned version = 11;
  std::vector<std::pair<std::string, std::string>> fields = {
      {"Host", "chat.example.com"},    {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
      {"Sec-WebSocket-Version", "13"},
  };
  bool has_body = false;

  Request& drop(const std::string& name) {
    std::vector<std::pair<std::string, std::string>> kept;
    for (auto& f : fields) {
      if (f.first != name) kept.push_back(f);
    }
    fields = kept;
    return *this;
  }
  Request& set(const std::string& name, const std::string& value) {
    drop(name);
    fields.emplace_back(name, value);
    return *this;
  }
  Request& add(const std::string& name, const std::string& value) {
    fields.emplace_back(name, value);
    return *this;
  }
  UpgradeVerdict check(const OriginPolicy& policy = kAny) const {
    UpgradeRequest r;
    r.method = method;
    r.version = version;
    for (const auto& [n, v] : fields) r.fields.push_back({n, v});
    r.has_body = has_body;
    return check_upgrade(r, policy);
  }
};

std::string header(const UpgradeVerdict& v, const std::string& name) {
  for (const auto& [n, value] : v.headers) {
    if (n == name) return value;
  }
  return "";
}

// ---- accepted

TEST(Handshake, AValidRequestIsAcceptedWithItsKey) {
  auto v = Request().check();
  EXPECT_TRUE(v.ok()) << v.status << " " << v.reason;
  EXPECT_EQ(v.key, "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(Handshake, TokensAreCaseInsensitiveAndMayStandInLists) {
  EXPECT_TRUE(Request().set("Upgrade", "WebSocket").check().ok());
  EXPECT_TRUE(Request().set("Connection", "keep-alive, Upgrade").check().ok()) << "Firefox sends this";
  EXPECT_TRUE(Request().set("Connection", "UPGRADE").check().ok());
  EXPECT_TRUE(Request().set("Upgrade", "h2c, websocket").check().ok());
  EXPECT_TRUE(Request().set("Upgrade", "h2c").add("Upgrade", "websocket").check().ok()) << "a list over two fields";
  EXPECT_TRUE(Request().set("Connection", "keep-alive").add("Connection", " Upgrade ").check().ok());
  EXPECT_TRUE(Request().drop("Sec-WebSocket-Version").add("sec-websocket-version", "13").check().ok())
      << "field names in any case";
  EXPECT_TRUE(Request()
                  .set("Sec-WebSocket-Version", " 13 ")
                  .set("Sec-WebSocket-Key", " dGhlIHNhbXBsZSBub25jZQ== ")
                  .check()
                  .ok());
  auto later = Request();
  later.version = 20;
  EXPECT_TRUE(later.check().ok()) << "HTTP/1.1 or later";
}

// ---- refused

TEST(Handshake, OnlyGet) {
  for (const char* method : {"POST", "HEAD", "PUT", "OPTIONS", "get"}) {
    auto r = Request();
    r.method = method;
    auto v = r.check();
    EXPECT_EQ(v.status, 405) << method;
    EXPECT_EQ(header(v, "Allow"), "GET");
  }
}

TEST(Handshake, HttpOneZeroIsRefused) {
  auto r = Request();
  r.version = 10;
  auto v = r.check();
  EXPECT_EQ(v.status, 400);
  EXPECT_NE(v.reason.find("HTTP/1.1"), std::string::npos) << v.reason;
}

TEST(Handshake, WithoutUpgradeWebsocketItIs426) {
  for (auto r : {Request().drop("Upgrade"), Request().set("Upgrade", "h2c"), Request().set("Upgrade", "websockets"),
                 Request().set("Upgrade", "")}) {
    auto v = r.check();
    EXPECT_EQ(v.status, 426);
    EXPECT_EQ(header(v, "Upgrade"), "websocket");
  }
}

TEST(Handshake, ConnectionMustNameUpgrade) {
  for (auto r : {Request().drop("Connection"), Request().set("Connection", "keep-alive"),
                 Request().set("Connection", "upgrades"), Request().set("Connection", "Upgrade-Insecure")}) {
    auto v = r.check();
    EXPECT_EQ(v.status, 400);
    EXPECT_NE(v.reason.find("Connection"), std::string::npos) << v.reason;
  }
}

TEST(Handshake, ExactlyOneNonEmptyHost) {
  EXPECT_EQ(Request().drop("Host").check().reason, "missing Host header\n");
  EXPECT_EQ(Request().add("Host", "evil.example").check().reason, "more than one Host header\n");
  EXPECT_EQ(Request().set("Host", " ").check().reason, "empty Host header\n");
  EXPECT_EQ(Request().drop("Host").check().status, 400);
}

TEST(Handshake, NoBody) {
  auto r = Request();
  r.has_body = true;
  EXPECT_EQ(r.check().status, 400);
}

TEST(Handshake, VersionThirteenOnly) {
  for (auto r : {Request().drop("Sec-WebSocket-Version"), Request().set("Sec-WebSocket-Version", "8"),
                 Request().set("Sec-WebSocket-Version", "12"), Request().set("Sec-WebSocket-Version", "13, 8"),
                 Request().set("Sec-WebSocket-Version", "013"), Request().set("Sec-WebSocket-Version", ""),
                 Request().add("Sec-WebSocket-Version", "13")}) {
    auto v = r.check();
    EXPECT_EQ(v.status, 426);
    EXPECT_EQ(header(v, "Sec-WebSocket-Version"), "13");
    EXPECT_NE(v.reason.find("version 13"), std::string::npos) << v.reason;
  }
  EXPECT_EQ(Request().set("Sec-WebSocket-Version", "8").check().reason,
            "WebSocket version 8 is not supported: this server speaks version 13\n");
  EXPECT_EQ(Request().set("Sec-WebSocket-Version", "<script>").check().reason.find("<script>"), std::string::npos)
      << "the client's value is echoed only when it is a short number";
}

TEST(Handshake, KeyIsSixteenBytesOfBase64) {
  auto status = [](const std::string& key) { return Request().set("Sec-WebSocket-Key", key).check().status; };
  EXPECT_EQ(status("AAAAAAAAAAAAAAAAAAAAAA=="), 101);
  EXPECT_EQ(status("/////////////////////w=="), 101);
  EXPECT_EQ(status("AAAAAAAAAAAAAAAAAAAA"), 400) << "15 bytes";
  EXPECT_EQ(status("AAAAAAAAAAAAAAAAAAAAAAA="), 400) << "17 bytes, also 24 characters";
  EXPECT_EQ(status("AAAAAAAAAAAAAAAAAAAAAAAA"), 400) << "18 bytes";
  EXPECT_EQ(status("dGhlIHNhbXBsZSBub25jZQ"), 400) << "no padding";
  EXPECT_EQ(status("dGhlIHNhbXBsZSBub25jZQ=!"), 400);
  EXPECT_EQ(status("dGhlIHNhbXBs ZSBub25jZQ="), 400);
  EXPECT_EQ(status("dGhlIHNhbXBsZSBub25jZQ-_"), 400) << "base64url is not base64";
  EXPECT_EQ(status(""), 400);
  EXPECT_EQ(status(std::string(4000, 'A')), 400);
  EXPECT_EQ(Request().drop("Sec-WebSocket-Key").check().reason, "missing Sec-WebSocket-Key\n");
  EXPECT_EQ(Request().add("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==").check().reason,
            "more than one Sec-WebSocket-Key header\n");
  EXPECT_EQ(Request().set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA=").check().reason,
            "Sec-WebSocket-Key must be 16 bytes in base64; this one is 17 bytes\n");
  EXPECT_EQ(Request().set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=!").check().reason,
            "Sec-WebSocket-Key is not base64\n");
}

TEST(Handshake, ChecksRunInOrder) {
  auto r = Request();
  r.method = "POST";
  r.version = 10;
  r.fields.clear();
  EXPECT_EQ(r.check().status, 405) << "the method first";
  r.method = "GET";
  EXPECT_EQ(r.check().status, 400) << "then the HTTP version";
  r.version = 11;
  EXPECT_EQ(r.check().status, 426) << "then Upgrade";
  auto old_client = Request().set("Sec-WebSocket-Version", "8").set("Sec-WebSocket-Key", "x");
  EXPECT_EQ(old_client.check().status, 426) << "an old client learns the version before its key is judged";
}

TEST(Handshake, OriginsArePolicedWhenAListIsSet) {
  OriginPolicy policy = origins("https://chat.example.com");
  EXPECT_TRUE(Request().check(policy).ok()) << "no Origin: not a browser";
  EXPECT_TRUE(Request().set("Origin", "https://chat.example.com").check(policy).ok());
  auto v = Request().set("Origin", "https://evil.example").check(policy);
  EXPECT_EQ(v.status, 403);
  EXPECT_EQ(v.reason, "the origin https://evil.example may not connect to this server (--allowed-origins)\n");
  EXPECT_EQ(
      Request().set("Origin", "https://chat.example.com").add("Origin", "https://evil.example").check(policy).status,
      400);
  EXPECT_TRUE(Request().set("Origin", "https://evil.example").check(kAny).ok());
}

// ---- the origin policy

TEST(OriginPolicy, EveryOriginByDefault) {
  EXPECT_TRUE(kAny.any());
  EXPECT_TRUE(kAny.allows("https://anything.example"));
  EXPECT_TRUE(kAny.allows("null"));
  EXPECT_TRUE(kAny.allows("garbage"));
  EXPECT_TRUE(origins("*").any());
  EXPECT_TRUE(origins("https://a.example, *").any());
}

TEST(OriginPolicy, ExactOriginsMatchSchemeHostAndPort) {
  OriginPolicy p = origins("https://chat.example.com, http://localhost:3000");
  EXPECT_FALSE(p.any());
  EXPECT_TRUE(p.allows("https://chat.example.com"));
  EXPECT_TRUE(p.allows("HTTPS://Chat.Example.COM"));
  EXPECT_TRUE(p.allows("https://chat.example.com:443")) << "the default port is no port";
  EXPECT_TRUE(p.allows("http://localhost:3000"));
  EXPECT_FALSE(p.allows("http://localhost"));
  EXPECT_FALSE(p.allows("http://localhost:3001"));
  EXPECT_FALSE(p.allows("https://chat.example.com:8443"));
  EXPECT_FALSE(p.allows("http://chat.example.com"));
  EXPECT_FALSE(p.allows("https://chat.example.com.evil.example"));
  EXPECT_FALSE(p.allows("https://evilchat.example.com"));
  EXPECT_FALSE(p.allows("https://sub.chat.example.com"));
  EXPECT_FALSE(p.allows("null"));
  EXPECT_FALSE(p.allows(""));
  EXPECT_FALSE(p.allows("https://chat.example.com/"));
  EXPECT_FALSE(p.allows("https://chat.example.com@evil.example"));
  EXPECT_FALSE(p.allows("chat.example.com"));
  EXPECT_TRUE(origins("https://chat.example.com:443").allows("https://chat.example.com"));
}

TEST(OriginPolicy, AWildcardCoversSubdomainsOnly) {
  OriginPolicy p = origins("https://*.example.com");
  EXPECT_TRUE(p.allows("https://a.example.com"));
  EXPECT_TRUE(p.allows("https://a.b.example.com"));
  EXPECT_FALSE(p.allows("https://example.com"));
  EXPECT_FALSE(p.allows("https://.example.com"));
  EXPECT_FALSE(p.allows("https://evilexample.com"));
  EXPECT_FALSE(p.allows("https://a.example.com.evil.example"));
  EXPECT_FALSE(p.allows("http://a.example.com"));
  EXPECT_FALSE(p.allows("https://a.example.com:8443"));
  EXPECT_TRUE(origins("https://*.example.com:8443").allows("https://a.example.com:8443"));
}

TEST(OriginPolicy, NullAndIPv6AndOtherSchemes) {
  EXPECT_TRUE(origins("null").allows("null"));
  EXPECT_FALSE(origins("null").allows("https://a.example"));
  EXPECT_TRUE(origins("http://[::1]:3000").allows("http://[::1]:3000"));
  EXPECT_FALSE(origins("http://[::1]:3000").allows("http://[0:0::1]:3000"))
      << "origins compare as browsers serialise them";
  EXPECT_TRUE(origins("capacitor://localhost").allows("capacitor://localhost"));
  EXPECT_TRUE(origins("http://127.0.0.1:8080").allows("http://127.0.0.1:8080"));
}

TEST(OriginPolicy, MalformedListsAreRefusedWithAReason) {
  EXPECT_NE(origin_error("chat.example.com").find("scheme://host"), std::string::npos);
  EXPECT_NE(origin_error("https://chat.example.com/").find("no path"), std::string::npos);
  EXPECT_NE(origin_error("https://chat.example.com/app").find("no path"), std::string::npos);
  EXPECT_NE(origin_error("https://a.example,,https://b.example").find("empty entry"), std::string::npos);
  EXPECT_NE(origin_error("").find("empty"), std::string::npos);
  for (const char* bad :
       {"https://", "https://:443", "https://a.example:", "https://a.example:99999", "https://a.example:8o",
        "https://*.", "https://*", "https://a.*.example", "https://*.*.example", "https://user@a.example",
        "https://[zz]", "https://[192.0.2.1]", "https://a..example", "https://.a.example", "1https://a.example",
        "https://a example", "https://a.example?x", "https://a.example#x", ",https://a.example"}) {
    origin_error(bad);
  }
}

// ---- helpers

TEST(Base64, DecodesStandardPaddedBase64Only) {
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64("Zg=="), "f");
  EXPECT_EQ(decode_base64("Zm8="), "fo");
  EXPECT_EQ(decode_base64("Zm9v"), "foo");
  EXPECT_EQ(decode_base64("+/+/"), std::string("\xfb\xff\xbf"));
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zg=a", "Z=g=", "=Zg=", "Zm9v====", "Zm9", "Zm 9v", "-_-_", "Zm9v\n"}) {
    EXPECT_FALSE(decode_base64(bad)) << bad;
  }
}

TEST(HeaderTokens, CommaListsOverSeveralFields) {
  EXPECT_TRUE(has_token({"a, b ,c"}, "B"));
  EXPECT_TRUE(has_token({"a", "b"}, "b"));
  EXPECT_FALSE(has_token({"ab"}, "b"));
  EXPECT_FALSE(has_token({}, "b"));
  EXPECT_FALSE(has_token({""}, ""));
  std::vector<HeaderField> fields = {{"Host", "a"}, {"host", "b"}, {"X", "c"}};
  EXPECT_EQ(field_values(fields, "HOST").size(), 2u);
}

}  // namespace
}  // namespace parley::server
