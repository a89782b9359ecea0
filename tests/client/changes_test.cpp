// Edits, deletes, reactions, replies and held attachment sends in the client
// core: optimistic changes undone on refusal and on timeout, changes folded
// into sends still queued, changes that wait for their target's id, replay
// idempotence, and held sends that keep their room's order across a reload.
#include <gtest/gtest.h>

#include "parley/protocol/drafts.hpp"
#include "state_blob.hpp"
#include "support/fake_host.hpp"

namespace parley::client {
namespace {

using namespace protocol;
using test::FakeHost;
using test::make_error;
using test::make_joined;
using test::make_message;
using test::text;
using test::ViewItem;

// A change message as the server broadcasts (and acks) it.
Message make_change(std::int64_t seq, std::string sender, std::string client_msg_id, std::string type,
                    std::string target, std::string content = "") {
  Message m = make_message("lobby", seq, std::move(sender), std::move(client_msg_id), std::move(content));
  m.type = std::move(type);
  m.target = std::move(target);
  return m;
}

// The server's answer to a change `send`: it is stored with its own seq.
Message stored(const c2s::Send& send, std::int64_t seq, const std::string& sender = "alice") {
  Message m = make_message(send.roomId, seq, sender, send.clientMsgId, send.message.content);
  m.type = send.message.type;
  m.target = send.message.target;
  m.replyTo = send.message.replyTo;
  m.metadata = send.message.metadata;
  return m;
}

Metadata image_metadata(std::string url) {
  return Metadata{"cat.png", 1234, "image/png", {}, std::move(url), 640, 480};
}

// Alice, connected and joined to lobby, which holds bob's m_1 ("hi") and her own m_2 ("helo").
struct Lobby : ::testing::Test {
  FakeHost host;
  void SetUp() override {
    host.connect_as("alice", "Alice");
    host.core.join("lobby", host.now);
    auto join = host.expect_sent<c2s::Join>();
    host.deliver(make_joined(join.ref, "lobby", 2,
                             {make_message("lobby", 1, "bob", "c_bbbbbbb1", "hi"),
                              make_message("lobby", 2, "alice", "c_aaaaaaa2", "helo")}));
  }
  ViewItem line(const std::string& key) {
    for (auto& item : host.room("lobby").items) {
      if (item.key == key) return item;
    }
    ADD_FAILURE() << "no line " << key;
    return {};
  }
  std::vector<std::string> contents() {
    std::vector<std::string> out;
    for (auto& item : host.room("lobby").items) out.push_back(item.message.content);
    return out;
  }
  // Drops the connection and comes back; the rejoin is answered with `replay`.
  c2s::Join reconnect(std::vector<Message> replay = {}, std::int64_t head = 0) {
    host.drop();
    host.advance(10'000);
    host.accept("alice", "Alice");
    auto join = host.expect_sent<c2s::Join>();
    host.deliver(make_joined(join.ref, "lobby", head, std::move(replay)));
    return join;
  }
};

TEST(Changes, TheQueuesOneLetterTestAgreesWithTheProtocol) {
  for (const char* type : {"text", "image", "file", "system", "edit", "delete", "react", "unreact", ""}) {
    EXPECT_EQ(is_change(type), is_change_type(type)) << type;
  }
}

// ------------------------------------------------------------------- edits

TEST_F(Lobby, AnEditShowsAtOnceGoesAsAChangeAndTheAckConfirmsIt) {
  auto result = host.core.edit("lobby", "c_aaaaaaa2", "hello", host.now);
  ASSERT_TRUE(result);
  EXPECT_EQ(result.key, "c_aaaaaaa2");
  auto send = host.expect_sent<c2s::Send>();
  EXPECT_EQ(send.message.type, "edit");
  EXPECT_EQ(send.message.content, "hello");
  EXPECT_EQ(send.message.target, "m_2");
  EXPECT_NE(send.clientMsgId, "c_aaaaaaa2") << "a change is a send of its own";
  auto shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "hello");
  EXPECT_TRUE(shown.edited);
  EXPECT_EQ(shown.message.updatedAt, host.now);
  EXPECT_TRUE(shown.change_pending);
  EXPECT_EQ(host.room("lobby").items.size(), 2u) << "a change is not a line";

