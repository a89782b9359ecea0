// The server's WebSocket framing, byte by byte.
#include <gtest/gtest.h>

#include "ws/frame.hpp"

namespace parley::server::ws {
namespace {

// A client frame as a browser sends it: masked.
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true) {
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  std::uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(mask_bit | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    out.push_back(static_cast<char>(mask_bit | 126));
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    out.push_back(static_cast<char>(mask_bit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((payload.size() >> shift) & 0xFF));
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) out.append(mask, 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(masked ? static_cast<char>(payload[i] ^ mask[i & 3]) : payload[i]);
  return out;
}

std::vector<Event> parse_all(Parser& p, std::string_view bytes, std::optional<Failure>* failure = nullptr) {
  std::vector<Event> events;
  auto f = p.feed(bytes, events);
  if (failure) *failure = f;
  return events;
}

TEST(WsFrame, ParsesTextAndBinaryMessages) {
  Parser p(1024);
  auto events = parse_all(p, client_frame(0x1, "hello") + client_frame(0x2, std::string("\x00\xff", 2)));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Event::Kind::text);
  EXPECT_EQ(events[0].payload, "hello");
  EXPECT_EQ(events[1].kind, Event::Kind::binary);
  EXPECT_EQ(events[1].payload, std::string("\x00\xff", 2));
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(WsFrame, AnySplitOfTheStreamGivesTheSameEvents) {
  std::string payload(70000, 'x');  // 64-bit length form
  std::string stream = client_frame(0x1, "a") + client_frame(0x2, std::string(300, 'y')) + client_frame(0x9, "p") +
                       client_frame(0x2, payload);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 100u, 4096u}) {
    Parser p(100000);
    std::vector<Event> events;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      ASSERT_FALSE(p.feed(std::string_view(stream).substr(at, chunk), events));
    }
    ASSERT_EQ(events.size(), 4u) << "chunk " << chunk;
    EXPECT_EQ(events[1].payload.size(), 300u);
    EXPECT_EQ(events[2].kind, Event::Kind::ping);
    EXPECT_EQ(events[3].payload, payload);
    EXPECT_EQ(p.buffered(), 0u);
  }
}

TEST(WsFrame, ReassemblesFragmentsAroundControlFrames) {
  Parser p(1024);
  auto events = parse_all(p, client_frame(0x1, "hel", false) + client_frame(0x9, "ping!") +
                                 client_frame(0x0, "lo ", false) + client_frame(0x0, "world"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Event::Kind::ping);
  EXPECT_EQ(events[0].payload, "ping!");
  EXPECT_EQ(events[1].kind, Event::Kind::text);
  EXPECT_EQ(events[1].payload, "hello world");
}

TEST(WsFrame, ParsesCloseWithCodeAndReason) {
  Parser p(1024);
  std::string payload = std::string("\x0f\xa1", 2) + "bye";  // 4001
  auto events = parse_all(p, client_frame(0x8, payload));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, Event::Kind::close);
  EXPECT_EQ(events[0].close_code, 4001);
  EXPECT_EQ(events[0].payload, "bye");
  EXPECT_EQ(parse_all(p, client_frame(0x8, ""))[0].close_code, 1005);
}

struct Broken {
  const char* name;
  std::string bytes;
  std::uint16_t code;
};

TEST(WsFrame, RefusesBrokenStreamsWithTheRightCloseCode) {
  std::string unmasked = client_frame(0x1, "hi", true, false);
  std::string rsv = client_frame(0x1, "hi");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  std::string big_ping = client_frame(0x9, std::string(126, 'p'));
  // 5 bytes announced in the 16-bit and the 64-bit length fields.
  std::string long16 = std::string("\x81\xFE\x00\x05", 4) + std::string(4, '\0') + "hello";
  std::string long64 = std::string("\x81\xFF", 2) + std::string(7, '\0') + "\x05" + std::string(4, '\0') + "hello";
  std::vector<Broken> cases = {
      {"16-bit length for a short frame", long16, 1002},
      {"64-bit length for a short frame", long64, 1002},
      {"unmasked client frame", unmasked, 1002},
      {"reserved bits", rsv, 1002},
      {"unknown opcode", client_frame(0x3, "x"), 1002},
      {"fragmented control frame", client_frame(0x9, "x", false), 1002},
      {"control frame over 125 bytes", big_ping, 1002},
      {"continuation without a message", client_frame(0x0, "x"), 1002},
      {"new message inside a fragmented one", client_frame(0x1, "a", false) + client_frame(0x1, "b"), 1002},
      {"message over the limit", client_frame(0x2, std::string(101, 'z')), 1009},
      {"fragments over the limit",
       client_frame(0x2, std::string(60, 'z'), false) + client_frame(0x0, std::string(60, 'z')), 1009},
      {"text that is not UTF-8", client_frame(0x1, "\xc3\x28"), 1007},
      {"close with 1-byte payload", client_frame(0x8, "x"), 1002},
      {"close with a reserved code", client_frame(0x8, std::string("\x03\xed", 2)), 1002},
  };
  for (const auto& c : cases) {
    Parser p(100);
    std::optional<Failure> failure;
    auto events = parse_all(p, c.bytes, &failure);
    ASSERT_TRUE(failure) << c.name;
    EXPECT_EQ(failure->code, c.code) << c.name;
    EXPECT_FALSE(failure->reason.empty());
    EXPECT_TRUE(p.feed(client_frame(0x1, "later"), events)) << c.name << ": input after a failure is ignored";
  }
}

TEST(WsFrame, RefusesAnOversizedMessageBeforeBufferingIt) {
  Parser p(1000);
  std::string header = client_frame(0x2, std::string(5000, 'q')).substr(0, 8);  // header + mask only
  std::optional<Failure> failure;
  parse_all(p, header, &failure);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->code, 1009);
  EXPECT_EQ(p.buffered(), 0u);
}

TEST(WsFrame, EncodesServerFramesUnmaskedWithMinimalLengths) {
  EXPECT_EQ(make_frame(Opcode::text, "hi"), std::string("\x81\x02hi", 4));
  std::string medium = make_frame(Opcode::binary, std::string(300, 'm'));
  EXPECT_EQ(medium.substr(0, 4), std::string("\x82\x7e\x01\x2c", 4));
  std::string large = make_frame(Opcode::binary, std::string(70000, 'l'));
  EXPECT_EQ(large.substr(0, 10), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));
  EXPECT_EQ(make_close_frame(1012, "restart"), std::string("\x88\x09\x03\xf4restart", 11));
}

}  // namespace
}  // namespace parley::server::ws
