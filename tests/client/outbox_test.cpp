// The offline queue: ordered, bounded, persisted, deduplicated by clientMsgId.
#include <gtest/gtest.h>

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

// Connected as alice and joined to lobby (head at `head`).
void join_lobby(FakeHost& host, std::int64_t head = 0, std::vector<Message> replay = {}) {
  host.core.join("lobby", host.now);
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", head, std::move(replay)));
}

TEST(Outbox, SendsAtOnceWhenJoinedAndTheAckConfirmsInPlace) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host);
  std::string key = host.core.send("lobby", text("hello bob"), host.now).key;
  auto send = host.expect_sent<c2s::Send>();
  EXPECT_EQ(send.clientMsgId, key);
  auto view = host.room("lobby");
  ASSERT_EQ(view.items.size(), 1u);
  EXPECT_EQ(view.items[0].status, MessageStatus::sending);
  EXPECT_EQ(view.items[0].message.senderName, "Alice");

  host.deliver(s2c::MessageEvent{make_message("lobby", 1, "alice", key, "hello bob")});  // the echo first
  host.deliver(s2c::Ack{*send.ref, make_message("lobby", 1, "alice", key, "hello bob")});
  view = host.room("lobby");
  ASSERT_EQ(view.items.size(), 1u) << "no duplicate";
  EXPECT_EQ(view.items[0].key, key) << "same key from pending to confirmed";
  EXPECT_EQ(view.items[0].status, MessageStatus::sent);
  EXPECT_EQ(view.items[0].message.seq, 1);
  EXPECT_EQ(host.core.queued(), 0u);
}

TEST(Outbox, QueuesWhileDisconnectedAndFlushesInOrderAfterTheRejoin) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host, 5, {make_message("lobby", 5, "bob", "c_bbbbbbb5", "hi")});
  host.drop();
  std::vector<std::string> keys;
  for (const char* t : {"one", "two", "three"}) keys.push_back(host.core.send("lobby", text(t), host.now).key);
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty()) << "nothing goes out while disconnected";
  for (const auto& item : host.room("lobby").items) {
    if (item.mine) {
      EXPECT_EQ(item.status, MessageStatus::queued);
    }
  }
  host.advance(10'000);
  host.accept("alice", "Alice");
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty()) << "not before the room is rejoined";
  auto rejoin = host.take_sent_of<c2s::Join>();
  ASSERT_EQ(rejoin.size(), 1u);
  EXPECT_EQ(rejoin[0].sinceSeq, 5);
  host.deliver(make_joined(rejoin[0].ref, "lobby", 5));
  auto flushed = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(flushed.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(flushed[i].clientMsgId, keys[i]);
}

TEST(Outbox, ASendWhoseAckWasLostIsRetriedWithTheSameClientMsgId) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host);
  std::string key = host.core.send("lobby", text("once"), host.now).key;
  auto first = host.expect_sent<c2s::Send>();
  host.drop();  // before the ack
  host.advance(10'000);
  host.accept("alice", "Alice");
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 0));
  auto again = host.expect_sent<c2s::Send>();
  EXPECT_EQ(again.clientMsgId, first.clientMsgId);
  EXPECT_EQ(again.clientMsgId, key);
  host.deliver(s2c::Ack{*again.ref, make_message("lobby", 1, "alice", key, "once")});
  EXPECT_EQ(host.room("lobby").items.size(), 1u);
}

