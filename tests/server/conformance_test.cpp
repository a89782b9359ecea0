// WebSocket conformance (RFC 6455), case groups after the Autobahn Testsuite:
// framing, ping/pong, reserved bits, opcodes, fragmentation, UTF-8, limits and
// close handling. Every case writes raw bytes to a real parleyd over TCP and
// asserts what a peer on the wire sees: the frames, the close code (read from
// the close frame, before the server ends the TCP connection gracefully).
// After every case the fixture asserts that parleyd is still running, serves
// a fresh client, and has closed every connection of the case (its gauges
// balance). Under the ASan build a use-after-free kills parleyd, which fails
// the case and the suite's clean exit.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/parleyd_process.hpp"
#include "support/raw_ws.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

constexpr std::uint8_t kCont = 0x0, kText = 0x1, kBinary = 0x2, kClose = 0x8, kPing = 0x9, kPong = 0xA;
constexpr std::size_t kMaxMessage = 65536;  // parleyd's default --max-frame-bytes

class Conformance : public ::testing::Test {
 protected:
  // Generous request rates: the cases send bursts of protocol pings.
  static void SetUpTestSuite() {
    server_ = new ParleydProcess({"--rate-other", "10000/10000", "--user-rate-other", "10000/10000"});
  }
  static void TearDownTestSuite() {
    delete server_;  // fails the suite unless parleyd exits cleanly
    server_ = nullptr;
  }
  void TearDown() override {
    ASSERT_TRUE(server_->running()) << "parleyd died; its log ends:\n" << tail();
    if (auto problem = check_served(port())) ADD_FAILURE() << *problem;
    EXPECT_EQ(metric_when(port(), "parley_connections", 0), 0) << "a connection of this case was never closed";
    EXPECT_EQ(metric_when(port(), "parley_queued_bytes", 0), 0) << "queued bytes not given back";
  }

  static std::uint16_t port() { return server_->port(); }
  static std::string tail() {
    std::string log = server_->log();
    return log.substr(log.size() > 4000 ? log.size() - 4000 : 0);
  }

  // A connection that said hello (the frames after it are the case's own).
  std::unique_ptr<RawWs> welcomed(const std::string& subprotocol = "parley.v1.json") {
    auto ws = std::make_unique<RawWs>(port(), subprotocol);
    EXPECT_TRUE(ws->hello("case")) << "not welcomed";
    return ws;
  }

  // Writes `bytes` and expects the server to close with `code`: a close
  // frame a peer can read, then the end of the TCP connection (no reset).
  void expect_close(RawWs& ws, const std::string& bytes, std::uint16_t code) {
    ws.send_raw(bytes);
    CloseSeen seen = ws.wait_close();
    EXPECT_EQ(seen.code, code) << "close reason: " << seen.reason;
    EXPECT_TRUE(seen.tcp_closed) << "the server did not end the TCP connection";
    EXPECT_FALSE(seen.reset) << "the connection was reset: a peer may lose the close frame";
  }
  void expect_close_after_hello(const std::string& bytes, std::uint16_t code) {
    auto ws = welcomed();
    expect_close(*ws, bytes, code);
  }

  // A parley ping padded with spaces to exactly `size` bytes of JSON.
  static std::string padded_ping(const std::string& ref, std::size_t size) {
    std::string head = R"({"type":"ping","ref":")" + ref + "\"";
    std::string out = head + std::string(size > head.size() + 1 ? size - head.size() - 1 : 0, ' ') + "}";
    return out;
  }
  // Expects the protocol pong answering `ref`.
  static void expect_pong(RawWs& ws, const std::string& ref) {
    auto f = ws.next();
    ASSERT_TRUE(f) << "no answer to " << ref;
    EXPECT_EQ(f->opcode, kText);
    EXPECT_NE(f->payload.find(R"("type":"pong")"), std::string::npos) << f->payload;
    EXPECT_NE(f->payload.find(R"("ref":")" + ref + "\""), std::string::npos) << f->payload;
  }

  static ParleydProcess* server_;
};

ParleydProcess* Conformance::server_ = nullptr;

