// Presence and rate limits as pure state machines over a fake clock.
#include <gtest/gtest.h>

#include "hub/presence.hpp"
#include "rate_limit.hpp"

namespace parley::server {
namespace {

constexpr PresenceTimings kTimings{1000, 300};  // idle after 1 s, offline 300 ms after the last connection

TEST(Presence, FirstConnectionIsOnlineAndLastOneGoesOfflineAfterTheGrace) {
  RoomPresence p(kTimings);
  auto c = p.connected("alice", 0);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, PresenceStatus::online);
  p.disconnected("alice", 100);
  EXPECT_TRUE(p.tick(399).empty()) << "still within the grace period";
  EXPECT_EQ(p.status_of("alice"), PresenceStatus::online);
  auto changes = p.tick(400);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].status, PresenceStatus::offline);
  EXPECT_EQ(changes[0].last_seen, 100);
}

TEST(Presence, AQuickReconnectDoesNotFlap) {
  RoomPresence p(kTimings);
  p.connected("alice", 0);
  p.disconnected("alice", 100);
  EXPECT_FALSE(p.connected("alice", 250)) << "no change: she never looked offline";
  EXPECT_TRUE(p.tick(1000).empty());
}

TEST(Presence, IsAggregatedOverConnections) {
  RoomPresence p(kTimings);
  p.connected("alice", 0);
  EXPECT_FALSE(p.connected("alice", 10)) << "a second tab changes nothing";
  p.disconnected("alice", 20);
  for (const auto& c : p.tick(5000)) EXPECT_NE(c.status, PresenceStatus::offline) << "one tab is still open";
  EXPECT_NE(p.status_of("alice"), PresenceStatus::offline);
  EXPECT_EQ(p.connected_users(), 1u);
}

TEST(Presence, InactivityTurnsIdleAndActivityBringsOnlineBack) {
  RoomPresence p(kTimings);
  p.connected("alice", 0);
  EXPECT_TRUE(p.tick(999).empty());
  auto idle = p.tick(1000);
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0].status, PresenceStatus::idle);
  auto back = p.activity("alice", 1500);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, PresenceStatus::online);
}

TEST(Presence, AwayIsTheUsersChoiceAndSticks) {
  RoomPresence p(kTimings);
  p.connected("alice", 0);
  EXPECT_EQ(p.set_status("alice", PresenceStatus::away, 10)->status, PresenceStatus::away);
  EXPECT_TRUE(p.tick(5000).empty()) << "away does not decay into idle";
  EXPECT_FALSE(p.activity("alice", 5001)) << "activity does not clear away";
  EXPECT_EQ(p.set_status("alice", PresenceStatus::online, 6000)->status, PresenceStatus::online);
}

TEST(TokenBucket, AllowsABurstThenTheRateAndSaysWhenToRetry) {
  const Rate rate{2, 3};  // 2 per second, burst 3
  TokenBucket b(rate);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.take(rate, 0), 0);
  std::int64_t wait = b.take(rate, 0);
  EXPECT_EQ(wait, 500);
  EXPECT_GT(b.take(rate, 499), 0);
  EXPECT_EQ(b.take(rate, 500), 0);
  EXPECT_EQ(b.take(rate, 10'000), 0);
  for (int i = 0; i < 2; ++i) EXPECT_EQ(b.take(rate, 10'000), 0);
  EXPECT_GT(b.take(rate, 10'000), 0) << "the bucket never holds more than its burst";
}

}  // namespace
}  // namespace parley::server