  Message ack = stored(send, 3);
  ack.createdAt = host.now + 5;
  host.deliver(s2c::Ack{*send.ref, ack});
  host.deliver(s2c::MessageEvent{ack});  // the echo changes nothing more
  shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "hello");
  EXPECT_EQ(shown.message.updatedAt, host.now + 5) << "the server's time";
  EXPECT_FALSE(shown.change_pending);
  EXPECT_FALSE(shown.error);
  EXPECT_EQ(host.core.queued(), 0u);
  EXPECT_EQ(host.room("lobby").items.size(), 2u);
}

TEST_F(Lobby, ARefusedEditIsUndoneAndTheLineSaysWhy) {
  ASSERT_TRUE(host.core.edit("lobby", "c_aaaaaaa2", "hello", host.now));
  auto send = host.expect_sent<c2s::Send>();
  auto refusal = make_error(send.ref, "not_found", "deleted meanwhile");
  refusal.path = "/message/target";
  host.deliver(refusal);
  auto shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "helo") << "back to what the server has";
  EXPECT_FALSE(shown.edited);
  EXPECT_FALSE(shown.change_pending);
  ASSERT_TRUE(shown.error);
  EXPECT_EQ(shown.error->code, ErrorCode::not_found);
  EXPECT_EQ(shown.error->path, "/message/target");
  EXPECT_EQ(shown.error_change, "edit");
  EXPECT_EQ(shown.status, MessageStatus::sent) << "the message itself is fine";
  EXPECT_EQ(host.core.queued(), 0u) << "a refused change is not kept";

  // The next change clears the reason.
  ASSERT_TRUE(host.core.edit("lobby", "c_aaaaaaa2", "hello!", host.now));
  EXPECT_FALSE(line("c_aaaaaaa2").error);
}

TEST_F(Lobby, AnEditNotAnsweredInTimeIsUndoneAndALateAckSetsItRight) {
  ASSERT_TRUE(host.core.edit("lobby", "c_aaaaaaa2", "hello", host.now));
  auto send = host.expect_sent<c2s::Send>();
  host.advance(9'999);
  EXPECT_EQ(line("c_aaaaaaa2").message.content, "hello") << "not before the timeout";
  host.advance(1);
  auto shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "helo");
  ASSERT_TRUE(shown.error);
  EXPECT_TRUE(shown.timed_out);
  EXPECT_EQ(shown.error_change, "edit");
  EXPECT_EQ(host.core.queued(), 0u);

  // It reached the server after all: the late ack shows it, and the reason goes.
  host.deliver(s2c::Ack{*send.ref, stored(send, 3)});
  shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "hello");
  EXPECT_FALSE(shown.error);
}

TEST_F(Lobby, TheTimeoutCountsFromTransmissionOnALiveConnection) {
  host.drop();
  ASSERT_TRUE(host.core.edit("lobby", "c_aaaaaaa2", "hello", host.now));
  host.advance(60'000);  // offline: it stays applied until sent
  auto shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "hello");
  EXPECT_TRUE(shown.change_pending);
  EXPECT_FALSE(shown.error);
  host.core.reconnect_now(host.now);
  host.accept("alice", "Alice");
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 2));
  auto send = host.expect_sent<c2s::Send>();
  EXPECT_EQ(send.message.type, "edit");
  host.advance(5'000);
  host.drop();  // a lost connection sends it again later, with a fresh timeout
  host.advance(20'000);
  EXPECT_FALSE(line("c_aaaaaaa2").error);
  host.accept("alice", "Alice");
  join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 2));
  auto again = host.expect_sent<c2s::Send>();
  EXPECT_EQ(again.clientMsgId, send.clientMsgId) << "the same change, deduplicated by the server";
  host.advance(10'000);
  EXPECT_TRUE(line("c_aaaaaaa2").timed_out);
}

TEST_F(Lobby, OnlyOwnMessagesCanBeEditedAndOnlyLinesThatExist) {
  EXPECT_EQ(host.core.edit("lobby", "c_bbbbbbb1", "mine now", host.now).refused, SendRefusal::forbidden);
  EXPECT_EQ(host.core.edit("lobby", "c_nope0000", "x", host.now).refused, SendRefusal::not_found);
  EXPECT_EQ(host.core.edit("lobby", "c_aaaaaaa2", std::string(4001, 'x'), host.now).refused, SendRefusal::too_large);
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty());
  EXPECT_EQ(line("c_bbbbbbb1").message.content, "hi");
}

// ------------------------------------------------------------------ deletes

TEST_F(Lobby, ADeleteTombstonesAtOnceAndARefusalBringsTheMessageBack) {
  auto reacted = make_change(3, "bob", "c_bbbbbbb3", "react", "m_1", "👍");
  host.deliver(s2c::MessageEvent{reacted});
  ASSERT_TRUE(host.core.remove("lobby", "c_bbbbbbb1", host.now));  // the server decides whether we may
  auto send = host.expect_sent<c2s::Send>();
  EXPECT_EQ(send.message.type, "delete");
  EXPECT_EQ(send.message.content, "");
  EXPECT_EQ(send.message.target, "m_1");
  auto shown = line("c_bbbbbbb1");
  EXPECT_TRUE(shown.deleted);
  EXPECT_EQ(shown.message.content, "");
  EXPECT_TRUE(shown.reactions.empty());
  EXPECT_EQ(host.core.edit("lobby", "c_bbbbbbb1", "x", host.now).refused, SendRefusal::not_found);

  auto refusal = make_error(send.ref, "forbidden", "not yours");
  refusal.path = "/message/target";
  host.deliver(refusal);
  shown = line("c_bbbbbbb1");
  EXPECT_FALSE(shown.deleted);
  EXPECT_EQ(shown.message.content, "hi");
  EXPECT_EQ(shown.reaction_summary(), (std::vector<std::string>{"👍:1"}));
  EXPECT_EQ(shown.error->code, ErrorCode::forbidden);
  EXPECT_EQ(shown.error_change, "delete");
}