TEST(Outbox, IsPersistedAndAReloadedCoreFlushesItInOrder) {
  std::map<std::string, std::string> saved;
  std::vector<std::string> keys;
  {
    FakeHost host;
    host.connect_as("alice", "Alice");
    join_lobby(
        host, 2,
        {make_message("lobby", 1, "bob", "c_bbbbbbb1", "a"), make_message("lobby", 2, "bob", "c_bbbbbbb2", "b")});
    host.drop();
    for (const char* t : {"first", "second"}) keys.push_back(host.core.send("lobby", text(t), host.now).key);
    host.advance(1000);  // lets the room cache be written too
    saved = host.storage;
  }
  ASSERT_TRUE(saved.count(kOutboxKey));
  ASSERT_TRUE(saved.count(kRoomsKey));

  FakeHost reloaded;  // a new page
  for (const auto& [key, blob] : saved) EXPECT_TRUE(reloaded.core.restore(key, blob, reloaded.now));
  auto view = reloaded.room("lobby");
  ASSERT_EQ(view.items.size(), 4u) << "cached messages and the queued ones";
  EXPECT_EQ(view.items[2].status, MessageStatus::queued);
  EXPECT_EQ(view.items[3].message.content, "second");
  reloaded.core.connect(reloaded.now);
  reloaded.accept("alice", "Alice");
  auto join = reloaded.expect_sent<c2s::Join>();
  EXPECT_EQ(join.roomId, "lobby") << "a room with queued messages is rejoined by itself";
  EXPECT_EQ(join.sinceSeq, 2) << "resumes after the cached messages";
  reloaded.deliver(make_joined(join.ref, "lobby", 2));
  auto sends = reloaded.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].clientMsgId, keys[0]);
  EXPECT_EQ(sends[1].clientMsgId, keys[1]);
}

TEST(Outbox, StateOfAnotherUserIsDroppedNotSent) {
  FakeHost first;
  first.connect_as("alice", "Alice");
  join_lobby(first);
  first.drop();
  first.core.send("lobby", text("private thought"), first.now);
  first.drain();

  FakeHost other;
  other.core.restore(kOutboxKey, first.storage[kOutboxKey], other.now);
  other.core.connect(other.now);
  other.accept("bob", "Bob");
  auto join = other.take_sent_of<c2s::Join>();
  for (auto& j : join) other.deliver(make_joined(j.ref, j.roomId, 0));
  EXPECT_TRUE(other.take_sent_of<c2s::Send>().empty());
  EXPECT_EQ(other.core.queued(), 0u);
}

TEST(Outbox, APermanentRefusalFailsThatMessageAndTheRestGoOn) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host);
  std::string bad = host.core.send("lobby", text("refused"), host.now).key;
  std::string good = host.core.send("lobby", text("fine"), host.now).key;
  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 2u);
  host.deliver(make_error(sends[0].ref, "forbidden", "not allowed"));
  host.deliver(s2c::Ack{*sends[1].ref, make_message("lobby", 1, "alice", good, "fine")});
  auto view = host.room("lobby");
  ASSERT_EQ(view.items.size(), 2u);
  EXPECT_EQ(view.items[0].message.content, "fine");
  EXPECT_EQ(view.items[0].status, MessageStatus::sent);
  EXPECT_EQ(view.items[1].key, bad);
  EXPECT_EQ(view.items[1].status, MessageStatus::failed);
  EXPECT_EQ(view.items[1].error->code, ErrorCode::forbidden);

  EXPECT_TRUE(host.core.discard("lobby", bad, host.now));
  EXPECT_EQ(host.room("lobby").items.size(), 1u);
}