// ---- 1. Framing

TEST_F(Conformance, Framing_TextMessagesOfEveryLengthEncoding) {
  auto ws = welcomed();
  for (std::size_t size : {std::size_t{30}, std::size_t{125}, std::size_t{126}, std::size_t{127}, std::size_t{128},
                           std::size_t{65535}, kMaxMessage}) {
    std::string ref = "len" + std::to_string(size);
    ws->send_text(padded_ping(ref, size));
    expect_pong(*ws, ref);
  }
}

TEST_F(Conformance, Framing_EmptyTextMessageIsABadRequestNotAClose) {
  auto ws = welcomed();
  ws->send_raw(client_frame(kText, ""));
  auto f = ws->next();
  ASSERT_TRUE(f);
  EXPECT_NE(f->payload.find(R"("code":"bad_request")"), std::string::npos) << f->payload;
  ws->send_text(padded_ping("after", 40));
  expect_pong(*ws, "after");
}

TEST_F(Conformance, Framing_AFrameDrippedOneByteAtATime) {
  auto ws = welcomed();
  std::string bytes = client_frame(kText, padded_ping("drip", 300));
  for (char c : bytes) ASSERT_TRUE(ws->send_raw(std::string(1, c)));
  expect_pong(*ws, "drip");
}

TEST_F(Conformance, Framing_ManyFramesInOneWriteAreAnsweredInOrder) {
  auto ws = welcomed();
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += client_frame(kText, padded_ping("b" + std::to_string(i), 40));
  ws->send_raw(batch);
  for (int i = 0; i < 100; ++i) expect_pong(*ws, "b" + std::to_string(i));
}

TEST_F(Conformance, Framing_UnmaskedFrameIsAProtocolError) {
  FrameSpec spec;
  spec.payload = padded_ping("u", 40);
  spec.mask = false;
  expect_close_after_hello(client_frame(spec), 1002);
}

TEST_F(Conformance, Framing_UnmaskedFrameRightAfterTheUpgrade) {
  RawWs ws(port());
  FrameSpec spec;
  spec.payload = "{}";
  spec.mask = false;
  expect_close(ws, client_frame(spec), 1002);
}

TEST_F(Conformance, Framing_LengthNotInItsShortestFormIsAProtocolError) {
  for (auto [code, length] : {std::pair<std::uint8_t, std::uint64_t>{126, 100}, {127, 200}, {127, 65535}}) {
    FrameSpec spec;
    spec.payload = padded_ping("n", static_cast<std::size_t>(length));
    spec.length_code = code;
    SCOPED_TRACE("length field " + std::to_string(code) + " for " + std::to_string(length) + " bytes");
    expect_close_after_hello(client_frame(spec), 1002);
  }
}

TEST_F(Conformance, Framing_LengthWithTheTopBitSetIsAProtocolError) {
  FrameSpec spec;
  spec.length_code = 127;
  spec.length = 0x8000000000000000ull;
  expect_close_after_hello(client_frame(spec), 1002);
}

TEST_F(Conformance, Framing_BinaryFrameOnAJsonConnectionIsUnsupportedData) {
  expect_close_after_hello(client_frame(kBinary, padded_ping("b", 40)), 1003);
}

TEST_F(Conformance, Framing_TextFrameOnABinaryConnectionIsUnsupportedData) {
  RawWs ws(port(), "parley.v1.bin");
  expect_close(ws, client_frame(kText, padded_ping("t", 40)), 1003);
}

// ---- 2. Ping and pong

TEST_F(Conformance, Ping_EmptyAndFullPayloadsAreEchoed) {
  auto ws = welcomed();
  std::string full;
  for (int i = 0; i < 125; ++i) full.push_back(static_cast<char>(i * 2 + 1));  // any bytes, not UTF-8
  for (const std::string& payload : {std::string(), full}) {
    ws->send_raw(client_frame(kPing, payload));
    auto f = ws->socket().read_frame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->opcode, kPong);
    EXPECT_TRUE(f->fin);
    EXPECT_FALSE(f->masked) << "server frames are never masked";
    EXPECT_EQ(f->payload, payload);
  }
}