TEST_F(Lobby, ADeleteNotAnsweredInTimeIsUndone) {
  ASSERT_TRUE(host.core.remove("lobby", "c_aaaaaaa2", host.now));
  host.expect_sent<c2s::Send>();
  EXPECT_TRUE(line("c_aaaaaaa2").deleted);
  host.advance(10'000);
  auto shown = line("c_aaaaaaa2");
  EXPECT_FALSE(shown.deleted);
  EXPECT_EQ(shown.message.content, "helo");
  EXPECT_TRUE(shown.timed_out);
  EXPECT_EQ(shown.error_change, "delete");
}

TEST_F(Lobby, AConfirmedDeleteLeavesATombstone) {
  ASSERT_TRUE(host.core.remove("lobby", "c_aaaaaaa2", host.now));
  auto send = host.expect_sent<c2s::Send>();
  host.deliver(s2c::Ack{*send.ref, stored(send, 3)});
  auto shown = line("c_aaaaaaa2");
  EXPECT_TRUE(shown.deleted);
  EXPECT_EQ(shown.message.deletedAt, 1'000'003);
  EXPECT_FALSE(shown.change_pending);
  EXPECT_EQ(host.core.remove("lobby", "c_aaaaaaa2", host.now).refused, SendRefusal::not_found);
  EXPECT_EQ(host.core.react("lobby", "c_aaaaaaa2", "👍", host.now).refused, SendRefusal::not_found);
}

// ---------------------------------------------------------------- reactions

TEST_F(Lobby, AReactionIsAToggleShownAtOnce) {
  ASSERT_TRUE(host.core.react("lobby", "c_bbbbbbb1", "👍", host.now));
  auto react = host.expect_sent<c2s::Send>();
  EXPECT_EQ(react.message.type, "react");
  EXPECT_EQ(react.message.content, "👍");
  EXPECT_EQ(react.message.target, "m_1");
  EXPECT_EQ(line("c_bbbbbbb1").reaction_summary(), (std::vector<std::string>{"👍:1*"}));
  host.deliver(s2c::Ack{*react.ref, stored(react, 3)});
  // Bob reacts too; then alice takes hers back.
  host.deliver(s2c::MessageEvent{make_change(4, "bob", "c_bbbbbbb4", "react", "m_1", "👍")});
  auto shown = line("c_bbbbbbb1");
  EXPECT_EQ(shown.reaction_summary(), (std::vector<std::string>{"👍:2*"}));
  EXPECT_EQ(shown.reactions[0].user_ids, (std::vector<std::string>{"alice", "bob"}));
  ASSERT_TRUE(host.core.react("lobby", "c_bbbbbbb1", "👍", host.now));
  auto unreact = host.expect_sent<c2s::Send>();
  EXPECT_EQ(unreact.message.type, "unreact");
  EXPECT_EQ(line("c_bbbbbbb1").reaction_summary(), (std::vector<std::string>{"👍:1"}));
  host.deliver(s2c::Ack{*unreact.ref, stored(unreact, 5)});
  host.deliver(s2c::MessageEvent{make_change(6, "bob", "c_bbbbbbb6", "unreact", "m_1", "👍")});
  EXPECT_TRUE(line("c_bbbbbbb1").reactions.empty()) << "an emoji goes at count 0";
  EXPECT_EQ(host.core.react("lobby", "c_bbbbbbb1", "lol", host.now).refused, SendRefusal::bad_request);
}

TEST_F(Lobby, ARefusedReactionIsUndoneAndOtherPendingChangesStay) {
  ASSERT_TRUE(host.core.edit("lobby", "c_aaaaaaa2", "hello", host.now));
  ASSERT_TRUE(host.core.react("lobby", "c_aaaaaaa2", "🎉", host.now));
  ASSERT_TRUE(host.core.react("lobby", "c_aaaaaaa2", "👀", host.now));
  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 3u);
  auto shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "hello");
  EXPECT_EQ(shown.reaction_summary(), (std::vector<std::string>{"🎉:1*", "👀:1*"}));

  auto too_many = make_error(sends[1].ref, "too_large", "20 emoji at most");
  too_many.path = "/message/content";
  host.deliver(too_many);
  shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "hello") << "the edit still pending stays applied";
  EXPECT_EQ(shown.reaction_summary(), (std::vector<std::string>{"👀:1*"}));
  EXPECT_TRUE(shown.change_pending);
  EXPECT_EQ(shown.error->code, ErrorCode::too_large);
  EXPECT_EQ(shown.error_change, "react");

  host.deliver(s2c::Ack{*sends[0].ref, stored(sends[0], 3)});
  host.deliver(s2c::Ack{*sends[2].ref, stored(sends[2], 4)});
  shown = line("c_aaaaaaa2");
  EXPECT_EQ(shown.message.content, "hello");
  EXPECT_EQ(shown.reaction_summary(), (std::vector<std::string>{"👀:1*"}));
  EXPECT_FALSE(shown.change_pending);
}