TEST(Outbox, AFailedMessageRetriedGoesAgainWithTheSameClientMsgIdAndCanSucceed) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host);
  std::string key = host.core.send("lobby", text("try me"), host.now).key;
  auto first = host.expect_sent<c2s::Send>();
  host.deliver(make_error(first.ref, "forbidden", "read-only for now"));
  ASSERT_EQ(host.room("lobby").items.at(0).status, MessageStatus::failed);
  host.advance(20'000);
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty()) << "a failed message is not retried by itself";
  EXPECT_FALSE(host.core.retry("lobby", "c-unknown-key", host.now));

  EXPECT_TRUE(host.core.retry("lobby", key, host.now));
  auto again = host.expect_sent<c2s::Send>();
  EXPECT_EQ(again.clientMsgId, key);
  EXPECT_EQ(again.message.content, "try me");
  auto item = host.room("lobby").items.at(0);
  EXPECT_EQ(item.status, MessageStatus::sending);
  EXPECT_FALSE(item.error) << "the old reason is gone";
  EXPECT_FALSE(host.core.retry("lobby", key, host.now)) << "only a failed message can be retried";
  host.deliver(s2c::Ack{*again.ref, make_message("lobby", 1, "alice", key, "try me")});
  auto view = host.room("lobby");
  ASSERT_EQ(view.items.size(), 1u);
  EXPECT_EQ(view.items[0].key, key);
  EXPECT_EQ(view.items[0].status, MessageStatus::sent);
  EXPECT_EQ(host.core.queued(), 0u);
}

TEST(Outbox, EachAckReplacesItsMessageInPlaceAmongPendingAndConfirmedOnes) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(
      host, 2,
      {make_message("lobby", 1, "bob", "c_bbbbbbb1", "b1"), make_message("lobby", 2, "bob", "c_bbbbbbb2", "b2")});
  std::vector<std::string> mine;
  for (const char* t : {"a", "b", "c"}) mine.push_back(host.core.send("lobby", text(t), host.now).key);
  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 3u);
  auto keys = [&] {
    std::vector<std::string> out;
    for (const auto& item : host.room("lobby").items) out.push_back(item.key);
    return out;
  };
  auto statuses = [&] {
    std::vector<MessageStatus> out;
    for (const auto& item : host.room("lobby").items) out.push_back(item.status);
    return out;
  };
  const std::vector<std::string> order = {"c_bbbbbbb1", "c_bbbbbbb2", mine[0], mine[1], mine[2]};
  ASSERT_EQ(keys(), order);
  using S = MessageStatus;

  host.deliver(s2c::Ack{*sends[0].ref, make_message("lobby", 3, "alice", mine[0], "a")});
  EXPECT_EQ(keys(), order);
  EXPECT_EQ(statuses(), (std::vector<S>{S::sent, S::sent, S::sent, S::sending, S::sending}));
  EXPECT_EQ(host.room("lobby").items[2].message.seq, 3);

  // Bob's message lands between two of ours: it goes before the pending ones.
  host.deliver(s2c::MessageEvent{make_message("lobby", 4, "bob", "c_bbbbbbb4", "b4")});
  const std::vector<std::string> with_bob = {"c_bbbbbbb1", "c_bbbbbbb2", mine[0], "c_bbbbbbb4", mine[1], mine[2]};
  EXPECT_EQ(keys(), with_bob);

  // The last one's ack comes before the middle one's: each stays where it is.
  host.deliver(s2c::Ack{*sends[2].ref, make_message("lobby", 6, "alice", mine[2], "c")});
  host.deliver(s2c::MessageEvent{make_message("lobby", 5, "alice", mine[1], "b")});  // the echo of b
  host.deliver(s2c::Ack{*sends[1].ref, make_message("lobby", 5, "alice", mine[1], "b")});
  EXPECT_EQ(keys(), with_bob);
  std::vector<std::int64_t> seqs;
  for (const auto& item : host.room("lobby").items) seqs.push_back(item.message.seq);
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(host.core.queued(), 0u);
}

TEST(Outbox, AMessageTheServerWouldRefuseFailsAtOnceAndCanBeRetriedOrDiscarded) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host);
  std::string key = host.core.send("lobby", text(std::string(4001, 'x')), host.now).key;
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty());
  auto item = host.room("lobby").items.at(0);
  EXPECT_EQ(item.status, MessageStatus::failed);
  EXPECT_EQ(item.error->code, ErrorCode::too_large);
  EXPECT_EQ(item.error->path, "/message/content");
  EXPECT_TRUE(host.core.discard("lobby", key, host.now));
  EXPECT_TRUE(host.room("lobby").items.empty());
}

