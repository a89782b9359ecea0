// The opening handshake through real sockets (RFC 6455 §4.2): every upgrade
// request a client could get wrong, or send on purpose to hurt, is written
// byte for byte to a running parleyd, and the test reads the status, the
// headers that explain it and a plain-text reason, then the end of the
// connection (graceful, never a reset that could eat the answer). After
// every case the fixture checks that parleyd still runs, serves a fresh
// client, and has let go of every connection of the case.
//
// Also here: --allowed-origins, and the client address behind
// --trusted-proxies (the per-address limit counts the forwarded address
// only when the TCP peer is trusted). Bad values of these flags are in
// command_line_test.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/parleyd_process.hpp"
#include "support/raw_ws.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kKey = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==";

// A request to /ws built line by line ("Name: value\r\n" each).
std::string request(const std::string& request_line, const std::vector<std::string>& lines) {
  std::string r = request_line + "\r\n";
  for (const auto& l : lines) r += l + "\r\n";
  return r + "\r\n";
}

class Handshake : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ParleydProcess({"--allowed-origins", "https://chat.example.com, https://*.example.org"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void TearDown() override {
    ASSERT_TRUE(server_->running()) << "parleyd died; its log ends:\n" << server_->log();
    if (auto problem = check_served(port())) ADD_FAILURE() << *problem;
    EXPECT_EQ(metric_when(port(), "parley_connections", 0), 0) << "a WebSocket connection was never closed";
    // The scrape's own connection is the one left.
    EXPECT_EQ(metric_when(port(), "parley_tcp_connections", 1), 1) << "a TCP connection of the case was kept";
    EXPECT_EQ(metric_when(port(), "parley_http_connections", 1), 1);
  }
  static std::uint16_t port() { return server_->port(); }

  // Writes `bytes`, reads the response, then expects the server to end the
  // connection gracefully (the refusals close it).
  static HttpResponse refused(const std::string& bytes) {
    RawSocket s(port());
    s.write(bytes);
    HttpResponse res = s.read_http();
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!s.eof() && std::chrono::steady_clock::now() < deadline) s.fill(100ms);
    EXPECT_TRUE(s.eof()) << "the server kept the connection after refusing it";
    EXPECT_FALSE(s.reset()) << "the connection was reset: a client could lose the answer";
    EXPECT_EQ(res.header("connection").find("close") != std::string::npos, true) << res.header("connection");
    EXPECT_EQ(res.header("content-type"), "text/plain; charset=utf-8");
    return res;
  }
  static void expect_refused(const std::string& bytes, int status, const std::string& reason) {
    HttpResponse res = refused(bytes);
    EXPECT_EQ(res.status, status) << res.body;
    EXPECT_NE(res.body.find(reason), std::string::npos) << "body: " << res.body;
  }

  static ParleydProcess* server_;
};

ParleydProcess* Handshake::server_ = nullptr;

// ---- accepted

TEST_F(Handshake, AValidUpgradeGetsTheRfcAcceptValue) {
  RawSocket s(port());
  s.write(upgrade_request());
  HttpResponse res = s.read_http();
  EXPECT_EQ(res.status, 101);
  EXPECT_EQ(res.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 §1.3
  EXPECT_EQ(res.header("upgrade"), "websocket");
}

TEST_F(Handshake, TokensInAnyCaseAndInLists) {
  RawSocket s(port());
  s.write(request("GET /ws HTTP/1.1", {"host: 127.0.0.1", "UPGRADE: WebSocket", "Connection: keep-alive",
                                       "Connection: upgrade", kKey, "sec-websocket-version: 13"}));
  EXPECT_EQ(s.read_http().status, 101);
}

TEST_F(Handshake, ARequestDrippedByteByByteIsServed) {
  RawSocket s(port());
  for (char c : upgrade_request("Sec-WebSocket-Protocol: parley.v1.json\r\n")) ASSERT_TRUE(s.write(std::string(1, c)));
  EXPECT_EQ(s.read_http().status, 101);
}

// ---- refused, with the reason

TEST_F(Handshake, OnlyGet) {
  HttpResponse res = refused(request("POST /ws HTTP/1.1", {"Host: 127.0.0.1", "Content-Length: 2"}) + "{}");
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("allow"), "GET");
  EXPECT_NE(res.body.find("GET requests only"), std::string::npos);
  std::string post_upgrade = upgrade_request();
  post_upgrade.replace(0, 3, "POST");
  expect_refused(post_upgrade, 405, "GET requests only");
  expect_refused(request("HEAD /ws HTTP/1.1", {"Host: 127.0.0.1"}), 405, "");
}