TEST_F(Lobby, AReactionNotAnsweredInTimeIsUndone) {
  ASSERT_TRUE(host.core.react("lobby", "c_bbbbbbb1", "👍", host.now));
  host.expect_sent<c2s::Send>();
  host.advance(10'000);
  auto shown = line("c_bbbbbbb1");
  EXPECT_TRUE(shown.reactions.empty());
  EXPECT_TRUE(shown.timed_out);
  EXPECT_EQ(shown.error_change, "react");
}

TEST_F(Lobby, ReactionsRateLimitedWaitAndGoAgainInOrder) {
  ASSERT_TRUE(host.core.react("lobby", "c_bbbbbbb1", "👍", host.now));
  ASSERT_TRUE(host.core.react("lobby", "c_bbbbbbb1", "🎉", host.now));
  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 2u);
  host.deliver(make_error(sends[0].ref, "rate_limited", "slow down", 1'000));
  host.deliver(make_error(sends[1].ref, "rate_limited", "slow down", 1'000));
  EXPECT_EQ(line("c_bbbbbbb1").reaction_summary(), (std::vector<std::string>{"👍:1*", "🎉:1*"}))
      << "a transient refusal undoes nothing";
  host.advance(1'000);
  auto again = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(again.size(), 1u) << "one at a time after a refusal";
  EXPECT_EQ(again[0].clientMsgId, sends[0].clientMsgId);
}

TEST_F(Lobby, ChangesOfOthersUpdateTheirTargetAndMoveTheRoomsPosition) {
  host.deliver(s2c::MessageEvent{make_change(3, "bob", "c_bbbbbbb3", "edit", "m_1", "hi all")});
  host.deliver(s2c::MessageEvent{make_change(4, "bob", "c_bbbbbbb4", "react", "m_2", "❤️")});
  host.deliver(s2c::MessageEvent{make_change(5, "bob", "c_bbbbbbb5", "edit", "m_0", "not loaded")});
  EXPECT_EQ(contents(), (std::vector<std::string>{"hi all", "helo"})) << "changes are not lines";
  EXPECT_TRUE(line("c_bbbbbbb1").edited);
  EXPECT_EQ(line("c_aaaaaaa2").reaction_summary(), (std::vector<std::string>{"❤️:1"}));
  EXPECT_TRUE(host.take_sent_of<c2s::History>().empty()) << "no gap: changes take seqs too";
  auto join = reconnect();
  EXPECT_EQ(join.sinceSeq, 5) << "resumes after the last change seen";
}

// ------------------------------------------------------------ replay rules

TEST_F(Lobby, TheSameChangeTwiceAndChangesReplayedAfterCurrentTargetsGiveTheFinalState) {
  auto edit = make_change(3, "bob", "c_bbbbbbb3", "edit", "m_1", "hi!");
  auto react = make_change(4, "bob", "c_bbbbbbb4", "react", "m_1", "👍");
  for (int i = 0; i < 2; ++i) {
    host.deliver(s2c::MessageEvent{edit});
    host.deliver(s2c::MessageEvent{react});
  }
  EXPECT_EQ(line("c_bbbbbbb1").reaction_summary(), (std::vector<std::string>{"👍:1"}));

  // Offline, bob posted m_6, edited it twice, reacted, took it back, reacted
  // again, and deleted m_1. The rejoin brings the changes in seq order and
  // m_6 as it is now.
  Message m6 = make_message("lobby", 6, "bob", "c_bbbbbbb6", "final");
  m6.updatedAt = 1'000'008;
  m6.reactions = std::vector<Reaction>{{"🎉", 1, {"bob"}}};
  std::vector<Message> replay = {
      make_change(5, "bob", "c_bbbbbbb5", "edit", "m_1", "gone soon"),
      m6,
      make_change(7, "bob", "c_bbbbbbb7", "edit", "m_6", "draft"),
      make_change(8, "bob", "c_bbbbbbb8", "edit", "m_6", "final"),
      make_change(9, "bob", "c_bbbbbbb9", "react", "m_6", "🎉"),
      make_change(10, "bob", "c_bbbbbb10", "unreact", "m_6", "🎉"),
      make_change(11, "bob", "c_bbbbbb11", "react", "m_6", "🎉"),
      make_change(12, "bob", "c_bbbbbb12", "delete", "m_1"),
      make_change(13, "bob", "c_bbbbbb13", "edit", "m_1", "edited after the delete"),
  };
  auto join = reconnect(replay, 13);
  EXPECT_EQ(join.sinceSeq, 4);
  auto m1 = line("c_bbbbbbb1");
  EXPECT_TRUE(m1.deleted);
  EXPECT_EQ(m1.message.content, "") << "a tombstone takes no edit";
  auto shown = line("c_bbbbbbb6");
  EXPECT_EQ(shown.message.content, "final");
  EXPECT_EQ(shown.reaction_summary(), (std::vector<std::string>{"🎉:1"}));
  EXPECT_EQ(contents(), (std::vector<std::string>{"", "helo", "final"}));

  // The same replay again (a second rejoin from the same position) changes nothing.
  host.drop();
  host.advance(10'000);
  host.accept("alice", "Alice");
  join = host.expect_sent<c2s::Join>();
  EXPECT_EQ(join.sinceSeq, 13);
  host.deliver(make_joined(join.ref, "lobby", 13, replay));
  EXPECT_EQ(line("c_bbbbbbb6").reaction_summary(), (std::vector<std::string>{"🎉:1"}));
  EXPECT_EQ(contents(), (std::vector<std::string>{"", "helo", "final"}));
}

TEST_F(Lobby, AGapFilledWithAPageBringsEditsAndDeletesWhoseChangesWereMissed) {
  // Changes 3 (bob edits m_1) and 4 (alice's m_2 deleted) never arrive; 5 shows the gap.
  host.deliver(s2c::MessageEvent{make_message("lobby", 5, "bob", "c_bbbbbbb5", "next")});
  auto history = host.expect_sent<c2s::History>();
  EXPECT_EQ(history.beforeSeq, 5);
  Message m1 = make_message("lobby", 1, "bob", "c_bbbbbbb1", "hi, edited");
  m1.updatedAt = 1'000'003;
  Message m2 = make_message("lobby", 2, "alice", "c_aaaaaaa2", "");
  m2.deletedAt = 1'000'004;
  s2c::History page;
  page.ref = history.ref;
  page.roomId = "lobby";
  page.messages = {m1, m2};
  host.deliver(page);
  EXPECT_EQ(line("c_bbbbbbb1").message.content, "hi, edited");
  EXPECT_TRUE(line("c_aaaaaaa2").deleted);

  // An answer older than what is shown sets nothing back.
  host.deliver(s2c::MessageEvent{make_change(6, "bob", "c_bbbbbbb6", "edit", "m_1", "hi, again")});
  Message stale = make_message("lobby", 1, "bob", "c_bbbbbbb1", "hi, edited");
  stale.updatedAt = 1'000'003;
  host.deliver(s2c::MessageEvent{stale});
  EXPECT_EQ(line("c_bbbbbbb1").message.content, "hi, again");
}

TEST_F(Lobby, ReactionsPastTheListedReactorsAreCountedAsWellAsCanBe) {
  Message crowded = make_message("lobby", 3, "bob", "c_bbbbbbb3", "popular");
  Reaction thumbs{"👍", 150, {}};
  for (int i = 0; i < 100; ++i) thumbs.userIds.push_back("u" + std::to_string(i));
  crowded.reactions = std::vector<Reaction>{thumbs};
  host.deliver(s2c::MessageEvent{crowded});
  host.deliver(s2c::MessageEvent{make_change(4, "u7", "c_uuuuuuu4", "react", "m_3", "👍")});
  EXPECT_EQ(line("c_bbbbbbb3").reactions.at(0).count, 150) << "u7 is listed: nothing new";
  host.deliver(s2c::MessageEvent{make_change(5, "u200", "c_uuuuuuu5", "unreact", "m_3", "👍")});
  EXPECT_EQ(line("c_bbbbbbb3").reactions.at(0).count, 149) << "an unlisted reactor of a truncated list";
  host.deliver(s2c::MessageEvent{make_change(6, "u7", "c_uuuuuuu6", "unreact", "m_3", "👍")});
  auto r = line("c_bbbbbbb3").reactions.at(0);
  EXPECT_EQ(r.count, 148);
  EXPECT_EQ(r.user_ids.size(), 99u);
  host.deliver(s2c::MessageEvent{make_change(7, "u300", "c_uuuuuuu7", "react", "m_3", "👍")});
  r = line("c_bbbbbbb3").reactions.at(0);
  EXPECT_EQ(r.count, 149);
  EXPECT_EQ(r.user_ids.size(), 100u) << "listed while there is room";
}

// -------------------------------------------- changes to sends still ours

TEST_F(Lobby, EditsAndDeletesOfQueuedSendsChangeTheSendItself) {
  host.drop();
  std::string first = host.core.send("lobby", text("tpyo"), host.now).key;
  std::string second = host.core.send("lobby", text("never mind"), host.now).key;
  ASSERT_TRUE(host.core.edit("lobby", first, "typo", host.now));
  ASSERT_TRUE(host.core.remove("lobby", second, host.now));
  EXPECT_EQ(host.core.queued(), 1u) << "one send, no change";
  EXPECT_EQ(contents(), (std::vector<std::string>{"hi", "helo", "typo"}));
  EXPECT_EQ(line(first).status, MessageStatus::queued);
  EXPECT_FALSE(line(first).edited) << "the server will store it as first sent";
  host.advance(10'000);
  host.accept("alice", "Alice");
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 2));
  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].clientMsgId, first);
  EXPECT_EQ(sends[0].message.content, "typo");
}

TEST_F(Lobby, AFailedSendIsEditedInPlace) {
  std::string key = host.core.send("lobby", text("refused"), host.now).key;
  auto send = host.expect_sent<c2s::Send>();
  host.deliver(make_error(send.ref, "forbidden", "read-only for now"));
  ASSERT_TRUE(host.core.edit("lobby", key, "again", host.now));
  EXPECT_EQ(line(key).message.content, "again");
  EXPECT_EQ(line(key).status, MessageStatus::failed);
  ASSERT_TRUE(host.core.retry("lobby", key, host.now));
  EXPECT_EQ(host.expect_sent<c2s::Send>().message.content, "again");
}

TEST_F(Lobby, AChangeToASendOnTheWireWaitsForItsId) {
  std::string key = host.core.send("lobby", text("on its way"), host.now).key;
  auto send = host.expect_sent<c2s::Send>();
  ASSERT_TRUE(host.core.edit("lobby", key, "on its way!", host.now));
  ASSERT_TRUE(host.core.react("lobby", key, "🚀", host.now));
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty()) << "no id to target yet";
  auto shown = line(key);
  EXPECT_EQ(shown.message.content, "on its way!");
  EXPECT_EQ(shown.reaction_summary(), (std::vector<std::string>{"🚀:1*"}));
  EXPECT_EQ(shown.status, MessageStatus::sending);
  // Later messages are not held back by a waiting change.
  std::string later = host.core.send("lobby", text("next"), host.now).key;
  EXPECT_EQ(host.expect_sent<c2s::Send>().clientMsgId, later);

  host.deliver(s2c::Ack{*send.ref, make_message("lobby", 3, "alice", key, "on its way")});
  auto changes = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].message.type, "edit");
  EXPECT_EQ(changes[0].message.target, "m_3");
  EXPECT_EQ(changes[1].message.type, "react");
  EXPECT_EQ(changes[1].message.target, "m_3");
  shown = line(key);
  EXPECT_EQ(shown.message.content, "on its way!") << "still shown with the changes on top";
  EXPECT_EQ(shown.reaction_summary(), (std::vector<std::string>{"🚀:1*"}));
  EXPECT_TRUE(shown.change_pending);
  host.deliver(s2c::Ack{*changes[0].ref, stored(changes[0], 5)});
  host.deliver(s2c::Ack{*changes[1].ref, stored(changes[1], 6)});
  shown = line(key);
  EXPECT_EQ(shown.message.content, "on its way!");
  EXPECT_FALSE(shown.change_pending);
}

