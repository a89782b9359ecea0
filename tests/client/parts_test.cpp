// The client core's parts on their own, over explicit time: requests and
// their answers, typing both ways, receipts, the connection, the outbox, and
// a room's join and history. The core that coordinates them
// is tested through a fake host (connection_test, outbox_test, rooms_test).
#include <gtest/gtest.h>

#include "parley/client/connection.hpp"
#include "parley/client/outbox.hpp"
#include "parley/client/receipts.hpp"
#include "parley/client/requests.hpp"
#include "parley/client/room.hpp"
#include "parley/client/typing.hpp"
#include "support/fake_host.hpp"

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

// ---- connection

Connection::Timings timings() { return Connection::Timings{500, 10'000, 5'000, 10'000, 25'000}; }

TEST(Connection, AnAttemptNotWelcomedInTimeIsDeadAndEventsOfALostSocketAreStale) {
  Connection c(timings());
  std::uint32_t first = c.begin_attempt(1'000);
  c.set_state(ConnectionState::connecting);
  EXPECT_EQ(c.deadline(), 11'000) << "the handshake's deadline";
  EXPECT_FALSE(c.dead(10'999));
  EXPECT_TRUE(c.dead(11'000));
  c.lost();
  EXPECT_FALSE(c.is_current(first));
  std::uint32_t second = c.begin_attempt(12'000);
  EXPECT_TRUE(c.is_current(second));
  EXPECT_NE(first, second);
}

TEST(Connection, BacksOffWithJitterWithinTheCeilingAndNeverBeforeTheServersWait) {
  Connection c(timings());
  c.begin_attempt(0);
  c.lost();
  c.set_state(ConnectionState::reconnecting);
  EXPECT_EQ(c.backoff(0, 0.999), 500) << "attempt 0: up to the base";
  EXPECT_EQ(c.view().next_attempt_at, 500);
  EXPECT_EQ(c.view().attempt, 1);
  EXPECT_EQ(c.backoff_ceiling(), 1'000);
  EXPECT_EQ(c.backoff(0, 0.0), 0);
  c.hold_until(3'000);
  EXPECT_EQ(c.backoff(1'000, 0.0), 2'000) << "the server's retryAfterMs";
  EXPECT_EQ(c.backoff(1'000, 0.0, 2'500), 2'500) << "the floor a close asked for";
  for (int i = 0; i < 30; ++i) EXPECT_LE(c.backoff(5'000, 0.999), 10'000) << "the cap";
  c.set_state(ConnectionState::connecting);
  EXPECT_FALSE(c.view().next_attempt_at) << "only in backoff";
}

TEST(Connection, PingsAfterAQuietHeartbeatIsDeadAfterTwoAndStableAfterAWhile) {
  Connection c(timings());
  c.begin_attempt(0);
  c.set_state(ConnectionState::connecting);
  c.socket_opened(0);
  c.set_state(ConnectionState::authenticating);
  c.welcomed(1'000, 100);
  c.set_state(ConnectionState::connected);
  EXPECT_TRUE(c.live());
  EXPECT_EQ(c.deadline(), 1'000) << "the first heartbeat (stable at 5100)";
  EXPECT_FALSE(c.ping_due(999));
  EXPECT_TRUE(c.ping_due(1'000));
  EXPECT_FALSE(c.ping_due(1'500)) << "one ping per quiet heartbeat";
  EXPECT_EQ(c.deadline(), 2'000);
  c.received(1'900);  // the pong
  EXPECT_FALSE(c.dead(3'899));
  EXPECT_TRUE(c.dead(3'900));
  c.received(5'000);
  EXPECT_FALSE(c.became_stable(5'099));
  c.backoff(5'099, 0.5);  // a failed attempt counted meanwhile
  c.set_state(ConnectionState::connected);
  EXPECT_TRUE(c.became_stable(5'100));
  EXPECT_EQ(c.view().attempt, 0) << "a stable connection starts the backoff over";
  EXPECT_FALSE(c.became_stable(9'000)) << "once";
}

// ---- outbox

QueuedSend queued(const std::string& room, const std::string& id) {
  QueuedSend s;
  s.room_id = room;
  s.client_msg_id = id;
  s.draft.type = "text";
  s.draft.content = id;
  return s;
}

// Flushes and returns what went on the wire, and what waits for the pacer.
struct Flushed {
  std::vector<std::string> sent;
  std::vector<std::string> paced;
};
Flushed flush(Outbox& outbox, std::int64_t now, bool live = true, const std::string& unjoined = "") {
  Flushed out;
  outbox.flush(
      now, live, [&](const std::string& room) { return room != unjoined; },
      [&](QueuedSend& s) { out.sent.push_back(s.client_msg_id); },
      [&](const QueuedSend& s) { out.paced.push_back(s.client_msg_id); });
  return out;
}

TEST(Outbox, SendsInOrderPacedToTheServersLimitAndWaitsForItsRoomsJoin) {
  Outbox outbox;
  outbox.welcomed(100, 2, 0);  // one send per 100 ms after a burst of 2 (paced: a burst of 1, 106 ms)
  for (const char* id : {"a1", "b1", "a2"}) outbox.push(queued(id[0] == 'a' ? "a" : "b", id));
  EXPECT_TRUE(flush(outbox, 0, false).sent.empty()) << "nothing leaves while offline";
  Flushed first = flush(outbox, 0, true, "b");
  EXPECT_EQ(first.sent, std::vector<std::string>{"a1"}) << "b1 waits for its room's join";
  EXPECT_EQ(first.paced, std::vector<std::string>{"a2"});
  EXPECT_EQ(outbox.deadline(), 106);
  EXPECT_TRUE(flush(outbox, 105).sent.empty());
  EXPECT_EQ(flush(outbox, 106).sent, std::vector<std::string>{"b1"}) << "queue order once b is joined";
  EXPECT_TRUE(outbox.find("a1")->in_flight);
  EXPECT_EQ(outbox.unsent(), 3u);
  EXPECT_TRUE(outbox.remove("a1"));
  EXPECT_FALSE(outbox.remove("a1"));
}

TEST(Outbox, AfterATransientRefusalNothingLeavesBeforeTheWaitThenOneAtATime) {
  Outbox outbox;
  for (const char* id : {"m1", "m2", "m3"}) outbox.push(queued("r", id));
  EXPECT_EQ(flush(outbox, 0).sent, (std::vector<std::string>{"m1", "m2", "m3"})) << "unpaced until welcome says";
  for (auto& s : outbox.all()) s.in_flight = false;  // m1 refused, m2 and m3 held back behind it
  outbox.refused_for_now(0, 500);
  outbox.refused_for_now(1, 9'999);  // the held-back ones' refusals leave the wait alone
  EXPECT_TRUE(flush(outbox, 499).sent.empty());
  EXPECT_EQ(outbox.deadline(), 500);
  EXPECT_EQ(flush(outbox, 500).sent, std::vector<std::string>{"m1"});
  EXPECT_TRUE(flush(outbox, 600).sent.empty()) << "one at a time: m1 is in flight";
  outbox.remove("m1");
  EXPECT_EQ(flush(outbox, 700).sent, std::vector<std::string>{"m2"});
  outbox.remove("m2");
  outbox.find("m3")->failed = protocol::Error{protocol::ErrorCode::too_large, "too long", "/message/content"};
  EXPECT_TRUE(flush(outbox, 800).sent.empty()) << "a failed message is not sent";
  EXPECT_FALSE(outbox.one_at_a_time()) << "drained: back to sending freely";
  EXPECT_EQ(outbox.unsent(), 0u);
  EXPECT_EQ(outbox.size(), 1u) << "the failed one stays until retried or discarded";
}

TEST(RoomJoin, IsSentOnceAnsweredAndAfterATransientRefusalDueAgainAfterTheWait) {
  RoomJoin join;
  EXPECT_FALSE(join.wanted());
  join.want();
  EXPECT_FALSE(join.settled()) << "wanted, nothing sent yet";
  join.sent();
  EXPECT_TRUE(join.settled()) << "one join on its way is enough";
  EXPECT_TRUE(join.answered());
  join.refused_for_now(1'000, 500);
  EXPECT_EQ(join.failures(), 1);
  EXPECT_EQ(join.due(), 1'500);
  EXPECT_TRUE(join.settled()) << "a refused join waits";
  EXPECT_FALSE(join.take_due(1'499));
  EXPECT_TRUE(join.take_due(1'500));
  EXPECT_FALSE(join.due());
  join.sent();
  join.answered();
  join.succeeded();
  EXPECT_TRUE(join.joined());
  EXPECT_EQ(join.failures(), 0) << "a success starts the count over";
  join.refused_for_now(2'000, 0);
  EXPECT_EQ(join.due(), 2'001) << "never due at once";
}

TEST(RoomJoin, ALeaveMakesTheAnswerMootAndALostConnectionRejoinsOnlyWhatIsWanted) {
  RoomJoin join;
  join.want();
  join.sent();
  join.drop();
  EXPECT_FALSE(join.answered()) << "left while the join was on its way";
  EXPECT_FALSE(join.joined());

  join.want();
  join.refused_for_now(0, 100);
  join.connection_lost();
  EXPECT_FALSE(join.due()) << "the rejoin waits for the next welcome, not the old wait";
  EXPECT_FALSE(join.joined());
  EXPECT_TRUE(join.wanted());
  join.refused_for_now(0, 100);
  join.drop();
  EXPECT_FALSE(join.take_due(100)) << "due, but no longer wanted";
}

using test::make_message;

Timeline timeline_of(std::int64_t first, std::int64_t last) {
  Timeline t;
  for (std::int64_t seq = first; seq <= last; ++seq)
    t.confirm(make_message("r", seq, "bob", "c" + std::to_string(seq), "m"), "me");
  return t;
}

TEST(RoomHistory, AGapIsFilledPageByPageDownToTheNewestMessageHeld) {
  RoomHistory history({500, 50});
  Timeline t = timeline_of(1, 10);
  EXPECT_FALSE(history.live(t, 11)) << "the next seq: no gap";
  EXPECT_FALSE(history.live(t, 7)) << "a seq already held: no gap";
  auto gap = history.live(t, 300);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->before_seq, 300);
  EXPECT_EQ(gap->limit, 289) << "seqs 11..299";
  EXPECT_EQ(gap->gap_from, 10);
  EXPECT_FALSE(gap->older);
  EXPECT_EQ(t.first_seq(), 1) << "a gap the timeline can hold keeps what is there";

  // The server answers with at most a page: the next page back until seq 11.
  auto next = history.page(t, *gap, 200, false);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->before_seq, 200);
  EXPECT_EQ(next->limit, 189);
  EXPECT_EQ(next->gap_from, 10);
  EXPECT_FALSE(history.page(t, *next, 11, false)) << "filled";
  EXPECT_FALSE(history.page(t, *next, 0, false)) << "an empty page (retention) ends it too";
}

TEST(RoomHistory, AGapWiderThanTheTimelineKeepsStartsOverFromThePageBeforeIt) {
  RoomHistory history({100, 20});
  Timeline t = timeline_of(1, 10);
  auto gap = history.live(t, 1'000);
  ASSERT_TRUE(gap);
  EXPECT_EQ(t.confirmed_count(), 0u) << "what was held is not continuous with what comes";
  EXPECT_TRUE(history.has_more());
  EXPECT_EQ(gap->gap_from, 979);
  EXPECT_EQ(gap->limit, 20);
}

TEST(RoomHistory, OlderPagesLoadOneAtATimeAndWhatTheUserScrolledBackToStays) {
  RoomHistory history({5, 3});
  Timeline t = timeline_of(10, 14);
  history.joined_page(t);
  EXPECT_TRUE(history.has_more()) << "the page starts after seq 1";
  auto older = history.load_older(t);
  ASSERT_TRUE(older);
  EXPECT_EQ(older->before_seq, 10);
  EXPECT_EQ(older->limit, 3);
  EXPECT_TRUE(older->older);
  EXPECT_TRUE(history.loading_older());
  EXPECT_FALSE(history.load_older(t)) << "one page at a time";

  for (std::int64_t seq = 7; seq <= 9; ++seq)
    t.confirm(make_message("r", seq, "bob", "o" + std::to_string(seq), "m"), "me");
  EXPECT_FALSE(history.page(t, *older, 7, true));
  EXPECT_FALSE(history.loading_older());
  t.confirm(make_message("r", 15, "bob", "c15", "m"), "me");
  history.trim(t);
  EXPECT_EQ(t.confirmed_count(), 8u) << "as many as the user scrolled back to, not the limit of 5";
  EXPECT_EQ(t.first_seq(), 8);

  Timeline fresh = timeline_of(1, 8);
  RoomHistory small({5, 3});
  small.joined_page(fresh);
  EXPECT_FALSE(small.has_more()) << "seq 1 is held";
  small.trim(fresh);
  EXPECT_EQ(fresh.confirmed_count(), 5u);
  EXPECT_TRUE(small.has_more()) << "what was trimmed comes back as an older page";
  EXPECT_TRUE(small.load_older(fresh));
  small.connection_lost();
  EXPECT_FALSE(small.loading_older()) << "the answer cannot come on a new socket";
  EXPECT_TRUE(small.load_older(fresh));
  small.refused();
  EXPECT_FALSE(small.loading_older());
}

TEST(RoomHistory, AnotherEpochOrAResetClearsTheTimeline) {
  RoomHistory history({500, 50});
  Timeline t = timeline_of(1, 3);
  history.joining(t, "e1", false);
  EXPECT_EQ(t.confirmed_count(), 3u) << "the first epoch seen";
  history.joining(t, "e1", false);
  EXPECT_EQ(t.confirmed_count(), 3u);
  history.joining(t, "e2", false);
  EXPECT_EQ(t.confirmed_count(), 0u) << "the room was recreated: its seqs are another history";
  t = timeline_of(1, 3);
  history.joining(t, "e2", true);
  EXPECT_EQ(t.confirmed_count(), 0u) << "the server says reset";
  EXPECT_EQ(history.epoch(), "e2");
}

}  // namespace
}  // namespace parley::client