TEST_F(Conformance, Ping_BeforeHelloIsAnswered) {
  RawWs ws(port());
  ws.send_raw(client_frame(kPing, "early"));
  auto f = ws.socket().read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, kPong);
  EXPECT_EQ(f->payload, "early");
}

TEST_F(Conformance, Ping_ManyPingsGetTheirPongsInOrder) {
  auto ws = welcomed();
  std::string batch;
  for (int i = 0; i < 50; ++i) batch += client_frame(kPing, "p" + std::to_string(i));
  ws->send_raw(batch);
  for (int i = 0; i < 50; ++i) {
    auto f = ws->socket().read_frame();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->opcode, kPong);
    EXPECT_EQ(f->payload, "p" + std::to_string(i));
  }
}

TEST_F(Conformance, Ping_UnsolicitedPongIsIgnored) {
  auto ws = welcomed();
  ws->send_raw(client_frame(kPong, "nobody asked"));
  ws->send_text(padded_ping("after", 40));
  expect_pong(*ws, "after");
}

TEST_F(Conformance, Ping_PayloadOf126BytesIsAProtocolError) {
  expect_close_after_hello(client_frame(kPing, std::string(126, 'x')), 1002);
}

TEST_F(Conformance, Ping_FragmentedPingIsAProtocolError) {
  expect_close_after_hello(client_frame(kPing, "half", false), 1002);
}

// ---- 3. Reserved bits

TEST_F(Conformance, ReservedBits_OnADataFrameAreAProtocolError) {
  for (std::uint8_t rsv = 1; rsv <= 7; ++rsv) {
    SCOPED_TRACE("rsv " + std::to_string(rsv));
    FrameSpec spec;
    spec.payload = padded_ping("r", 40);
    spec.rsv = rsv;
    expect_close_after_hello(client_frame(spec), 1002);
  }
}

TEST_F(Conformance, ReservedBits_OnAControlFrameAreAProtocolError) {
  FrameSpec spec;
  spec.opcode = kPing;
  spec.rsv = 4;
  expect_close_after_hello(client_frame(spec), 1002);
}

TEST_F(Conformance, ReservedBits_BeforeHello) {
  RawWs ws(port());
  FrameSpec spec;
  spec.payload = "{}";
  spec.rsv = 2;
  expect_close(ws, client_frame(spec), 1002);
}

// ---- 4. Opcodes

TEST_F(Conformance, Opcodes_ReservedOpcodesAreAProtocolError) {
  for (std::uint8_t op : std::initializer_list<std::uint8_t>{0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    SCOPED_TRACE("opcode " + std::to_string(op));
    expect_close_after_hello(client_frame(op, "x"), 1002);
  }
}

TEST_F(Conformance, Opcodes_ReservedOpcodeAfterAServedMessage) {
  auto ws = welcomed();
  ws->send_text(padded_ping("first", 40));
  expect_pong(*ws, "first");
  expect_close(*ws, client_frame(0x5, ""), 1002);
}

// ---- 5. Fragmentation

TEST_F(Conformance, Fragmentation_MessageInTwoFragments) {
  auto ws = welcomed();
  std::string m = padded_ping("two", 100);
  ws->send_raw(client_frame(kText, m.substr(0, 37), false) + client_frame(kCont, m.substr(37)));
  expect_pong(*ws, "two");
}

TEST_F(Conformance, Fragmentation_MessageInOneByteFragmentsSentOneByOne) {
  auto ws = welcomed();
  std::string m = padded_ping("bytes", 60);
  for (std::size_t i = 0; i < m.size(); ++i) {
    std::uint8_t op = i == 0 ? kText : kCont;
    ASSERT_TRUE(ws->send_raw(client_frame(op, m.substr(i, 1), i + 1 == m.size())));
  }
  expect_pong(*ws, "bytes");
}

TEST_F(Conformance, Fragmentation_EmptyFragments) {
  auto ws = welcomed();
  std::string m = padded_ping("empty", 60);
  ws->send_raw(client_frame(kText, "", false) + client_frame(kCont, m, false) + client_frame(kCont, "", true));
  expect_pong(*ws, "empty");
}

TEST_F(Conformance, Fragmentation_PingsBetweenFragmentsAreAnsweredAtOnce) {
  auto ws = welcomed();
  std::string m = padded_ping("inter", 80);
  ws->send_raw(client_frame(kText, m.substr(0, 30), false) + client_frame(kPing, "mid1"));
  auto pong = ws->socket().read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, kPong);
  EXPECT_EQ(pong->payload, "mid1");
  ws->send_raw(client_frame(kCont, m.substr(30, 20), false) + client_frame(kPing, "mid2") +
               client_frame(kCont, m.substr(50)));
  pong = ws->socket().read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->payload, "mid2");
  expect_pong(*ws, "inter");
}