TEST_F(Lobby, ADeleteOfASendOnTheWireGoesAfterItsAck) {
  std::string key = host.core.send("lobby", text("oops"), host.now).key;
  auto send = host.expect_sent<c2s::Send>();
  ASSERT_TRUE(host.core.remove("lobby", key, host.now));
  EXPECT_TRUE(line(key).deleted);
  host.drop();  // the ack is lost; the send and then the delete go again
  host.advance(10'000);
  host.accept("alice", "Alice");
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 2));
  auto again = host.expect_sent<c2s::Send>();
  EXPECT_EQ(again.clientMsgId, key);
  host.deliver(s2c::Ack{*again.ref, make_message("lobby", 3, "alice", key, "oops")});
  auto del = host.expect_sent<c2s::Send>();
  EXPECT_EQ(del.message.type, "delete");
  EXPECT_EQ(del.message.target, "m_3");
  EXPECT_TRUE(line(key).deleted);
}

TEST_F(Lobby, QueuedChangesArePersistedAndShownAgainAfterAReload) {
  host.drop();
  ASSERT_TRUE(host.core.edit("lobby", "c_aaaaaaa2", "hello", host.now));
  ASSERT_TRUE(host.core.react("lobby", "c_bbbbbbb1", "👍", host.now));
  host.advance(1'000);  // the room cache too
  auto saved = host.storage;

  FakeHost reloaded;
  // The queue first, then the cache: the changes show on their targets either way.
  ASSERT_TRUE(reloaded.core.restore(kOutboxKey, saved[kOutboxKey], reloaded.now));
  ASSERT_TRUE(reloaded.core.restore(kRoomsKey, saved[kRoomsKey], reloaded.now));
  auto view = reloaded.room("lobby");
  ASSERT_EQ(view.items.size(), 2u);
  EXPECT_EQ(view.items[0].reaction_summary(), (std::vector<std::string>{"👍:1*"}));
  EXPECT_EQ(view.items[1].message.content, "hello");
  EXPECT_TRUE(view.items[1].change_pending);
  reloaded.connect_as("alice", "Alice");
  auto join = reloaded.expect_sent<c2s::Join>();
  EXPECT_EQ(join.sinceSeq, 2) << "the cache holds the messages as the server has them";
  reloaded.deliver(make_joined(join.ref, "lobby", 2));
  auto sends = reloaded.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].message.type, "edit");
  EXPECT_EQ(sends[1].message.type, "react");
}