TEST_F(Handshake, HttpOneZeroIsRefused) {
  std::string r = upgrade_request();
  r.replace(r.find("HTTP/1.1"), 8, "HTTP/1.0");
  RawSocket s(port());
  s.write(r);
  HttpResponse res = s.read_http();
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.body.find("HTTP/1.1 or later"), std::string::npos) << res.body;
}

TEST_F(Handshake, MissingOrDuplicateHost) {
  expect_refused(upgrade_request("", "Host"), 400, "missing Host header");
  expect_refused(upgrade_request("Host: evil.example\r\n"), 400, "more than one Host header");
}

TEST_F(Handshake, WithoutUpgradeItIs426) {
  HttpResponse res = refused(request("GET /ws HTTP/1.1", {"Host: 127.0.0.1"}));
  EXPECT_EQ(res.status, 426);
  EXPECT_EQ(res.header("upgrade"), "websocket");
  EXPECT_NE(res.body.find("this is a WebSocket endpoint"), std::string::npos) << res.body;
  expect_refused(upgrade_request("Upgrade: h2c\r\n", "Upgrade"), 426, "must name websocket");
}

TEST_F(Handshake, ConnectionMustNameUpgrade) {
  expect_refused(upgrade_request("", "Connection"), 400, "Connection header must include Upgrade");
  expect_refused(upgrade_request("Connection: keep-alive\r\n", "Connection"), 400, "must include Upgrade");
}

TEST_F(Handshake, KeysThatAreNotSixteenBytesOfBase64) {
  auto with_key = [](const std::string& key) {
    return upgrade_request("Sec-WebSocket-Key: " + key + "\r\n", "Sec-WebSocket-Key");
  };
  expect_refused(with_key("AAAAAAAAAAAAAAAAAAAA"), 400, "16 bytes in base64; this one is 15 bytes");
  expect_refused(with_key("AAAAAAAAAAAAAAAAAAAAAAA="), 400, "this one is 17 bytes");
  expect_refused(with_key("dGhlIHNhbXBsZSBub25jZQ=!"), 400, "not base64");
  expect_refused(with_key("dGhlIHNhbXBsZSBub25jZQ"), 400, "not base64");
  expect_refused(with_key(std::string(6000, 'A')), 400, "16 bytes");
  expect_refused(upgrade_request("", "Sec-WebSocket-Key"), 400, "missing Sec-WebSocket-Key");
  expect_refused(upgrade_request("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"), 400,
                 "more than one Sec-WebSocket-Key");
}

TEST_F(Handshake, VersionsOtherThanThirteenGet426WithTheVersion) {
  for (const auto& r :
       {upgrade_request("Sec-WebSocket-Version: 8\r\n", "Sec-WebSocket-Version"),
        upgrade_request("", "Sec-WebSocket-Version"), upgrade_request("Sec-WebSocket-Version: 13\r\n")}) {
    HttpResponse res = refused(r);
    EXPECT_EQ(res.status, 426) << res.body;
    EXPECT_EQ(res.header("sec-websocket-version"), "13");
    EXPECT_NE(res.body.find("this server speaks version 13"), std::string::npos) << res.body;
  }
  expect_refused(upgrade_request("Sec-WebSocket-Version: 8\r\n", "Sec-WebSocket-Version"), 426,
                 "WebSocket version 8 is not supported");
}

TEST_F(Handshake, OversizedHeadersGet431) {
  // One 16 KiB header line, then many small ones past 8 KiB in all: the
  // server stops reading at its limit, answers, and drains the rest so that
  // the client still reads the answer.
  expect_refused(upgrade_request("X-Big: " + std::string(16 * 1024, 'a') + "\r\n"), 431, "larger than 8 KiB");
  std::string many;
  for (int i = 0; i < 400; ++i) many += "X-Header-" + std::to_string(i) + ": some value\r\n";
  expect_refused(upgrade_request(many), 431, "larger than 8 KiB");
}

