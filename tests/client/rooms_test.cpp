// Rooms in the client core: resume, reset, gaps, history, typing, presence
// and receipts.
#include <gtest/gtest.h>

#include "parley/protocol/limits.hpp"
#include "support/fake_host.hpp"

namespace parley::client {
namespace {

using namespace protocol;
using test::FakeHost;
using test::make_error;
using test::make_joined;
using test::make_message;
using test::RoomView;
using test::text;

std::vector<std::int64_t> seqs(const RoomView& view) {
  std::vector<std::int64_t> out;
  for (const auto& item : view.items) out.push_back(item.message.seq);
  return out;
}

Member member(const std::string& id, std::optional<std::int64_t> read = {},
              std::optional<std::int64_t> delivered = {}) {
  Member m;
  m.userId = id;
  m.name = id;
  m.readSeq = read;
  m.deliveredSeq = delivered;
  return m;
}

struct Joined : ::testing::Test {
  FakeHost host;
  void SetUp() override {
    host.connect_as("alice", "Alice");
    host.core.join("lobby", host.now);
    auto join = host.expect_sent<c2s::Join>();
    host.deliver(make_joined(
        join.ref, "lobby", 3,
        {make_message("lobby", 2, "bob", "c_bbbbbbb2", "two"), make_message("lobby", 3, "bob", "c_bbbbbbb3", "three")},
        {member("alice"), member("bob")}));
  }
  // Drop, reconnect and answer the rejoin with `joined`; returns the rejoin.
  c2s::Join rejoin(s2c::Joined answer) {
    host.drop();
    host.advance(10'000);
    host.accept("alice", "Alice");
    auto join = host.expect_sent<c2s::Join>();
    answer.ref = join.ref;
    host.deliver(answer);
    return join;
  }
};

TEST_F(Joined, ResumesFromTheLastSeqWithoutDuplicates) {
  auto join = rejoin(make_joined(
      {}, "lobby", 5,
      {make_message("lobby", 4, "bob", "c_bbbbbbb4", "four"), make_message("lobby", 5, "bob", "c_bbbbbbb5", "five")}));
  EXPECT_EQ(join.sinceSeq, 3);
  EXPECT_EQ(seqs(host.room("lobby")), (std::vector<std::int64_t>{2, 3, 4, 5}));
  host.deliver(s2c::MessageEvent{make_message("lobby", 5, "bob", "c_bbbbbbb5", "five")});
  EXPECT_EQ(host.room("lobby").items.size(), 4u) << "a seq already there is ignored";
}

TEST_F(Joined, AResetReplacesTheTimelineWithTheLatestPage) {
  auto answer = make_joined({}, "lobby", 900, {make_message("lobby", 900, "bob", "c_bbbbb900", "latest")});
  answer.reset = true;
  rejoin(answer);
  EXPECT_EQ(seqs(host.room("lobby")), (std::vector<std::int64_t>{900}));
  EXPECT_TRUE(host.room("lobby").has_more);
}

TEST_F(Joined, AGapInLiveMessagesFetchesTheMissingOnes) {
  host.deliver(s2c::MessageEvent{make_message("lobby", 7, "bob", "c_bbbbbbb7", "seven")});
  auto history = host.expect_sent<c2s::History>();
  EXPECT_EQ(history.beforeSeq, 7);
  EXPECT_EQ(history.limit, 3);
  s2c::History page;
  page.ref = history.ref;
  page.roomId = "lobby";
  for (std::int64_t s : {4, 5, 6})
    page.messages.push_back(make_message("lobby", s, "bob", "c_bbbbbbb" + std::to_string(s), "x"));
  host.deliver(page);
  EXPECT_EQ(seqs(host.room("lobby")), (std::vector<std::int64_t>{2, 3, 4, 5, 6, 7}));
}

// Answers a history request with the messages [from, to] of bob.
s2c::History page_of(const c2s::History& request, std::int64_t from, std::int64_t to) {
  s2c::History page;
  page.ref = request.ref;
  page.roomId = request.roomId;
  for (std::int64_t s = from; s <= to; ++s) {
    page.messages.push_back(make_message(request.roomId, s, "bob", "c_b" + std::to_string(100000 + s), "x"));
  }
  return page;
}

TEST_F(Joined, AGapWiderThanAHistoryPageIsFetchedPageByPageUntilFilled) {
  host.deliver(s2c::MessageEvent{make_message("lobby", 254, "bob", "c_b100254", "x")});  // 4..253 missing
  auto first = host.expect_sent<c2s::History>();
  EXPECT_EQ(first.beforeSeq, 254);
  EXPECT_EQ(first.limit, limits::c2s_history_limit_maximum) << "a page is at most what the schema allows";
  host.deliver(page_of(first, 154, 253));
  auto second = host.expect_sent<c2s::History>();
  EXPECT_EQ(second.beforeSeq, 154);
  EXPECT_EQ(second.limit, 100);
  host.deliver(page_of(second, 54, 153));
  auto third = host.expect_sent<c2s::History>();
  EXPECT_EQ(third.beforeSeq, 54);
  EXPECT_EQ(third.limit, 50) << "only what is still missing";
  host.deliver(page_of(third, 4, 53));
  EXPECT_TRUE(host.take_sent_of<c2s::History>().empty()) << "filled";
  std::vector<std::int64_t> expected;
  for (std::int64_t s = 2; s <= 254; ++s) expected.push_back(s);
  EXPECT_EQ(seqs(host.room("lobby")), expected);
}

TEST_F(Joined, AGapWiderThanTheTimelineKeepsStartsOverFromTheNewestPage) {
  host.deliver(s2c::MessageEvent{make_message("lobby", 5000, "bob", "c_b105000", "x")});
  auto request = host.expect_sent<c2s::History>();
  EXPECT_EQ(request.beforeSeq, 5000);
  EXPECT_EQ(request.limit, 50) << "one page, like a reset";
  host.deliver(page_of(request, 4950, 4999));
  EXPECT_TRUE(host.take_sent_of<c2s::History>().empty());
  auto view = host.room("lobby");
  EXPECT_EQ(view.items.size(), 51u);
  EXPECT_EQ(view.items.front().message.seq, 4950);
  EXPECT_TRUE(view.has_more) << "what is older loads on demand";
}

TEST_F(Joined, AnEmptyGapPageStopsTheFill) {
  host.deliver(s2c::MessageEvent{make_message("lobby", 300, "bob", "c_b100300", "x")});
  auto request = host.expect_sent<c2s::History>();
  host.deliver(page_of(request, 1, 0));  // the server has none of them any more
  EXPECT_TRUE(host.take_sent_of<c2s::History>().empty());
}

TEST_F(Joined, AJoinRefusedForATransientReasonIsRetriedAfterTheServersWait) {
  host.core.join("busy", host.now);
  auto join = host.expect_sent<c2s::Join>();
  std::string key = host.core.send("busy", text("hello busy"), host.now).key;
  host.deliver(make_error(join.ref, "rate_limited", "slow down", 2'000));
  auto item = host.room("busy").items.at(0);
  EXPECT_EQ(item.status, MessageStatus::queued) << "its queue waits";
  host.core.join("busy", host.now);
  EXPECT_TRUE(host.take_sent_of<c2s::Join>().empty()) << "not before the wait, even when asked again";
  host.advance(1'999);
  EXPECT_TRUE(host.take_sent_of<c2s::Join>().empty());
  host.advance(1);
  auto again = host.expect_sent<c2s::Join>();
  EXPECT_EQ(again.roomId, "busy");

  host.deliver(make_error(again.ref, "internal", "slow down"));  // no wait given: a growing backoff
  host.advance(999);
  EXPECT_TRUE(host.take_sent_of<c2s::Join>().empty());
  host.advance(1);
  auto third = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(third.ref, "busy", 0));
  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].clientMsgId, key);
}

TEST_F(Joined, AJoinRefusedForGoodFailsItsQueueAndIsNotRejoined) {
  for (const char* code : {"forbidden", "not_found", "bad_request"}) {
    std::string room = std::string("dm:x:") + code;
    std::replace(room.begin(), room.end(), '_', '-');
    std::string key = host.core.send(room, text("let me in"), host.now).key;
    auto join = host.expect_sent<c2s::Join>();
    host.deliver(make_error(join.ref, code, "no", 10));  // the wait is ignored: retrying cannot help
    auto item = host.room(room).items.at(0);
    EXPECT_EQ(item.status, MessageStatus::failed) << code;
    EXPECT_EQ(to_string(item.error->code), code);
    host.advance(20'000);
    EXPECT_TRUE(host.take_sent_of<c2s::Join>().empty()) << code;
    EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty()) << code;
  }
}

TEST_F(Joined, LoadOlderPagesBackwards) {
  EXPECT_TRUE(host.room("lobby").has_more);
  host.core.load_older("lobby", host.now);
  auto history = host.expect_sent<c2s::History>();
  EXPECT_EQ(history.beforeSeq, 2);
  EXPECT_TRUE(host.room("lobby").loading_older);
  host.core.load_older("lobby", host.now);
  EXPECT_TRUE(host.take_sent_of<c2s::History>().empty()) << "one page at a time";
  s2c::History page;
  page.ref = history.ref;
  page.roomId = "lobby";
  page.messages.push_back(make_message("lobby", 1, "bob", "c_bbbbbbb1", "one"));
  page.hasMore = false;
  host.deliver(page);
  auto view = host.room("lobby");
  EXPECT_EQ(seqs(view), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_FALSE(view.has_more);
  EXPECT_FALSE(view.loading_older);
}

TEST_F(Joined, TypingIsThrottledStopsByItselfAndBySending) {
  host.core.set_typing("lobby", true, host.now);
  EXPECT_EQ(host.take_sent_of<c2s::Typing>().size(), 1u);
  for (int i = 0; i < 10; ++i) {
    host.advance(150);
    host.core.set_typing("lobby", true, host.now);  // a keystroke
  }
  EXPECT_TRUE(host.take_sent_of<c2s::Typing>().empty()) << "at most one frame per 2 s";
  host.advance(500);
  host.core.set_typing("lobby", true, host.now);
  auto again = host.take_sent_of<c2s::Typing>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].active);