TEST(Outbox, ATransientRefusalIsRetriedAfterTheDelayTheServerAskedFor) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host);
  std::string key = host.core.send("lobby", text("later"), host.now).key;
  auto send = host.expect_sent<c2s::Send>();
  host.deliver(make_error(send.ref, "rate_limited", "slow down", 1200));
  EXPECT_EQ(host.room("lobby").items[0].status, MessageStatus::queued);
  host.advance(1199);
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty()) << "not before retryAfterMs";
  host.advance(1);
  auto again = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].clientMsgId, key);
}

s2c::Error rate_limited(const c2s::Send& send, std::int64_t retry_after_ms) {
  return make_error(send.ref, "rate_limited", "slow down", retry_after_ms);
}

std::vector<std::string> contents(const std::vector<c2s::Send>& sends) {
  std::vector<std::string> out;
  for (const auto& s : sends) out.push_back(s.message.content);
  return out;
}

TEST(Outbox, SendsArePacedToTheLimitTheServerAdvertises) {
  FakeHost host;
  host.core.connect(host.now);
  host.accept("alice", "Alice", 25000, Limits{65536, 4000, 500, 3});  // 2/s after a burst of 3
  join_lobby(host);
  for (const char* t : {"a", "b", "c", "d"}) host.core.send("lobby", text(t), host.now);
  // One token of the burst is kept back for jitter, and the interval is 5% longer.
  EXPECT_EQ(contents(host.take_sent_of<c2s::Send>()), (std::vector<std::string>{"a", "b"}));
  auto waiting = host.room("lobby").items[2];
  EXPECT_EQ(waiting.status, MessageStatus::queued);
  ASSERT_TRUE(waiting.error);
  EXPECT_EQ(waiting.error->code, ErrorCode::rate_limited) << "the app can say why it waits";
  host.advance(525);
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty());
  host.advance(1);
  EXPECT_EQ(contents(host.take_sent_of<c2s::Send>()), (std::vector<std::string>{"c"}));
  EXPECT_FALSE(host.room("lobby").items[2].error);
  host.advance(526);
  EXPECT_EQ(contents(host.take_sent_of<c2s::Send>()), (std::vector<std::string>{"d"}));
}

TEST(Outbox, ARateLimitedSendGoesAgainFirstAndTheRestFollowOneAtATime) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host);
  for (const char* t : {"1", "2", "3"}) host.core.send("lobby", text(t), host.now);
  auto first = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(first.size(), 3u) << "pipelined while nothing is refused";
  // The server refuses 1 for the rate and holds back 2 and 3 behind it.
  host.deliver(rate_limited(first[0], 300));
  host.deliver(rate_limited(first[1], 300));
  host.deliver(rate_limited(first[2], 5000));  // a later refusal does not stretch the wait
  host.advance(299);
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty()) << "not before retryAfterMs";
  host.advance(1);
  auto again = host.take_sent_of<c2s::Send>();
  EXPECT_EQ(contents(again), (std::vector<std::string>{"1"})) << "the refused one first, alone";
  host.deliver(s2c::Ack{*again[0].ref, make_message("lobby", 1, "alice", again[0].clientMsgId, "1")});
  again = host.take_sent_of<c2s::Send>();
  EXPECT_EQ(contents(again), (std::vector<std::string>{"2"})) << "the next after the ack";
  host.deliver(s2c::Ack{*again[0].ref, make_message("lobby", 2, "alice", again[0].clientMsgId, "2")});
  again = host.take_sent_of<c2s::Send>();
  EXPECT_EQ(contents(again), (std::vector<std::string>{"3"}));
  host.deliver(s2c::Ack{*again[0].ref, make_message("lobby", 3, "alice", again[0].clientMsgId, "3")});

  // Drained: back to pipelining.
  for (const char* t : {"4", "5"}) host.core.send("lobby", text(t), host.now);
  EXPECT_EQ(contents(host.take_sent_of<c2s::Send>()), (std::vector<std::string>{"4", "5"}));
  std::vector<std::int64_t> seqs;
  for (const auto& item : host.room("lobby").items) seqs.push_back(item.message.seq);
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3, 0, 0}));
}