// ------------------------------------------------------------------ replies

TEST_F(Lobby, AReplyQuotesItsOriginalAsItIsNow) {
  Draft reply = text("yes");
  reply.replyTo = "c_bbbbbbb1";  // by key
  std::string key = host.core.send("lobby", reply, host.now).key;
  auto send = host.expect_sent<c2s::Send>();
  EXPECT_EQ(send.message.replyTo, "m_1") << "the server's id goes on the wire";
  auto quote = line(key).quote;
  ASSERT_TRUE(quote);
  EXPECT_EQ(quote->sender_id, "bob");
  EXPECT_EQ(quote->excerpt, "hi");
  host.deliver(s2c::Ack{*send.ref, stored(send, 3)});
  host.deliver(s2c::MessageEvent{make_change(4, "bob", "c_bbbbbbb4", "edit", "m_1", "hi there")});
  EXPECT_EQ(line(key).quote->excerpt, "hi there") << "follows the original's edits";
  host.deliver(s2c::MessageEvent{make_change(5, "bob", "c_bbbbbbb5", "delete", "m_1")});
  quote = line(key).quote;
  EXPECT_TRUE(quote->deleted);
  EXPECT_EQ(quote->excerpt, "");

  // A reply whose original is not loaded shows the server's quote.
  Message far = make_message("lobby", 6, "bob", "c_bbbbbbb6", "about that");
  far.replyTo = "m_old";
  far.quote = Quote{"carol", "Carol", "long ago", std::nullopt};
  host.deliver(s2c::MessageEvent{far});
  quote = line("c_bbbbbbb6").quote;
  ASSERT_TRUE(quote);
  EXPECT_EQ(quote->sender_name, "Carol");
  EXPECT_EQ(quote->excerpt, "long ago");
  EXPECT_FALSE(quote->deleted);
}