TEST_F(Conformance, Fragmentation_ContinuationFirstIsAProtocolError) {
  expect_close_after_hello(client_frame(kCont, "orphan", false), 1002);
}

TEST_F(Conformance, Fragmentation_FinalContinuationFirstIsAProtocolError) {
  expect_close_after_hello(client_frame(kCont, "orphan", true), 1002);
}

TEST_F(Conformance, Fragmentation_NewMessageInsideAFragmentedOneIsAProtocolError) {
  expect_close_after_hello(client_frame(kText, "{\"type\":", false) + client_frame(kText, "\"ping\"}"), 1002);
}

TEST_F(Conformance, Fragmentation_FragmentedCloseIsAProtocolError) {
  expect_close_after_hello(client_frame(kClose, close_payload(1000), false), 1002);
}

TEST_F(Conformance, Fragmentation_FragmentsPastTheLimitAreTooBig) {
  auto ws = welcomed();
  std::string chunk(kMaxMessage / 2, ' ');
  ws->send_raw(client_frame(kText, "{" + chunk, false) + client_frame(kCont, chunk, false));
  expect_close(*ws, client_frame(kCont, "}"), 1009);
}

// ---- 6. UTF-8

TEST_F(Conformance, Utf8_ValidMultiByteTextIsDeliveredIntact) {
  auto ws = welcomed();
  ws->send_text(R"({"type":"join","ref":"j","roomId":"utf8"})");
  ASSERT_TRUE(ws->next());  // joined
  // Two-, three- and four-byte characters, and the largest code point.
  std::string content = "\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF";
  ws->send_text(
      R"({"type":"send","ref":"s","roomId":"utf8","clientMsgId":"c_utf8_0001","message":{"type":"text","content":")" +
      content + R"("}})");
  bool acked = false;
  for (int i = 0; i < 4 && !acked; ++i) {
    auto f = ws->next();
    ASSERT_TRUE(f);
    if (f->payload.find(R"("type":"ack")") != std::string::npos) {
      acked = true;
      EXPECT_NE(f->payload.find(content), std::string::npos) << f->payload;
    }
  }
  EXPECT_TRUE(acked);
}

TEST_F(Conformance, Utf8_InvalidTextIsInvalidPayload) {
  const std::vector<std::string> invalid = {
      "\x80",              // a lone continuation byte
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong, three bytes
      "\xED\xA0\x80",      // a UTF-16 surrogate
      "\xF4\x90\x80\x80",  // past U+10FFFF
      "\xE2\x82",          // truncated
      "\xFF",              // never valid
      "\xFE\xFF",          // a UTF-16 byte order mark in bytes
  };
  for (const auto& bad : invalid) {
    SCOPED_TRACE("bytes of length " + std::to_string(bad.size()));
    expect_close_after_hello(client_frame(kText, R"({"type":"ping","ref":")" + bad + "\"}"), 1007);
  }
}

