// Drives a client Core the way the JS wrapper does, with a fake clock, fake
// timers and a fake transport: the test plays the server by reading what the
// core sent and feeding it server frames.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/core.hpp"
#include "parley/protocol/version.hpp"
#include "support/json_views.hpp"

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
  // The views as the browser sees them (the JSON, read back).
  RoomView room(const std::string& room_id) const { return parse_room_view(core.room_json(room_id)); }
  client::ConnectionView connection() const { return parse_connection_view(core.connection_json()); }
  std::int64_t now = 1'000'000;
  std::uint32_t socket = 0;  // the socket the core opened last
  bool socket_open = false;
  std::map<std::uint32_t, std::int64_t> timers;  // id -> due time
  std::map<std::string, std::string> storage;    // what Persist wrote
  std::vector<protocol::c2s::Frame> sent;        // frames not looked at yet
  std::vector<client::Effect> closes;            // close_socket effects
  int token_requests = 0;
  int opens = 0;

  // Performs the core's effects like the wrapper does.
  std::vector<client::Effect> drain() {
    auto fresh = core.take_effects();
    for (auto& e : fresh) {
      switch (e.kind) {
        case client::Effect::open_socket:
          socket = e.id;
          socket_open = false;
          ++opens;
          break;
        case client::Effect::start_timer:
          timers[e.id] = now + e.number;
          break;
        case client::Effect::cancel_timer:
          timers.erase(e.id);
          break;
        case client::Effect::send_frame: {
          auto frame = protocol::decode_client_frame(e.text, protocol::Codec::json);
          EXPECT_TRUE(frame) << frame.error().message;
          if (frame) sent.push_back(frame.value());
          break;
        }
        case client::Effect::close_socket:
          closes.push_back(e);
          break;
        case client::Effect::persist:
          storage[e.text] = e.data;
          break;
        case client::Effect::request_token:
          ++token_requests;
          break;
        case client::Effect::notify:
          break;
      }
    }
    return fresh;
  }

  // Moves the clock forward, firing due timers in order.
  void advance(std::int64_t ms) {
    std::int64_t until = now + ms;
    drain();
    for (;;) {
      auto next = std::min_element(timers.begin(), timers.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
      if (next == timers.end() || next->second > until) break;
      now = std::max(now, next->second);
      std::uint32_t id = next->first;
      timers.erase(next);
      core.timer_fired(id, now);
      drain();
    }
    now = until;
  }

  std::vector<protocol::c2s::Frame> take_sent() {
    drain();
    return std::exchange(sent, {});
  }

  // Frames of type T sent so far; the others stay for later calls.
  template <class T>
  std::vector<T> take_sent_of() {
    drain();
    std::vector<T> out;
    std::vector<protocol::c2s::Frame> rest;
    for (auto& f : sent) {
      if (auto* t = std::get_if<T>(&f)) {
        out.push_back(*t);
      } else {
        rest.push_back(std::move(f));
      }
    }
    sent = std::move(rest);
    return out;
  }

  template <class T>
  T expect_sent() {
    auto frames = take_sent_of<T>();
    EXPECT_EQ(frames.size(), 1u) << "expected one " << T::type << " frame";
    return frames.empty() ? T{} : frames[0];
  }

  void deliver(const protocol::s2c::Frame& frame) {
    core.received(socket, protocol::encode(frame, protocol::Codec::json), now);
    drain();
  }

  // Completes a connection attempt that is under way: open, token, hello, welcome.
  // The default send limit is generous: tests of pacing pass their own.
  void accept(const std::string& user_id, const std::string& name, std::int64_t heartbeat_ms = 25000,
              protocol::Limits limits = {65536, 4000, 1, 1000}) {
    drain();
    core.socket_opened(socket, protocol::subprotocol_json, now);
    socket_open = true;
    core.set_token("token-of-" + user_id, now);
    auto hello = expect_sent<protocol::c2s::Hello>();
    protocol::s2c::Welcome welcome;
    welcome.ref = hello.ref;
    welcome.sessionId = "s1";
    welcome.user = {user_id, name};
    welcome.serverTime = now;
    welcome.heartbeatMs = heartbeat_ms;
    welcome.limits = limits;
    deliver(welcome);
  }

  void connect_as(const std::string& user_id, const std::string& name) {
    core.connect(now);
    accept(user_id, name);
  }

  // The socket drops (as the browser reports it).
  void drop(std::uint16_t code = 1006) {
    socket_open = false;
    core.socket_closed(socket, code, now);
    drain();
  }
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
                                         std::vector<protocol::Message> messages = {},
                                         std::vector<protocol::Member> members = {}) {
  protocol::s2c::Joined j;
  j.ref = std::move(ref);
  j.room = {std::move(room), "public"};
  j.epoch = "e1";
  j.headSeq = head_seq;
  j.members = std::move(members);
  j.messages = std::move(messages);
  return j;
}

// An `error` frame as the server sends it; without `ref` it is about the connection.
inline protocol::s2c::Error make_error(std::optional<std::string> ref, std::string code, std::string message,
                                       std::optional<std::int64_t> retry_after_ms = std::nullopt) {
  protocol::s2c::Error e;
  e.ref = std::move(ref);
  e.code = std::move(code);
  e.message = std::move(message);
  e.retryAfterMs = retry_after_ms;
  return e;
}

inline protocol::Draft text(std::string content) {
  protocol::Draft d;
  d.content = std::move(content);
  return d;
}

}  // namespace parley::test