  host.advance(3000);  // no keystroke for 3 s
  auto stopped = host.take_sent_of<c2s::Typing>();
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_FALSE(stopped[0].active);

  host.core.set_typing("lobby", true, host.now);
  host.take_sent();
  host.core.send("lobby", text("done"), host.now);
  host.advance(5000);
  EXPECT_TRUE(host.take_sent_of<c2s::Typing>().empty()) << "a send stops typing (the server says so to the others)";
}

TEST_F(Joined, IncomingTypingExpiresAfterItsTtl) {
  host.deliver(s2c::Typing{"lobby", "bob", "Bob", true, 1500});
  ASSERT_EQ(host.room("lobby").typing.size(), 1u);
  EXPECT_EQ(host.room("lobby").typing[0].name, "Bob");
  host.advance(1499);
  EXPECT_EQ(host.room("lobby").typing.size(), 1u);
  host.advance(1);
  EXPECT_TRUE(host.room("lobby").typing.empty());
  host.deliver(s2c::Typing{"lobby", "bob", "Bob", true, 1500});
  host.deliver(s2c::MessageEvent{make_message("lobby", 4, "bob", "c_bbbbbbb4", "sent")});
  EXPECT_TRUE(host.room("lobby").typing.empty()) << "his message ends his indicator";
}

TEST_F(Joined, MarkReadIsCoalescedIntoOneWatermark) {
  host.core.mark_read("lobby", 2, host.now);
  host.core.mark_read("lobby", 3, host.now);
  host.core.mark_read("lobby", 1, host.now);
  EXPECT_TRUE(host.take_sent_of<c2s::Read>().empty());
  host.advance(300);
  auto reads = host.take_sent_of<c2s::Read>();
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].upToSeq, 3);
  host.core.mark_read("lobby", 3, host.now);
  host.advance(1000);
  EXPECT_TRUE(host.take_sent_of<c2s::Read>().empty()) << "an old watermark is not sent again";
}