TEST(Outbox, IsBoundedAndRefusesTheNextWithQueueFull) {
  client::Config config = FakeHost::default_config();
  config.queue_limit = 3;
  FakeHost host(config);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(host.core.send("lobby", text("m"), host.now));
  auto full = host.core.send("lobby", text("one too many"), host.now);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.refused, SendRefusal::queue_full);
  EXPECT_EQ(to_string(*full.refused), "queue_full");
  EXPECT_TRUE(full.key.empty());
  EXPECT_EQ(host.core.queued(), 3u) << "nothing was queued";
  EXPECT_EQ(host.room("lobby").items.size(), 3u) << "nor shown";
  // A failed message does not hold a place: it waits for the user, not the network.
  auto too_long = host.core.send("lobby", text(std::string(4001, 'x')), host.now);
  EXPECT_FALSE(too_long) << "full is full, whatever the message";
  std::string key = host.room("lobby").items[0].key;
  EXPECT_TRUE(host.core.discard("lobby", key, host.now));
  EXPECT_TRUE(host.core.send("lobby", text("room again"), host.now));
}

TEST(Outbox, ReceiptsMadeOfflineArePersistedAndAReloadedCoreSendsThemAfterTheRejoin) {
  std::map<std::string, std::string> saved;
  {
    FakeHost host;
    host.connect_as("alice", "Alice");
    join_lobby(
        host, 7,
        {make_message("lobby", 6, "bob", "c_bbbbbbb6", "six"), make_message("lobby", 7, "bob", "c_bbbbbbb7", "seven")});
    host.take_sent_of<c2s::Delivered>();  // for what the join brought
    host.deliver(s2c::MessageEvent{make_message("lobby", 8, "bob", "c_bbbbbbb8", "eight")});
    host.drop();  // before its delivered watermark went out (coalesced)
    EXPECT_TRUE(host.take_sent_of<c2s::Delivered>().empty());
    host.core.mark_read("lobby", 8, host.now);
    host.advance(1000);
    EXPECT_TRUE(host.take_sent_of<c2s::Read>().empty()) << "offline";
    saved = host.storage;
  }
  FakeHost reloaded;
  for (const auto& [key, blob] : saved) ASSERT_TRUE(reloaded.core.restore(key, blob, reloaded.now));
  reloaded.core.connect(reloaded.now);
  reloaded.accept("alice", "Alice");
  EXPECT_TRUE(reloaded.take_sent_of<c2s::Read>().empty()) << "not before the rejoin";
  auto join = reloaded.expect_sent<c2s::Join>();
  EXPECT_EQ(join.roomId, "lobby");
  EXPECT_EQ(join.sinceSeq, 8);
  reloaded.deliver(make_joined(join.ref, "lobby", 8));
  auto reads = reloaded.take_sent_of<c2s::Read>();
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].upToSeq, 8);
  auto delivered = reloaded.take_sent_of<c2s::Delivered>();
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].upToSeq, 8);

  // Sent: the saved outbox no longer holds them, so a second reload sends nothing.
  FakeHost again;
  auto stored = saved;  // the same storage, with what the reloaded core wrote over it
  for (const auto& [key, blob] : reloaded.storage) stored[key] = blob;
  for (const auto& [key, blob] : stored) ASSERT_TRUE(again.core.restore(key, blob, again.now));
  again.core.connect(again.now);
  again.accept("alice", "Alice");
  again.core.join("lobby", again.now);
  auto rejoin = again.expect_sent<c2s::Join>();
  again.deliver(make_joined(rejoin.ref, "lobby", 8));
  again.advance(1000);
  EXPECT_TRUE(again.take_sent_of<c2s::Read>().empty());
  EXPECT_TRUE(again.take_sent_of<c2s::Delivered>().empty());
}