TEST_F(Handshake, MalformedHttpGets400) {
  expect_refused("GARBAGE\r\n\r\n", 400, "malformed HTTP request");
  expect_refused("GET /ws HTTP/9.Z\r\nHost: x\r\n\r\n", 400, "malformed HTTP request");
  expect_refused("GET /ws HTTP/1.1\r\nNo colon here\r\n\r\n", 400, "malformed HTTP request");
  expect_refused("GET /ws HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "malformed HTTP request");
  expect_refused(std::string("GET /ws HTTP/1.1\r\nHost: \x01\r\n\r\n"), 400, "malformed HTTP request");
}

TEST_F(Handshake, AnUpgradeWithABodyIsRefused) {
  expect_refused(upgrade_request("Content-Length: 5\r\n") + "hello", 400, "no body");
}

TEST_F(Handshake, AnUnsupportedSubprotocolIsRefused) {
  expect_refused(upgrade_request("Sec-WebSocket-Protocol: chat.v9\r\n"), 400, "unsupported WebSocket subprotocol");
}

TEST_F(Handshake, AClientThatVanishesMidRequestIsForgotten) {
  {
    RawSocket s(port());
    s.write("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr");
  }
  {
    RawSocket s(port());
    s.write(upgrade_request().substr(0, 60));
    s.shutdown_write();
    s.fill(100ms);
  }
  // The fixture checks that both are let go.
}

TEST_F(Handshake, RefusalsAreCountedByStatus) {
  double before = metric_now(port(), "parley_handshakes_refused_total{status=\"405\"}");
  expect_refused(request("PUT /ws HTTP/1.1", {"Host: 127.0.0.1", "Content-Length: 0"}), 405, "GET");
  EXPECT_EQ(metric_now(port(), "parley_handshakes_refused_total{status=\"405\"}"), before + 1);
}

// ---- origins (--allowed-origins https://chat.example.com, https://*.example.org)

TEST_F(Handshake, AllowedOriginsConnect) {
  for (const char* origin : {"https://chat.example.com", "HTTPS://CHAT.example.com:443", "https://a.example.org",
                             "https://a.b.example.org"}) {
    RawSocket s(port());
    s.write(upgrade_request(std::string("Origin: ") + origin + "\r\n"));
    EXPECT_EQ(s.read_http().status, 101) << origin;
  }
  RawSocket no_origin(port());  // not a browser
  no_origin.write(upgrade_request());
  EXPECT_EQ(no_origin.read_http().status, 101);
}

TEST_F(Handshake, OtherOriginsGet403) {
  for (const char* origin : {"https://evil.example", "http://chat.example.com", "https://chat.example.com:8443",
                             "https://example.org", "https://chat.example.com.evil.example", "null", "garbage"}) {
    expect_refused(upgrade_request(std::string("Origin: ") + origin + "\r\n"), 403,
                   std::string("the origin ") + origin + " may not connect");
  }
  expect_refused(upgrade_request("Origin: https://chat.example.com\r\nOrigin: https://evil.example\r\n"), 400,
                 "more than one Origin header");
}

// ---- the client address behind proxies

// Holds upgraded connections open; returns the status of each upgrade.
struct Upgrades {
  std::uint16_t port;
  std::vector<std::unique_ptr<RawSocket>> open;
  int upgrade(const std::string& extra) {
    auto s = std::make_unique<RawSocket>(port);
    s->write(upgrade_request(extra));
    int status = s->read_http().status;
    if (status == 101) open.push_back(std::move(s));
    return status;
  }
};

TEST(Proxies, BehindATrustedProxyTheLimitCountsTheForwardedAddress) {
  ParleydProcess server({"--trusted-proxies", "127.0.0.0/8, ::1", "--max-connections-per-ip", "2"});
  Upgrades u{server.port(), {}};
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.7\r\n"), 101);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.7\r\n"), 101);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.7\r\n"), 429);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.8\r\n"), 101) << "another client behind the same proxy";
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n"), 429) << "a client cannot write its way out";
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.7\r\n"), 429);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.7, 127.0.0.5\r\n"), 429) << "trusted hops are skipped";
  EXPECT_EQ(u.upgrade("X-Forwarded-For: [2001:db8::7]:4711\r\n"), 101);
  // Without a usable header the proxy itself is the client.
  EXPECT_EQ(u.upgrade(""), 101);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: unknown\r\n"), 101);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.9, garbage\r\n"), 429) << "counted as 127.0.0.1 (third)";
  EXPECT_EQ(u.upgrade("Forwarded: for=198.51.100.1\r\n"), 429) << "only the configured header is read";
  EXPECT_EQ(metric_now(server.port(), "parley_connections_refused_total{reason=\"connections_per_ip\"}"), 6);
  u.open.clear();
  EXPECT_FALSE(check_served(server.port()));
}