TEST_F(Joined, AReceiptAfterAQuietSpellGoesAtOnceAndTheNextOnesAreCoalesced) {
  host.advance(1000);
  host.take_sent_of<c2s::Delivered>();  // for what the join brought
  host.deliver(s2c::MessageEvent{make_message("lobby", 4, "bob", "c_bbbbbbb4", "four")});
  host.advance(0);
  auto first = host.take_sent_of<c2s::Delivered>();
  ASSERT_EQ(first.size(), 1u) << "the sender hears of it at once";
  EXPECT_EQ(first[0].upToSeq, 4);
  host.advance(10);
  host.deliver(s2c::MessageEvent{make_message("lobby", 5, "bob", "c_bbbbbbb5", "five")});
  host.deliver(s2c::MessageEvent{make_message("lobby", 6, "bob", "c_bbbbbbb6", "six")});
  host.advance(289);
  EXPECT_TRUE(host.take_sent_of<c2s::Delivered>().empty()) << "at most one per 300 ms";
  host.advance(1);
  auto next = host.take_sent_of<c2s::Delivered>();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].upToSeq, 6);
}

TEST_F(Joined, AReplyGoesOutAfterTheReceiptsOfWhatItAnswers) {
  host.advance(1000);
  host.take_sent();
  host.deliver(s2c::MessageEvent{make_message("lobby", 4, "bob", "c_bbbbbbb4", "a question")});
  host.advance(0);
  host.take_sent();
  host.deliver(s2c::MessageEvent{make_message("lobby", 5, "bob", "c_bbbbbbb5", "another")});
  host.core.mark_read("lobby", 5, host.now);
  host.core.send("lobby", text("an answer"), host.now);  // within the coalescing window
  auto frames = host.take_sent();
  std::vector<std::string> types;
  for (const auto& f : frames) types.emplace_back(type_name(f));
  EXPECT_EQ(types, (std::vector<std::string>{"read", "delivered", "send"}));
}

