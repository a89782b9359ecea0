// The client core's connection state machine, with a fake clock and transport.
#include <gtest/gtest.h>

#include "backoff.hpp"
#include "support/fake_host.hpp"

namespace parley::client {
namespace {

using namespace protocol;
using test::FakeHost;

TEST(Backoff, StaysWithinFullJitterBoundsAndCaps) {
  for (int attempt = 0; attempt < 12; ++attempt) {
    std::int64_t ceiling = std::min<std::int64_t>(10'000, 500LL << attempt);
    for (double unit : {0.0, 0.25, 0.5, 0.999999}) {
      auto d = backoff_delay(attempt, 500, 10'000, unit);
      EXPECT_GE(d, 0);
      EXPECT_LE(d, ceiling) << "attempt " << attempt;
    }
    EXPECT_GT(backoff_delay(attempt, 500, 10'000, 0.999999), ceiling * 9 / 10) << "the jitter spans the range";
  }
}

TEST(Connection, ConnectOpensAsksForATokenAndSaysHello) {
  FakeHost host;
  host.core.connect(host.now);
  host.drain();
  EXPECT_EQ(host.opens, 1);
  EXPECT_EQ(host.token_requests, 1);
  EXPECT_EQ(host.core.connection().state, ConnectionState::connecting);
  host.core.socket_opened(host.socket, host.now);
  EXPECT_TRUE(host.take_sent().empty()) << "no hello before the token";
  host.core.set_token("jwt-1", host.now);
  auto hello = host.expect_sent<c2s::Hello>();
  EXPECT_EQ(hello.token, "jwt-1");
  EXPECT_EQ(host.core.connection().state, ConnectionState::authenticating);
}

TEST(Connection, BacksOffWithGrowingCeilingsAndStartsOverAfterAStableConnection) {
  FakeHost host;
  host.core.connect(host.now);
  host.drain();
  for (int attempt = 0; attempt < 6; ++attempt) {
    host.drop();
    ASSERT_EQ(host.core.connection().state, ConnectionState::backoff);
    EXPECT_EQ(host.core.connection().attempt, attempt + 1);
    std::int64_t delay = *host.core.connection().next_attempt_at - host.now;
    EXPECT_GE(delay, 0);
    EXPECT_LE(delay, std::min<std::int64_t>(10'000, 500LL << attempt));
    int opens = host.opens;
    host.advance(delay);
    EXPECT_EQ(host.opens, opens + 1) << "the next attempt starts when the delay is over";
  }
  host.accept("alice", "Alice");
  EXPECT_EQ(host.core.connection().attempt, 6) << "not stable yet";
  host.advance(5'000);
  EXPECT_EQ(host.core.connection().attempt, 0) << "stable: the backoff starts over";
  host.drop();
  EXPECT_LE(*host.core.connection().next_attempt_at - host.now, 500);
}

TEST(Connection, ReconnectsAfterADropAndRejoinsItsRooms) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.join("lobby", host.now);
  host.core.join("random", host.now);
  EXPECT_EQ(host.take_sent_of<c2s::Join>().size(), 2u);
  host.drop();
  host.advance(10'000);
  host.accept("alice", "Alice");
  auto joins = host.take_sent_of<c2s::Join>();
  ASSERT_EQ(joins.size(), 2u);
  EXPECT_EQ(host.core.connection().state, ConnectionState::connected);
}

TEST(Connection, GoesOfflineWithTheNetworkAndRetriesAtOnceWhenItIsBack) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.network_offline(host.now);
  host.drain();
  EXPECT_EQ(host.core.connection().state, ConnectionState::offline);
  ASSERT_FALSE(host.closes.empty()) << "an open socket is closed: browsers may keep it";
  host.advance(60'000);
  EXPECT_EQ(host.core.connection().state, ConnectionState::offline) << "no attempts while offline";
  int opens = host.opens;
  host.core.network_online(host.now);
  host.drain();
  EXPECT_EQ(host.opens, opens + 1);
}

TEST(Connection, AskesForAFreshTokenAfter4001) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  EXPECT_EQ(host.token_requests, 1);
  host.drop();
  host.advance(10'000);
  EXPECT_EQ(host.token_requests, 1) << "the token is still good";
  host.accept("alice", "Alice");
  host.drop(close_code::unauthorized);
  EXPECT_EQ(host.core.connection().last_error->code, ErrorCode::unauthorized);
  host.advance(10'000);
  EXPECT_EQ(host.token_requests, 2) << "after 4001 the app is asked again";
}

TEST(Connection, DetectsADeadConnectionAfterTwoSilentHeartbeats) {
  FakeHost host;
  host.core.connect(host.now);
  host.accept("alice", "Alice", 1000);
  host.advance(999);
  EXPECT_TRUE(host.take_sent_of<c2s::Ping>().empty());
  host.advance(1);
  EXPECT_EQ(host.take_sent_of<c2s::Ping>().size(), 1u) << "quiet for a heartbeat: ping";
  host.advance(999);
  EXPECT_EQ(host.core.connection().state, ConnectionState::connected);
  host.advance(1);
  EXPECT_EQ(host.core.connection().state, ConnectionState::backoff) << "no answer for two heartbeats: dead";
  EXPECT_FALSE(host.closes.empty());
}

TEST(Connection, AnyFrameFromTheServerKeepsTheConnectionAlive) {
  FakeHost host;
  host.core.connect(host.now);
  host.accept("alice", "Alice", 1000);
  for (int i = 0; i < 10; ++i) {
    host.advance(1000);
    for (auto& ping : host.take_sent_of<c2s::Ping>()) host.deliver(s2c::Pong{ping.ref, host.now});
  }
  EXPECT_EQ(host.core.connection().state, ConnectionState::connected);
}

TEST(Connection, IgnoresEventsOfAnAbandonedSocket) {
  FakeHost host;
  host.core.connect(host.now);
  host.drain();
  std::uint32_t first = host.socket;
  host.drop();
  host.advance(10'000);
  ASSERT_NE(host.socket, first);
  host.core.socket_opened(first, host.now);
  host.core.set_token("t", host.now);
  EXPECT_TRUE(host.take_sent().empty());
  EXPECT_EQ(host.core.connection().state, ConnectionState::connecting);
}

TEST(Connection, AnInvalidServerFrameDropsTheConnection) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.received(host.socket, R"({"type":"message"})", host.now);
  host.drain();
  EXPECT_FALSE(host.closes.empty());
  EXPECT_EQ(host.core.connection().state, ConnectionState::backoff);
  EXPECT_EQ(host.core.connection().last_error->path, "/message");
}

TEST(Connection, DisconnectClosesAndStaysClosed) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.disconnect(host.now);
  host.drain();
  EXPECT_EQ(host.core.connection().state, ConnectionState::closed);
  host.advance(60'000);
  EXPECT_EQ(host.opens, 1);
}

}  // namespace
}  // namespace parley::client