TEST(Proxies, FromAnUntrustedPeerTheHeaderIsIgnored) {
  ParleydProcess server({"--trusted-proxies", "10.0.0.0/8", "--max-connections-per-ip", "2"});
  Upgrades u{server.port(), {}};
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.1\r\n"), 101);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.2\r\n"), 101);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 203.0.113.3\r\n"), 429) << "all three are 127.0.0.1";
  EXPECT_EQ(u.upgrade("Forwarded: for=203.0.113.4\r\n"), 429);
  u.open.clear();
  EXPECT_FALSE(check_served(server.port()));
}

TEST(Proxies, TheForwardedHeaderOfRfc7239) {
  ParleydProcess server(
      {"--trusted-proxies", "127.0.0.1", "--proxy-header", "forwarded", "--max-connections-per-ip", "1"});
  Upgrades u{server.port(), {}};
  EXPECT_EQ(u.upgrade("Forwarded: for=\"[2001:db8::7]:4711\";proto=https\r\n"), 101);
  EXPECT_EQ(u.upgrade("Forwarded: for=\"[2001:db8::7]\"\r\n"), 429);
  EXPECT_EQ(u.upgrade("Forwarded: for=198.51.100.1, for=203.0.113.7\r\n"), 101);
  EXPECT_EQ(u.upgrade("Forwarded: For=203.0.113.7\r\n"), 429);
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 198.51.100.2\r\n"), 101) << "X-Forwarded-For is ignored: 127.0.0.1";
  EXPECT_EQ(u.upgrade("X-Forwarded-For: 198.51.100.3\r\n"), 429);
  EXPECT_EQ(u.upgrade("Forwarded: for=\"6.6.6.6\r\n"), 429) << "a broken value counts as the proxy";
  EXPECT_EQ(u.upgrade("Forwarded: for=_hidden\r\n"), 429);
  u.open.clear();
  EXPECT_FALSE(check_served(server.port()));
}

TEST(Proxies, HostileForwardingHeadersAreHarmless) {
  ParleydProcess server({"--trusted-proxies", "127.0.0.1", "--max-connections-per-ip", "1000"});
  std::vector<std::string> hostile = {
      "X-Forwarded-For: " + std::string(7000, ',') + "\r\n",
      "X-Forwarded-For: " + std::string(7000, '[') + "\r\n",
      "X-Forwarded-For: " + std::string(3000, ':') + "\r\n",
      "X-Forwarded-For: \xff\xfe\r\n",
      "X-Forwarded-For: [::ffff:1.2.3.4]:99999999999999999999\r\n",
      "X-Forwarded-For: 1.2.3.4:" + std::string(3000, '9') + "\r\n",
  };
  for (std::string& h : hostile) {
    RawSocket s(server.port());
    s.write(upgrade_request(h));
    int status = s.read_http().status;
    EXPECT_TRUE(status == 101 || status == 431) << status;
  }
  ParleydProcess forwarded({"--trusted-proxies", "127.0.0.1", "--proxy-header", "forwarded"});
  for (const std::string& h :
       {"Forwarded: " + std::string(7000, ';') + "\r\n", "Forwarded: for=\"" + std::string(7000, '\\') + "\r\n",
        "Forwarded: for=" + std::string(7000, '"') + "\r\n", std::string("Forwarded: for=\"\x7f\"\r\n")}) {
    RawSocket s(forwarded.port());
    s.write(upgrade_request(h));
    int status = s.read_http().status;
    EXPECT_TRUE(status == 101 || status == 400 || status == 431) << status;
  }
  EXPECT_FALSE(check_served(server.port()));
  EXPECT_FALSE(check_served(forwarded.port()));
}

}  // namespace
}  // namespace parley::test
