// Drives a client Core the way the JS wrapper does, with a fake clock and a
// fake transport: the test plays the server by reading what the core sent and
// feeding it server frames.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "parley/client/core.hpp"

namespace parley::test {

class FakeHost {
 public:
  explicit FakeHost(client::Config config = default_config()) : core(std::move(config)) {}

  static client::Config default_config() {
    client::Config c;
    c.url = "ws://server.test/ws";
    c.seed = 42;
    return c;
  }

  client::Core core;
  std::int64_t now = 1'000'000;

  // Effects taken so far that the test has not looked at yet.
  std::vector<client::Effect> drain() {
    auto fresh = core.take_effects();
    for (auto& e : fresh) {
      if (auto* open = std::get_if<client::OpenSocket>(&e)) socket = open->socket;
      if (auto* timer = std::get_if<client::StartTimer>(&e)) timers.push_back(*timer);
      if (auto* send = std::get_if<client::SendFrame>(&e)) {
        auto frame = protocol::decode_client_frame(send->bytes, protocol::Codec::json);
        EXPECT_TRUE(frame) << frame.error().message;
        if (frame) sent.push_back(frame.value());
      }
    }
    return fresh;
  }

  // Frames the core sent, decoded, since the last call.
  std::vector<protocol::c2s::Frame> take_sent() {
    drain();
    return std::exchange(sent, {});
  }

  template <class T>
  T expect_sent() {
    auto frames = take_sent();
    EXPECT_EQ(frames.size(), 1u);
    if (frames.size() != 1 || !std::holds_alternative<T>(frames[0])) {
      ADD_FAILURE() << "expected one " << T::type << " frame";
      return T{};
    }
    return std::get<T>(frames[0]);
  }

  void deliver(const protocol::s2c::Frame& frame) {
    core.received(socket, protocol::encode(frame, protocol::Codec::json), now);
  }

  // connect, open, token, hello -> welcome: returns with the core connected.
  void connect_as(const std::string& user_id, const std::string& name) {
    core.connect(now);
    drain();
    core.socket_opened(socket, now);
    core.set_token("token-of-" + user_id, now);
    auto hello = expect_sent<protocol::c2s::Hello>();
    protocol::s2c::Welcome welcome;
    welcome.ref = hello.ref;
    welcome.sessionId = "s1";
    welcome.user = {user_id, name};
    welcome.serverTime = now;
    welcome.heartbeatMs = 25000;
    welcome.limits = {65536, 4000};
    deliver(welcome);
  }

  std::uint32_t socket = 0;
  std::vector<client::StartTimer> timers;
  std::vector<protocol::c2s::Frame> sent;
};

inline protocol::Message make_message(std::string room, std::int64_t seq, std::string sender, std::string client_msg_id,
                                      std::string content) {
  protocol::Message m;
  m.id = "m_" + std::to_string(seq);
  m.roomId = std::move(room);
  m.senderId = sender;
  m.senderName = sender;
  m.clientMsgId = std::move(client_msg_id);
  m.seq = seq;
  m.content = std::move(content);
  m.createdAt = 1'000'000 + seq;
  return m;
}

inline protocol::s2c::Joined make_joined(std::optional<std::string> ref, std::string room, std::int64_t head_seq,
                                         std::vector<protocol::Message> messages = {}) {
  protocol::s2c::Joined j;
  j.ref = std::move(ref);
  j.room = {std::move(room), "public"};
  j.epoch = "e1";
  j.headSeq = head_seq;
  j.messages = std::move(messages);
  return j;
}

}  // namespace parley::test