TEST_F(Lobby, AReplyToASendNotAcknowledgedYetWaitsForItsIdAndKeepsTheOrder) {
  std::string original = host.core.send("lobby", text("question?"), host.now).key;
  auto first = host.expect_sent<c2s::Send>();
  Draft reply = text("and a follow-up");
  reply.replyTo = original;
  std::string key = host.core.send("lobby", reply, host.now).key;
  std::string after = host.core.send("lobby", text("after"), host.now).key;
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty()) << "the reply waits, and what follows it";
  EXPECT_EQ(line(key).quote->excerpt, "question?");
  host.deliver(s2c::Ack{*first.ref, make_message("lobby", 3, "alice", original, "question?")});
  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].clientMsgId, key);
  EXPECT_EQ(sends[0].message.replyTo, "m_3");
  EXPECT_EQ(sends[1].clientMsgId, after);
  EXPECT_EQ(line(key).message.replyTo, "m_3");
}

TEST_F(Lobby, DiscardingASendFailsTheRepliesAndDropsTheChangesThatWaitForIt) {
  std::string original = host.core.send("lobby", text("refused"), host.now, /*held=*/true).key;
  ASSERT_TRUE(host.core.react("lobby", original, "👍", host.now));
  Draft reply = text("re");
  reply.replyTo = original;
  std::string key = host.core.send("lobby", reply, host.now).key;
  EXPECT_EQ(host.core.queued(), 3u);
  ASSERT_TRUE(host.core.remove("lobby", original, host.now));
  EXPECT_EQ(host.core.queued(), 1u);
  auto shown = line(key);
  EXPECT_EQ(shown.status, MessageStatus::failed);
  EXPECT_EQ(shown.error->code, ErrorCode::not_found);
  EXPECT_EQ(shown.error->path, "/message/replyTo");
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty());
}

