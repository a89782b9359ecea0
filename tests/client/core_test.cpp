// The client core driven natively with a fake transport and a fake clock.
#include <gtest/gtest.h>

#include "support/fake_host.hpp"

namespace parley::client {
namespace {

using namespace protocol;
using test::FakeHost;
using test::make_joined;
using test::make_message;

template <class T>
std::optional<T> find_effect(const std::vector<Effect>& effects) {
  for (const auto& e : effects) {
    if (const T* t = std::get_if<T>(&e)) return *t;
  }
  return std::nullopt;
}

template <class T>
bool has_effect(const std::vector<Effect>& effects) {
  return find_effect<T>(effects).has_value();
}

TEST(ClientCore, ConnectOpensSocketAsksForTokenAndSaysHello) {
  FakeHost host;
  host.core.connect(host.now);
  auto effects = host.drain();
  ASSERT_TRUE(has_effect<OpenSocket>(effects));
  EXPECT_TRUE(has_effect<RequestToken>(effects));
  auto open = *find_effect<OpenSocket>(effects);
  EXPECT_EQ(open.url, "ws://server.test/ws");
  EXPECT_EQ(open.subprotocol, "parley.v1.json");
  EXPECT_EQ(host.core.connection().state, ConnectionState::connecting);

  host.core.socket_opened(open.socket, host.now);
  EXPECT_TRUE(host.take_sent().empty()) << "no hello before the token";
  host.core.set_token("jwt-1", host.now);
  auto hello = host.expect_sent<c2s::Hello>();
  EXPECT_EQ(hello.token, "jwt-1");
  EXPECT_EQ(hello.v, 1);
  EXPECT_EQ(host.core.connection().state, ConnectionState::authenticating);
}

TEST(ClientCore, WelcomeConnectsAndJoinSendsJoin) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  EXPECT_EQ(host.core.connection().state, ConnectionState::connected);
  EXPECT_EQ(host.core.connection().user->name, "Alice");

  host.core.join("lobby", host.now);
  auto join = host.expect_sent<c2s::Join>();
  EXPECT_EQ(join.roomId, "lobby");
  EXPECT_FALSE(join.sinceSeq);
}

TEST(ClientCore, SendIsOptimisticAndTheAckConfirmsItInPlace) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.join("lobby", host.now);
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 0));

  std::string key = host.core.send("lobby", "hello bob", host.now);
  auto send = host.expect_sent<c2s::Send>();
  EXPECT_EQ(send.clientMsgId, key);
  EXPECT_EQ(send.message.content, "hello bob");

  auto view = host.core.room("lobby");
  ASSERT_EQ(view.items.size(), 1u);
  EXPECT_EQ(view.items[0].status, MessageStatus::sending);
  EXPECT_EQ(view.items[0].key, key);
  EXPECT_EQ(view.items[0].message.senderName, "Alice");

  host.deliver(s2c::Ack{*send.ref, make_message("lobby", 1, "alice", key, "hello bob")});
  // The echo of the same message must not duplicate it.
  host.deliver(s2c::MessageEvent{make_message("lobby", 1, "alice", key, "hello bob")});
  view = host.core.room("lobby");
  ASSERT_EQ(view.items.size(), 1u);
  EXPECT_EQ(view.items[0].key, key) << "the key stays stable from pending to confirmed";
  EXPECT_EQ(view.items[0].status, MessageStatus::sent);
  EXPECT_EQ(view.items[0].message.seq, 1);
  EXPECT_EQ(view.items[0].message.id, "m_1");
}

TEST(ClientCore, MessagesFromOthersAreOrderedBySeqAndDeduplicated) {
  FakeHost host;
  host.connect_as("bob", "Bob");
  host.core.join("lobby", host.now);
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 2, {make_message("lobby", 2, "alice", "c_aaaaaaa2", "two")}));
  host.deliver(s2c::MessageEvent{make_message("lobby", 3, "alice", "c_aaaaaaa3", "three")});
  host.deliver(s2c::MessageEvent{make_message("lobby", 3, "alice", "c_aaaaaaa3", "three")});
  auto view = host.core.room("lobby");
  ASSERT_EQ(view.items.size(), 2u);
  EXPECT_EQ(view.items[0].message.content, "two");
  EXPECT_EQ(view.items[1].message.content, "three");
  EXPECT_FALSE(view.items[1].mine);
}