// ---- outboxes of other tabs: each tab persists its own; a later core, or a
// tab still open, adopts the outbox of a tab that is gone.

// A tab of alice that was connected and joined to `rooms`, went offline and
// queued `texts` in `room`; returns its persisted outbox.
std::string offline_tab_outbox(const std::string& room, const std::vector<std::string>& texts,
                               std::vector<std::string>* keys = nullptr, std::uint64_t seed = 42) {
  client::Config config = FakeHost::default_config();
  config.seed = seed;
  FakeHost tab(config);
  tab.connect_as("alice", "Alice");
  tab.core.join(room, tab.now);
  auto join = tab.expect_sent<c2s::Join>();
  tab.deliver(make_joined(join.ref, room, 0));
  tab.core.network_offline(tab.now);
  for (const auto& t : texts) {
    std::string key = tab.core.send(room, text(t), tab.now).key;
    if (keys) keys->push_back(key);
  }
  tab.drain();
  return tab.storage.at(kOutboxKey);
}

TEST(Outbox, TheOutboxesOfTwoClosedTabsAreAdoptedByALaterOneAndEachMessageIsSentOnce) {
  std::vector<std::string> keys_a;
  std::vector<std::string> keys_b;
  std::string a = offline_tab_outbox("lobby", {"a1", "a2", "a3"}, &keys_a, 1);
  std::string b = offline_tab_outbox("lobby", {"b1", "b2"}, &keys_b, 2);

  FakeHost later;  // a new tab, after both were closed (in either order)
  ASSERT_TRUE(later.core.restore(kOutboxKey, b, later.now));
  ASSERT_TRUE(later.core.restore(kOutboxKey, a, later.now));
  later.drain();
  // Its own outbox holds both now, before the host deletes theirs.
  auto own = decode_outbox(later.storage.at(kOutboxKey));
  ASSERT_TRUE(own);
  EXPECT_EQ(own->sends.size(), 5u);
  EXPECT_EQ(later.core.queued(), 5u);

  later.connect_as("alice", "Alice");
  auto join = later.expect_sent<c2s::Join>();
  later.deliver(make_joined(join.ref, "lobby", 0));
  auto sends = later.take_sent_of<c2s::Send>();
  std::vector<std::string> sent;
  for (const auto& f : sends) sent.push_back(f.clientMsgId);
  EXPECT_EQ(sent, (std::vector<std::string>{keys_b[0], keys_b[1], keys_a[0], keys_a[1], keys_a[2]}))
      << "each tab's messages in their order, with their clientMsgIds";
  std::int64_t seq = 0;
  for (const auto& f : sends) later.deliver(s2c::Ack{*f.ref, make_message("lobby", ++seq, "alice", f.clientMsgId, "")});
  EXPECT_EQ(later.core.queued(), 0u);
  EXPECT_TRUE(decode_outbox(later.storage.at(kOutboxKey))->sends.empty());
  later.advance(60'000);
  EXPECT_TRUE(later.take_sent_of<c2s::Send>().empty()) << "nothing twice";
}

TEST(Outbox, AnOutboxAdoptedWhileConnectedGoesOutAtOnceAndItsRoomsAreJoined) {
  std::vector<std::string> keys;
  std::string gone = offline_tab_outbox("random", {"r1", "r2"}, &keys, 7);

  FakeHost survivor;
  survivor.connect_as("alice", "Alice");
  join_lobby(survivor);
  std::string mine = survivor.core.send("lobby", text("mine"), survivor.now).key;
  survivor.take_sent_of<c2s::Send>();
  ASSERT_TRUE(survivor.core.restore(kOutboxKey, gone, survivor.now));
  survivor.drain();
  auto own = decode_outbox(survivor.storage.at(kOutboxKey));
  ASSERT_TRUE(own);
  ASSERT_EQ(own->sends.size(), 3u) << "its own message and the adopted ones, saved at once";
  EXPECT_EQ(own->sends[0].client_msg_id, mine);
  auto join = survivor.expect_sent<c2s::Join>();
  EXPECT_EQ(join.roomId, "random") << "a room of the adopted queue is joined";
  EXPECT_TRUE(survivor.take_sent_of<c2s::Send>().empty()) << "not before its join";
  survivor.deliver(make_joined(join.ref, "random", 0));
  auto sends = survivor.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 2u);
  EXPECT_EQ(sends[0].clientMsgId, keys[0]);
  EXPECT_EQ(sends[1].clientMsgId, keys[1]);
  auto view = survivor.room("random");
  ASSERT_EQ(view.items.size(), 2u);
  EXPECT_EQ(view.items[0].status, MessageStatus::sending);
  EXPECT_TRUE(view.items[0].mine);
}