TEST_F(Conformance, Utf8_ACharacterSplitAcrossFragmentsIsValid) {
  auto ws = welcomed();
  // The euro sign's three bytes across two fragments, inside an unknown field
  // the schema refuses: a bad_request answer, not a 1007 close.
  std::string m = "{\"type\":\"ping\",\"ref\":\"split\",\"x\":\"\xE2\x82\xAC\"}";
  auto at = m.find('\xE2') + 1;
  ws->send_raw(client_frame(kText, m.substr(0, at), false) + client_frame(kCont, m.substr(at)));
  auto f = ws->next();
  ASSERT_TRUE(f) << "closed: the split character was taken for invalid UTF-8";
  EXPECT_NE(f->payload.find(R"("code":"bad_request")"), std::string::npos) << f->payload;
}

TEST_F(Conformance, Utf8_InvalidSequenceAcrossFragments) {
  expect_close_after_hello(client_frame(kText, "{\"a\":\"\xE2", false) + client_frame(kCont, "\x28\"}"), 1007);
}

// ---- 7. Close handling

TEST_F(Conformance, Close_WithoutPayloadIsAnsweredWithNormalClosure) {
  auto ws = welcomed();
  expect_close(*ws, client_frame(kClose, ""), 1000);
}

TEST_F(Conformance, Close_CodeAndReasonAreEchoed) {
  auto ws = welcomed();
  expect_close(*ws, client_frame(kClose, close_payload(1000, "bye")), 1000);
}

TEST_F(Conformance, Close_EveryValidCodeIsEchoed) {
  for (std::uint16_t code : std::initializer_list<std::uint16_t>{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
                                                                 1012, 1013, 1014, 3000, 3999, 4000, 4999}) {
    SCOPED_TRACE("code " + std::to_string(code));
    expect_close_after_hello(client_frame(kClose, close_payload(code)), code);
  }
}

TEST_F(Conformance, Close_InvalidCodesAreAProtocolError) {
  for (std::uint16_t code :
       std::initializer_list<std::uint16_t>{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    SCOPED_TRACE("code " + std::to_string(code));
    expect_close_after_hello(client_frame(kClose, close_payload(code)), 1002);
  }
}

TEST_F(Conformance, Close_OneBytePayloadIsAProtocolError) {
  expect_close_after_hello(client_frame(kClose, std::string(1, '\x03')), 1002);
}

TEST_F(Conformance, Close_LongestReasonIsFine) {
  expect_close_after_hello(client_frame(kClose, close_payload(1000, std::string(123, 'r'))), 1000);
}

TEST_F(Conformance, Close_ReasonThatIsNotUtf8IsInvalidPayload) {
  expect_close_after_hello(client_frame(kClose, close_payload(1000, "\xC0\xAF")), 1007);
}

TEST_F(Conformance, Close_FramesAfterTheCloseAreIgnored) {
  auto ws = welcomed();
  ws->send_raw(client_frame(kClose, close_payload(1000)) + client_frame(kText, padded_ping("late", 40)) +
               client_frame(kPing, "late"));
  auto f = ws->socket().read_frame();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->opcode, kClose) << "nothing is answered after a close: " << f->payload;
  auto after = ws->socket().read_frame(std::chrono::seconds(3));
  EXPECT_FALSE(after) << "a frame after the close: " << after->payload;
  EXPECT_TRUE(ws->socket().eof()) << "the server ends the TCP connection after the close";
}

TEST_F(Conformance, Close_ServerInitiatedCloseEndsGracefully) {
  // A token the server refuses: it closes with 4001, and the peer reads it.
  RawWs ws(port());
  ws.send_text(R"({"type":"hello","ref":"h","v":1,"token":"not-a-token"})");
  CloseSeen seen = ws.wait_close();
  EXPECT_EQ(seen.code, 4001);
  EXPECT_TRUE(seen.tcp_closed);
  EXPECT_FALSE(seen.reset);
}

// ---- 9. Limits

TEST_F(Conformance, Limits_MessageOneByteOverTheLimitIsTooBig) {
  expect_close_after_hello(client_frame(kText, padded_ping("big", kMaxMessage + 1)), 1009);
}

