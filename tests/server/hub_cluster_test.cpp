// The hubs' side of the cluster bus, in process (fake_bus.hpp): two nodes on
// one storage, with the test deciding what the bus carries, loses and when.
#include <gtest/gtest.h>

#include "support/fake_bus.hpp"
#include "support/in_process.hpp"

namespace parley::test {
namespace {

struct TwoNodes {
  TwoNodes() : a(config(), server::make_memory_storage(), &bus_a), b(config(), a.storage, &bus_b) {
    broker.attach(bus_a, a);
    broker.attach(bus_b, b);
  }
  static server::Config config() {
    server::Config c;
    c.offline_grace_ms = 1000;
    return c;
  }
  // Both clocks move together.
  void advance(std::int64_t ms) {
    a.advance(ms);
    b.advance(ms);
    a.tick();
    b.tick();
  }
  FakeBroker broker;
  FakeBus bus_a{broker, "na"};
  FakeBus bus_b{broker, "nb"};
  InProcessServer a;
  InProcessServer b;
};

std::vector<std::int64_t> seqs_of(const std::vector<Json>& frames) {
  std::vector<std::int64_t> out;
  for (const auto& f : frames) out.push_back(seq_of(f));
  return out;
}

std::string status_of(const Json& presence_or_joined, const std::string& user) {
  for (const auto& m : presence_or_joined["members"].GetArray()) {
    if (str(m, "userId") == user) return str(m, "status");
  }
  return "";
}

TEST(HubCluster, AMessageCrossesTheBusOncePerNodeAndArrivesInOrder) {
  TwoNodes n;
  InProcessClient alice(n.a, "alice");
  InProcessClient bob(n.b, "bob");
  InProcessClient bob2(n.b, "bob2");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(bob.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(bob2.join("lobby"), "type"), "joined");
  n.broker.confirm_watches();
  n.broker.deliver();
  bob.all("presence");
  ASSERT_EQ(str(alice.send_text("lobby", "c_one_00001", "one"), "type"), "ack");
  // One message event on the bus for node B's two subscribers.
  EXPECT_EQ(n.broker.deliver(), 1);
  EXPECT_EQ(seqs_of(bob.all("message")), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(seqs_of(bob2.all("message")), (std::vector<std::int64_t>{1}));
}

TEST(HubCluster, ALostEventIsFilledFromStorageBeforeTheNextIsDelivered) {
  TwoNodes n;
  InProcessClient alice(n.a, "alice");
  InProcessClient bob(n.b, "bob");
  alice.join("lobby");
  bob.join("lobby");
  n.broker.confirm_watches();
  n.broker.deliver();
  n.broker.lose_next(1);
  alice.send_text("lobby", "c_one_00001", "one", "s1");
  n.broker.deliver();
  EXPECT_TRUE(bob.all("message").empty()) << "the event was lost";
  alice.send_text("lobby", "c_two_00002", "two", "s2");
  n.broker.deliver();
  EXPECT_EQ(seqs_of(bob.all("message")), (std::vector<std::int64_t>{1, 2}));
  // A late duplicate of what storage gave is not delivered again.
  alice.send_text("lobby", "c_three_0003", "three", "s3");
  n.broker.deliver();
  EXPECT_EQ(seqs_of(bob.all("message")), (std::vector<std::int64_t>{3}));
}

TEST(HubCluster, WithTheBusDownSendersOnBothNodesStillGiveOneOrderAndItIsPolledFromStorage) {
  TwoNodes n;
  InProcessClient alice(n.a, "alice");
  InProcessClient bob(n.b, "bob");
  alice.join("lobby");
  bob.join("lobby");
  n.broker.up = false;
  alice.send_text("lobby", "c_a_000001", "from a", "s1");
  // bob's send finds seq 1 taken: alice's message reaches bob first.
  Json ack = bob.send_text("lobby", "c_b_000001", "from b", "s2");
  EXPECT_EQ(ack["message"]["seq"].GetInt64(), 2);
  EXPECT_EQ(seqs_of(bob.all("message")), (std::vector<std::int64_t>{1, 2}));
  // alice's node reads storage once a second while the bus is down.
  EXPECT_EQ(seqs_of(alice.all("message")), (std::vector<std::int64_t>{1}));
  n.advance(1000);
  EXPECT_EQ(seqs_of(alice.all("message")), (std::vector<std::int64_t>{2}));
}

TEST(HubCluster, AWatchConfirmedAfterAnOutageCatchesUp) {
  TwoNodes n;
  InProcessClient alice(n.a, "alice");
  InProcessClient bob(n.b, "bob");
  alice.join("lobby");
  bob.join("lobby");
  n.broker.up = false;
  for (int i = 0; i < 3; ++i) alice.send_text("lobby", cmid("a", i), "m", "s" + std::to_string(i));
  n.broker.up = true;
  n.bus_b.unconfirmed.insert(server::room_channel("default", "lobby"));  // resubscribed after the outage
  n.broker.confirm_watches();
  EXPECT_EQ(seqs_of(bob.all("message")), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(HubCluster, PresenceMergesTheNodesAndForgetsADeadOne) {
  TwoNodes n;
  InProcessClient alice(n.a, "alice");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  n.broker.deliver();
  InProcessClient bob(n.b, "bob");
  // bob's node reads alice's word from the bus's store when it loads the room.
  Json joined = bob.join("lobby");
  EXPECT_EQ(status_of(joined, "alice"), "online");
  n.broker.deliver();
  auto told = alice.all("presence");
  ASSERT_FALSE(told.empty());
  EXPECT_EQ(status_of(told.back(), "bob"), "online");

  // alice opens a second connection on node B, then node A dies: she stays
  // online through node B.
  InProcessClient alice2(n.b, "alice");
  alice2.join("lobby");
  n.broker.dead.insert("na");
  n.advance(100);
  for (const auto& p : bob.all("presence")) EXPECT_NE(status_of(p, "alice"), "offline");
  // Her last connection goes: offline after the grace period.
  alice2.disconnect();
  n.advance(1000);
  auto later = bob.all("presence");
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(status_of(later.back(), "alice"), "offline");
}

TEST(HubCluster, AUserOnlyOnADeadNodeGoesOffline) {
  TwoNodes n;
  InProcessClient carol(n.a, "carol");
  carol.join("lobby");
  InProcessClient bob(n.b, "bob");
  bob.join("lobby");
  n.broker.deliver();
  n.broker.dead.insert("na");
  n.advance(100);
  auto told = bob.all("presence");
  ASSERT_FALSE(told.empty());
  EXPECT_EQ(status_of(told.back(), "carol"), "offline");
}

TEST(HubCluster, TypingReceiptsAndKicksReachTheOtherNode) {
  TwoNodes n;
  InProcessClient alice(n.a, "alice");
  InProcessClient bob(n.b, "bob");
  alice.join("lobby");
  bob.join("lobby");
  n.broker.confirm_watches();
  bob.send(R"({"type":"typing","roomId":"lobby","active":true})");
  n.broker.deliver();
  Json typing = alice.next("typing");
  ASSERT_FALSE(typing.IsNull());
  EXPECT_EQ(str(typing, "userId"), "bob");
  EXPECT_TRUE(bob.next("typing").IsNull()) << "not echoed to the typist";

  alice.send_text("lobby", "c_hello_0001", "hello");
  n.broker.deliver();
  ASSERT_FALSE(bob.next("message").IsNull());
  bob.request(R"({"type":"read","ref":"r1","roomId":"lobby","upToSeq":1})", "r1");
  n.broker.deliver();
  Json receipt = alice.next("receipt");
  ASSERT_FALSE(receipt.IsNull());
  EXPECT_EQ(str(receipt, "userId"), "bob");

  Json kicked = alice.request(R"({"type":"kick","ref":"k1","roomId":"lobby","userId":"bob"})", "k1");
  EXPECT_EQ(str(kicked, "type"), "ack");
  n.broker.deliver();
  EXPECT_FALSE(bob.next("removed").IsNull());
  // bob's connection has left the room on node B.
  Json refused = bob.send_text("lobby", "c_after_0001", "still here?", "s9");
  EXPECT_EQ(str(refused, "type"), "error");
}

TEST(HubCluster, TheNextMessageIsDeliveredAtOnceAndAnythingElseWaitsForAStorageThread) {
  TwoNodes n;
  InProcessClient alice(n.a, "alice");
  InProcessClient bob(n.b, "bob");
  alice.join("lobby");
  bob.join("lobby");
  n.broker.lose_next(100);  // the test hands the events over itself
  alice.send_text("lobby", "c_one_00001", "one", "s1");
  alice.send_text("lobby", "c_two_00002", "two", "s2");
  auto stored = n.a.storage->messages_after("lobby", 0, 10).value();
  ASSERT_EQ(stored.size(), 2u);
  auto event = [&](std::size_t i) {
    server::RoomEvent e;
    e.kind = server::RoomEvent::Kind::message;
    e.origin = "na";
    e.frame = protocol::encode(protocol::s2c::Frame{protocol::s2c::MessageEvent{stored[i]}}, protocol::Codec::binary);
    return e;
  };
  server::Hub& hub = n.b.tenant().hub();
  // seq 2 before seq 1: not the next, so it is left to on_bus_event (which reads the gap).
  EXPECT_FALSE(hub.deliver_now("lobby", event(1)));
  EXPECT_TRUE(bob.all("message").empty());
  EXPECT_TRUE(hub.deliver_now("lobby", event(0)));
  EXPECT_TRUE(hub.deliver_now("lobby", event(1)));
  EXPECT_EQ(seqs_of(bob.all("message")), (std::vector<std::int64_t>{1, 2}));
  // Delivered already: handled, nothing sent again.
  EXPECT_TRUE(hub.deliver_now("lobby", event(1)));
  EXPECT_TRUE(bob.all("message").empty());
  // A room not in memory, and events that are not messages, are not for the fast path.
  EXPECT_FALSE(hub.deliver_now("elsewhere", event(0)));
  server::RoomEvent typing = event(0);
  typing.kind = server::RoomEvent::Kind::typing;
  EXPECT_FALSE(hub.deliver_now("lobby", typing));
}

}  // namespace
}  // namespace parley::test