TEST(ClientCore, SendsWhileDisconnectedAreQueuedAndFlushedAfterRejoin) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.join("lobby", host.now);
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 5, {make_message("lobby", 5, "bob", "c_bbbbbbb5", "hi")}));

  // The socket drops: the core backs off within [0, base] for the first retry.
  host.core.socket_closed(host.socket, 1006, host.now);
  host.drain();
  EXPECT_EQ(host.core.connection().state, ConnectionState::backoff);
  ASSERT_FALSE(host.timers.empty());
  EXPECT_GE(host.timers.back().delay_ms, 0);
  EXPECT_LE(host.timers.back().delay_ms, 500);
  EXPECT_EQ(*host.core.connection().next_attempt_at, host.now + host.timers.back().delay_ms);

  std::string k1 = host.core.send("lobby", "one", host.now);
  std::string k2 = host.core.send("lobby", "two", host.now);
  EXPECT_TRUE(host.take_sent().empty()) << "nothing goes out while disconnected";
  auto view = host.core.room("lobby");
  EXPECT_EQ(view.items[1].status, MessageStatus::queued);
  EXPECT_EQ(view.items[2].status, MessageStatus::queued);

  host.now += host.timers.back().delay_ms;
  host.core.timer_fired(reconnect_timer, host.now);
  host.connect_as("alice", "Alice");  // the new attempt: open, token, hello, welcome
  auto rejoin = host.expect_sent<c2s::Join>();
  EXPECT_EQ(rejoin.sinceSeq, 5) << "resume from the last seq seen";
  host.deliver(make_joined(rejoin.ref, "lobby", 5));
  auto flushed = host.take_sent();
  ASSERT_EQ(flushed.size(), 2u);
  EXPECT_EQ(std::get<c2s::Send>(flushed[0]).clientMsgId, k1);
  EXPECT_EQ(std::get<c2s::Send>(flushed[1]).clientMsgId, k2);
}

TEST(ClientCore, EventsFromAnAbandonedSocketAreIgnored) {
  FakeHost host;
  host.core.connect(host.now);
  host.drain();
  std::uint32_t first = host.socket;
  host.core.socket_closed(first, 1006, host.now);
  host.core.timer_fired(reconnect_timer, host.now + 10'000);
  host.drain();
  ASSERT_NE(host.socket, first);
  host.core.socket_opened(first, host.now);  // late event of the old socket
  host.core.set_token("t", host.now);
  EXPECT_TRUE(host.take_sent().empty());
  EXPECT_EQ(host.core.connection().state, ConnectionState::connecting);
}

TEST(ClientCore, ARefusedSendIsMarkedFailedWithTheReason) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.join("lobby", host.now);
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 0));
  host.core.send("lobby", std::string(10, 'x'), host.now);
  auto send = host.expect_sent<c2s::Send>();
  s2c::Error error;
  error.ref = send.ref;
  error.code = "too_large";
  error.message = "too long";
  error.path = "/message/content";
  host.deliver(error);
  auto view = host.core.room("lobby");
  ASSERT_EQ(view.items.size(), 1u);
  EXPECT_EQ(view.items[0].status, MessageStatus::failed);
  EXPECT_EQ(view.items[0].error->code, ErrorCode::too_large);
}

TEST(ClientCore, AnInvalidServerFrameDropsTheConnection) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.received(host.socket, R"({"type":"message"})", host.now);
  auto effects = host.drain();
  EXPECT_TRUE(has_effect<CloseSocket>(effects));
  EXPECT_EQ(host.core.connection().state, ConnectionState::backoff);
  EXPECT_EQ(host.core.connection().last_error->path, "/message");
}

}  // namespace
}  // namespace parley::client