TEST_F(Conformance, Limits_TenMegabyteFrameIsTooBigAndThePeerReadsTheClose) {
  // The whole frame is written before anything is read: the server must not
  // reset the connection under the sender (which would lose its close frame).
  auto ws = welcomed();
  ASSERT_TRUE(ws->send_raw(client_frame(kText, std::string(10 << 20, ' ')), std::chrono::seconds(20)))
      << "the server stopped reading: the sender could not write its frame";
  CloseSeen seen = ws->wait_close();
  EXPECT_EQ(seen.code, 1009) << seen.reason;
  EXPECT_NE(seen.reason.find("65536"), std::string::npos) << "the reason names the limit: " << seen.reason;
  EXPECT_FALSE(seen.reset);
}

TEST_F(Conformance, Limits_HugeLengthInTheHeaderIsTooBig) {
  FrameSpec spec;
  spec.length_code = 127;
  spec.length = 0x7FFFFFFFFFFFFFFFull;
  expect_close_after_hello(client_frame(spec), 1009);
}

TEST_F(Conformance, Limits_HundredThousandBracketsAreTooBig) {
  expect_close_after_hello(client_frame(kText, std::string(100000, '[')), 1009);
}

TEST_F(Conformance, Limits_DeepNestingWithinTheLimitIsABadRequest) {
  auto ws = welcomed();
  std::string nested_objects;
  for (int i = 0; i < 10000; ++i) nested_objects += "{\"a\":";
  for (const std::string& m : {std::string(60000, '['), nested_objects}) {
    ws->send_text(m);
    auto f = ws->next();
    ASSERT_TRUE(f) << "closed on deep nesting";
    EXPECT_NE(f->payload.find(R"("code":"bad_request")"), std::string::npos) << f->payload;
  }
  ws->send_text(padded_ping("alive", 40));
  expect_pong(*ws, "alive");
}

TEST_F(Conformance, Limits_DeeplyNestedTokenIsUnauthorized) {
  // A token's header and claims are JSON too: 3000 levels deep fit in a token.
  auto base64url = [](const std::string& in) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
      acc = (acc << 8) | static_cast<unsigned char>(c);
      for (bits += 8; bits >= 6; bits -= 6) out.push_back(alphabet[(acc >> (bits - 6)) & 0x3F]);
    }
    if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3F]);
    return out;
  };
  std::string deep = base64url(std::string(2900, '['));
  for (const std::string& token : {deep + ".e30.c2ln", base64url(R"({"alg":"HS256"})") + "." + deep + ".c2ln"}) {
    RawWs ws(port());
    ws.send_text(R"({"type":"hello","ref":"h","v":1,"token":")" + token + R"("})");
    auto answer = ws.next();
    ASSERT_TRUE(answer);
    EXPECT_NE(answer->payload.find(R"("code":"unauthorized")"), std::string::npos) << answer->payload;
    EXPECT_EQ(ws.wait_close().code, 4001);
  }
}

TEST_F(Conformance, Limits_ControlFramesDoNotCountAgainstTheMessage) {
  // A message at the limit, with pings between its fragments.
  auto ws = welcomed();
  std::string m = padded_ping("ctl", kMaxMessage);
  ws->send_raw(client_frame(kText, m.substr(0, kMaxMessage / 2), false) + client_frame(kPing, std::string(125, 'p')) +
               client_frame(kCont, m.substr(kMaxMessage / 2)));
  auto pong = ws->socket().read_frame();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, kPong);
  expect_pong(*ws, "ctl");
}

// ---- Connection ends in odd places

TEST_F(Conformance, Abrupt_EndInsideAHeaderAPayloadOrAFragmentedMessage) {
  std::string frame = client_frame(kText, padded_ping("cut", 200));
  for (std::size_t cut : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{100}}) {
    auto ws = welcomed();
    ws->send_raw(frame.substr(0, cut));
    ws->socket().shutdown_write();
    CloseSeen seen = ws->wait_close();
    EXPECT_TRUE(seen.tcp_closed) << "cut at " << cut;
  }
  auto ws = welcomed();
  ws->send_raw(client_frame(kText, "{", false));
  ws->socket().shutdown_write();
  EXPECT_TRUE(ws->wait_close().tcp_closed);
}

}  // namespace
}  // namespace parley::test