TEST_F(Joined, ReceivedMessagesAreAcknowledgedAsDelivered) {
  host.advance(1000);
  auto delivered = host.take_sent_of<c2s::Delivered>();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].upToSeq, 3);
}

TEST_F(Joined, StatusesAndReadByFollowTheOtherMembersWatermarks) {
  std::string key = host.core.send("lobby", text("mine"), host.now).key;
  auto send = host.expect_sent<c2s::Send>();
  host.deliver(s2c::Ack{*send.ref, make_message("lobby", 4, "alice", key, "mine")});
  auto mine = [&] { return host.room("lobby").items.back(); };
  EXPECT_EQ(mine().status, MessageStatus::sent);
  host.deliver(s2c::Receipt{"lobby", "bob", "delivered", 4});
  EXPECT_EQ(mine().status, MessageStatus::delivered);
  host.deliver(s2c::Receipt{"lobby", "bob", "read", 4});
  EXPECT_EQ(mine().status, MessageStatus::read);
  EXPECT_EQ(mine().read_by, (std::vector<std::string>{"bob"}));
}

TEST_F(Joined, PresenceDiffsUpdateMembers) {
  Member away = member("bob");
  away.status = "offline";
  away.lastSeen = 123;
  host.deliver(s2c::Presence{"lobby", {away}, {}});
  auto members = host.room("lobby").members;
  auto bob = std::find_if(members.begin(), members.end(), [](const Member& m) { return m.userId == "bob"; });
  ASSERT_NE(bob, members.end());
  EXPECT_EQ(bob->status, "offline");
  EXPECT_EQ(bob->lastSeen, 123);
}

TEST_F(Joined, KeepsTheTimelineBoundedAndLetsOlderPagesBack) {
  for (std::int64_t s = 4; s <= 700; ++s) {
    host.deliver(s2c::MessageEvent{make_message("lobby", s, "bob", "c_b" + std::to_string(100000 + s), "x")});
  }
  auto view = host.room("lobby");
  EXPECT_EQ(view.items.size(), 500u);
  EXPECT_EQ(view.items.front().message.seq, 201);
  EXPECT_TRUE(view.has_more);
  host.core.load_older("lobby", host.now);
  auto history = host.expect_sent<c2s::History>();
  EXPECT_EQ(history.beforeSeq, 201);
  s2c::History page;
  page.ref = history.ref;
  page.roomId = "lobby";
  for (std::int64_t s = 151; s <= 200; ++s)
    page.messages.push_back(make_message("lobby", s, "bob", "c_b" + std::to_string(100000 + s), "x"));
  page.hasMore = true;
  host.deliver(page);
  host.deliver(s2c::MessageEvent{make_message("lobby", 701, "bob", "c_b100701", "x")});
  EXPECT_EQ(host.room("lobby").items.front().message.seq, 152) << "what was scrolled back to mostly stays";
}

TEST_F(Joined, RemovedFromARoomStopsRejoiningIt) {
  host.deliver(s2c::Removed{"lobby", "bob", {}});
  EXPECT_FALSE(host.room("lobby").joined);
  host.drop();
  host.advance(10'000);
  host.accept("alice", "Alice");
  EXPECT_TRUE(host.take_sent_of<c2s::Join>().empty());
}

}  // namespace
}  // namespace parley::client