TEST(Outbox, AnOutboxAdoptedTwiceAddsNothingTheSecondTime) {
  std::string gone = offline_tab_outbox("lobby", {"only once"});
  FakeHost host;
  host.connect_as("alice", "Alice");
  join_lobby(host);
  ASSERT_TRUE(host.core.restore(kOutboxKey, gone, host.now));
  ASSERT_EQ(host.take_sent_of<c2s::Send>().size(), 1u);
  host.storage.clear();
  EXPECT_TRUE(host.core.restore(kOutboxKey, gone, host.now));
  host.drain();
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty());
  EXPECT_FALSE(host.storage.count(kOutboxKey)) << "nothing new to save";
  EXPECT_EQ(host.room("lobby").items.size(), 1u);
}

TEST(Outbox, AnotherUsersOutboxIsNotAdopted) {
  std::string alices = offline_tab_outbox("lobby", {"alice's"});
  FakeHost bob;
  bob.core.connect(bob.now);
  bob.accept("bob", "Bob");
  EXPECT_FALSE(bob.core.restore(kOutboxKey, alices, bob.now));
  bob.drain();
  EXPECT_EQ(bob.core.queued(), 0u);
  EXPECT_TRUE(bob.take_sent_of<c2s::Send>().empty());
}

TEST(Outbox, AnOutboxSavedByTheFirstVersionIsStillRestored) {
  // Version 1 wrote, after cereal's endianness byte: version, kind, user id,
  // sends. Version 2 appends the receipts (an empty list: its 8-byte size),
  // version 3 the draft's target (an empty optional: one byte, before the
  // send's created_at and failed), version 4 the send's held flag and the
  // key it waits for (one byte, and an empty string's 8-byte size).
  QueuedSend saved{"lobby", "c_saved_by_v1", text("from an older page"), 123, std::nullopt};
  std::string blob = encode_outbox("alice", {saved}, {});
  ASSERT_EQ(blob[1], 4);
  blob[1] = 1;
  blob.resize(blob.size() - 8 - 1 - 8);
  ASSERT_EQ(blob[blob.size() - 1 - 8 - 1], 1) << "the empty target";
  blob.erase(blob.size() - 1 - 8 - 1, 1);
  auto state = decode_outbox(blob);
  ASSERT_TRUE(state);
  ASSERT_EQ(state->sends.size(), 1u);
  EXPECT_EQ(state->sends[0].client_msg_id, "c_saved_by_v1");

  FakeHost host;
  ASSERT_TRUE(host.core.restore(kOutboxKey, blob, host.now));
  host.connect_as("alice", "Alice");
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(make_joined(join.ref, "lobby", 0));
  EXPECT_EQ(host.expect_sent<c2s::Send>().clientMsgId, "c_saved_by_v1");

  blob[1] = 5;  // a version from the future is not guessed at
  EXPECT_FALSE(decode_outbox(blob));
}

}  // namespace
}  // namespace parley::client
