// The client core's parts on their own, over explicit time: requests and
// their answers, typing both ways, receipts. The core that coordinates them
// is tested through a fake host (connection_test, outbox_test, rooms_test).
#include <gtest/gtest.h>

#include "parley/client/receipts.hpp"
#include "parley/client/requests.hpp"
#include "parley/client/typing.hpp"

namespace parley::client {
namespace {

TEST(Requests, AnAnswerIsMatchedOnceByItsRefAndALostConnectionDropsThemAll) {
  Requests requests;
  std::string join = requests.add(Request{Request::join_request, "lobby"});
  std::string send = requests.add(Request{Request::send_request, "lobby", "c1"});
  EXPECT_NE(join, send);
  auto answered = requests.take(send);
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->kind, Request::send_request);
  EXPECT_EQ(answered->client_msg_id, "c1");
  EXPECT_FALSE(requests.take(send)) << "answered once";
  EXPECT_FALSE(requests.take(std::nullopt)) << "a frame without a ref answers nothing";
  EXPECT_FALSE(requests.take("999")) << "nothing asked under that ref";
  requests.clear();
  EXPECT_FALSE(requests.take(join)) << "asked on a connection that is gone";
  EXPECT_NE(requests.add(Request{Request::other_request}), join) << "refs are never reused";
}

TEST(OwnTyping, SendsAtMostOncePerThrottleAndStopsAfterTheIdleTime) {
  OwnTyping typing;
  EXPECT_FALSE(typing.deadline());
  EXPECT_TRUE(typing.typed(0, 2'000, 3'000, true));
  EXPECT_FALSE(typing.typed(1'999, 2'000, 3'000, true)) << "within the throttle";
  EXPECT_EQ(typing.deadline(), 4'999) << "idle time from the last keystroke";
  EXPECT_TRUE(typing.typed(2'000, 2'000, 3'000, true));
  EXPECT_TRUE(typing.stop()) << "the server was told: tell it we stopped";
  EXPECT_FALSE(typing.stop());
  EXPECT_FALSE(typing.deadline());
}

TEST(OwnTyping, NothingIsQueuedOfflineAndANewConnectionIsToldAtOnce) {
  OwnTyping typing;
  EXPECT_FALSE(typing.typed(0, 2'000, 3'000, false)) << "not joined: volatile, not queued";
  EXPECT_FALSE(typing.stop()) << "the server never heard of it";
  EXPECT_TRUE(typing.typed(10, 2'000, 3'000, true));
  typing.connection_lost();
  EXPECT_TRUE(typing.typed(20, 2'000, 3'000, true)) << "the new connection has not heard yet";
}

TEST(Typists, AreShownUntilTheirTtlOrUntilTheyStop) {
  Typists others;
  others.started("bob", "Bob", 5'000);
  others.started("carol", "Carol", 3'000);
  EXPECT_EQ(others.deadline(), 3'000);
  EXPECT_FALSE(others.expire(2'999));
  EXPECT_TRUE(others.expire(3'000));
  ASSERT_EQ(others.all().size(), 1u);
  EXPECT_EQ(others.all().at("bob").name, "Bob");
  others.started("bob", "Bob", 9'000);  // a refresh moves the end
  EXPECT_EQ(others.deadline(), 9'000);
  EXPECT_TRUE(others.stopped("bob"));
  EXPECT_FALSE(others.stopped("bob"));
  EXPECT_FALSE(others.deadline());
}

TEST(Receipts, MarksOnlyMoveForwardAndAreCoalescedLeadingEdgeFirst) {
  Receipts receipts;
  EXPECT_FALSE(receipts.deadline());
  EXPECT_TRUE(receipts.advance(Receipts::delivered, 5, 1'000, 300));
  EXPECT_EQ(receipts.deadline(), 1'000) << "the first after a quiet spell goes at once";
  Receipts::Unsent first = receipts.take(1'000);
  EXPECT_EQ(first.delivered, 5);
  EXPECT_EQ(first.read, 0);
  EXPECT_FALSE(receipts.advance(Receipts::delivered, 5, 1'010, 300)) << "not ahead of what was sent";
  EXPECT_TRUE(receipts.advance(Receipts::delivered, 7, 1'010, 300));
  EXPECT_TRUE(receipts.advance(Receipts::read, 6, 1'020, 300));
  EXPECT_EQ(receipts.deadline(), 1'300) << "the next ones wait for the delay after the last flush";
  EXPECT_TRUE(receipts.any_unsent());
  Receipts::Unsent second = receipts.take(1'300);
  EXPECT_EQ(second.read, 6);
  EXPECT_EQ(second.delivered, 7);
  EXPECT_FALSE(receipts.any_unsent());
  EXPECT_FALSE(receipts.deadline());
  Receipts::Unsent nothing = receipts.take(2'000);
  EXPECT_EQ(nothing.read + nothing.delivered, 0);
}

}  // namespace
}  // namespace parley::client