// ------------------------------------------------------ held attachments

TEST_F(Lobby, AHeldSendShowsAtOnceAndHoldsItsRoomsLaterMessagesUntilAttached) {
  Draft image;
  image.type = "image";
  image.metadata = image_metadata("blob:https://app.example/7e1");
  std::string held = host.core.send("lobby", image, host.now, true).key;
  std::string after = host.core.send("lobby", text("look at this"), host.now).key;
  ASSERT_TRUE(host.core.react("lobby", "c_bbbbbbb1", "👍", host.now));
  host.core.join("other", host.now);
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "other", 0));
  std::string elsewhere = host.core.send("other", text("elsewhere"), host.now).key;

  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 2u) << "changes and other rooms do not wait";
  EXPECT_EQ(sends[0].message.type, "react");
  EXPECT_EQ(sends[1].clientMsgId, elsewhere);
  auto shown = line(held);
  EXPECT_TRUE(shown.held);
  EXPECT_EQ(shown.status, MessageStatus::queued);
  EXPECT_EQ(shown.message.metadata->url, "blob:https://app.example/7e1");
  EXPECT_EQ(shown.message.metadata->width, 640);
  EXPECT_EQ(line(after).status, MessageStatus::queued);
  host.advance(20'000);
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty());

  ASSERT_TRUE(host.core.edit("lobby", held, "a cat", host.now)) << "a caption for the held send itself";
  EXPECT_FALSE(host.core.attach("lobby", after, image_metadata("/uploads/x.png"), host.now)) << "not held";
  ASSERT_TRUE(host.core.attach("lobby", held, image_metadata("/uploads/cat.png"), host.now));
  sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].clientMsgId, held);
  EXPECT_EQ(sends[0].message.content, "a cat");
  EXPECT_EQ(sends[0].message.metadata->url, "/uploads/cat.png");
  EXPECT_EQ(sends[1].clientMsgId, after);
  shown = line(held);
  EXPECT_FALSE(shown.held);
  EXPECT_EQ(shown.message.metadata->url, "/uploads/cat.png");
}

TEST_F(Lobby, AHeldSendSurvivesAReloadAndKeepsItsPlace) {
  host.drop();
  Draft image;
  image.type = "image";
  image.metadata = image_metadata("blob:https://app.example/7e1");
  std::string held = host.core.send("lobby", image, host.now, true).key;
  std::string after = host.core.send("lobby", text("look at this"), host.now).key;
  host.drain();
  auto saved = host.storage;

  FakeHost reloaded;
  ASSERT_TRUE(reloaded.core.restore(kOutboxKey, saved[kOutboxKey], reloaded.now));
  auto view = reloaded.room("lobby");
  ASSERT_EQ(view.items.size(), 2u);
  EXPECT_EQ(view.items[0].key, held);
  EXPECT_TRUE(view.items[0].held);
  EXPECT_EQ(view.items[0].message.metadata->width, 640);
  EXPECT_FALSE(view.items[1].held);
  reloaded.connect_as("alice", "Alice");
  auto join = reloaded.expect_sent<c2s::Join>();
  reloaded.deliver(make_joined(join.ref, "lobby", 2));
  EXPECT_TRUE(reloaded.take_sent_of<c2s::Send>().empty()) << "still held after the reload";
  ASSERT_TRUE(reloaded.core.attach("lobby", held, image_metadata("https://cdn.example/cat.png"), reloaded.now));
  auto sends = reloaded.take_sent_of<c2s::Send>();  // (drains: the storage is current)
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].clientMsgId, held);
  EXPECT_EQ(sends[1].clientMsgId, after);
  // Released: a reload now sends it by itself.
  FakeHost again;
  ASSERT_TRUE(again.core.restore(kOutboxKey, reloaded.storage[kOutboxKey], again.now));
  EXPECT_FALSE(again.room("lobby").items.at(0).held);
}

TEST_F(Lobby, ADeletedHeldSendIsDiscarded) {
  Draft file;
  file.type = "file";
  file.metadata = Metadata{"a.pdf", 10, "application/pdf", {}, "blob:x", {}, {}};
  std::string held = host.core.send("lobby", file, host.now, true).key;
  ASSERT_TRUE(host.core.remove("lobby", held, host.now));
  EXPECT_EQ(host.core.queued(), 0u);
  EXPECT_EQ(host.room("lobby").items.size(), 2u);
  EXPECT_FALSE(host.core.attach("lobby", held, file.metadata.value(), host.now));
}

}  // namespace
}  // namespace parley::client
