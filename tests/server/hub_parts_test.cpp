// The hub's parts on their own, as pure code over explicit time: who may do
// what (access_policy), when typing is relayed (typing), what a join replays
// (replay, on memory storage), rooms in memory (room_registry) and per-user
// limits (user_limits). The hub itself is tested in process (session_test)
// and through sockets (server_test, authorization_test).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "hub/access_policy.hpp"
#include "hub/replay.hpp"
#include "hub/room_registry.hpp"
#include "hub/typing.hpp"
#include "hub/user_limits.hpp"
#include "storage/storage.hpp"

namespace parley::server {
namespace {

using protocol::ErrorCode;

Identity user(const std::string& id, std::vector<std::string> rooms = {}, std::optional<std::string> role = {}) {
  return Identity{id, id, 0, std::move(rooms), std::move(role)};
}

// ---- access_policy

TEST(AccessPolicy, ADirectRoomIdNamesTwoDifferentUsersInOrderAndOnlyThemMayOpenIt) {
  EXPECT_FALSE(access::direct_room("lobby", user("alice")).value()) << "not a direct room";
  auto mine = access::direct_room("dm:alice:bob", user("bob"));
  ASSERT_TRUE(mine && mine.value());
  EXPECT_EQ(mine.value()->first, "alice");
  EXPECT_EQ(mine.value()->second, "bob");
  for (const char* bad : {"dm:", "dm:alice", "dm:alice:", "dm::bob", "dm:alice:alice", "dm:a:b:c"}) {
    auto refused = access::direct_room(bad, user("alice"));
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::bad_request) << bad;
  }
  EXPECT_EQ(access::direct_room("dm:bob:alice", user("alice")).error().code, ErrorCode::bad_request) << "order";
  EXPECT_EQ(access::direct_room("dm:alice:bob", user("carol")).error().code, ErrorCode::forbidden);
}

TEST(AccessPolicy, PrivateRoomsTakeOnlyNamedUsersOrAdminsAndFullRoomsNobody) {
  EXPECT_EQ(access::kind_of_new_room("team", false, user("a", {"team"})), RoomKind::private_room);
  EXPECT_EQ(access::kind_of_new_room("team", false, user("a")), RoomKind::public_room);
  EXPECT_EQ(access::kind_of_new_room("dm:a:b", true, user("a")), RoomKind::direct);

  EXPECT_FALSE(access::may_become_member(RoomKind::public_room, "lobby", user("a")));
  EXPECT_FALSE(access::may_become_member(RoomKind::private_room, "team", user("a", {"team"})));
  EXPECT_FALSE(access::may_become_member(RoomKind::private_room, "team", user("a", {}, "admin")));
  EXPECT_EQ(access::may_become_member(RoomKind::private_room, "team", user("a", {"other"}))->code,
            ErrorCode::forbidden);
  EXPECT_EQ(access::may_become_member(RoomKind::direct, "dm:a:b", user("c"))->code, ErrorCode::forbidden);
  EXPECT_FALSE(access::has_space(9, 10));
  EXPECT_EQ(access::has_space(10, 10)->message, "this room is full");
}

TEST(AccessPolicy, OwnersAndAdminsRemoveMembersButNeverTheOwner) {
  EXPECT_FALSE(access::may_remove_members(user("o"), Role::owner));
  EXPECT_FALSE(access::may_remove_members(user("a"), Role::admin));
  EXPECT_FALSE(access::may_remove_members(user("t", {}, "admin"), std::nullopt)) << "an admin token";
  EXPECT_EQ(access::may_remove_members(user("m"), Role::member)->code, ErrorCode::forbidden);
  EXPECT_EQ(access::may_remove_members(user("x"), std::nullopt)->code, ErrorCode::forbidden);
  EXPECT_FALSE(access::removable("m", Role::member));
  EXPECT_FALSE(access::removable("a", Role::admin));
  EXPECT_EQ(access::removable("o", Role::owner)->code, ErrorCode::forbidden);
  auto missing = access::removable("ghost", std::nullopt);
  EXPECT_EQ(missing->code, ErrorCode::not_found);
  EXPECT_EQ(missing->path, "/userId");
  EXPECT_FALSE(access::may_leave_for_good(RoomKind::private_room));
  EXPECT_EQ(access::may_leave_for_good(RoomKind::direct)->code, ErrorCode::forbidden);
}

TEST(AccessPolicy, TheAdminApiSetsAdminOrMemberAndNeverTouchesTheOwner) {
  EXPECT_EQ(access::settable_role("admin").value(), Role::admin);
  EXPECT_EQ(access::settable_role("member").value(), Role::member);
  for (const char* bad : {"owner", "Admin", "", "root"}) {
    EXPECT_EQ(access::settable_role(bad).error().code, ErrorCode::bad_request) << bad;
  }
  EXPECT_EQ(access::may_set_role(Role::owner, Role::member)->code, ErrorCode::forbidden);
  EXPECT_FALSE(access::may_set_role(Role::member, Role::admin));
}

// ---- typing

TEST(RoomTyping, TellsTheRoomOnceAThirdOfTheTtlAndForgetsExpiredTypists) {
  RoomTyping typing(3'000);
  EXPECT_TRUE(typing.typed("alice", 0));
  EXPECT_FALSE(typing.typed("alice", 999));
  EXPECT_TRUE(typing.typed("alice", 1'000));
  EXPECT_TRUE(typing.typed("bob", 1'000)) << "each typist on their own";
  typing.expire(3'999);
  EXPECT_FALSE(typing.empty());
  EXPECT_TRUE(typing.stopped("bob"));
  EXPECT_FALSE(typing.stopped("bob")) << "the room was told once";
  typing.expire(4'000);  // alice's indicator, told at 1000, ends at 4000
  EXPECT_TRUE(typing.empty());
  EXPECT_FALSE(typing.stopped("alice")) << "expired: nothing to tell";
  EXPECT_TRUE(typing.typed("alice", 10'000)) << "a typist past the TTL starts over";
}

// ---- replay

class Replay : public ::testing::Test {
 protected:
  void SetUp() override {
    room_ = RoomRecord{"r", RoomKind::public_room, "e1", 0, 1};
    ASSERT_TRUE(storage_->create_room(room_, {}).value());
    for (int i = 1; i <= 120; ++i) {
      protocol::Message m;
      m.id = "m" + std::to_string(i);
      m.roomId = "r";
      m.senderId = "alice";
      m.senderName = "alice";
      m.clientMsgId = "c_" + std::to_string(100000 + i);
      m.seq = i;
      m.type = "text";
      m.content = "x";
      ASSERT_TRUE(storage_->append_message(m));
    }
    room_.head_seq = 120;
  }
  static std::vector<std::int64_t> seqs(const std::vector<protocol::Message>& messages) {
    std::vector<std::int64_t> out;
    for (const auto& m : messages) out.push_back(m.seq);
    return out;
  }
  static std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
    std::vector<std::int64_t> out;
    for (auto s = from; s <= to; ++s) out.push_back(s);
    return out;
  }
  std::unique_ptr<Storage> storage_ = make_memory_storage();
  RoomRecord room_;
};

TEST_F(Replay, AFirstJoinGetsTheNewestPage) {
  auto r = replay_since(*storage_, room_, std::nullopt, 1000).value();
  EXPECT_FALSE(r.reset);
  EXPECT_EQ(seqs(r.messages), range(71, 120));
}

TEST_F(Replay, ARejoinGetsExactlyWhatItMissedWithinTheLimit) {
  EXPECT_EQ(seqs(replay_since(*storage_, room_, 100, 20).value().messages), range(101, 120));
  EXPECT_TRUE(replay_since(*storage_, room_, 120, 20).value().messages.empty()) << "up to date";
  auto behind = replay_since(*storage_, room_, 99, 20).value();
  EXPECT_TRUE(behind.reset) << "21 behind, 20 replayed at most";
  EXPECT_EQ(seqs(behind.messages), range(71, 120));
  EXPECT_TRUE(replay_since(*storage_, room_, 121, 1000).value().reset) << "a position in another history";
}

TEST_F(Replay, APositionWhoseMessagesWerePrunedResets) {
  ASSERT_TRUE(storage_->prune_messages("r", 101));
  EXPECT_TRUE(replay_since(*storage_, room_, 90, 1000).value().reset);
  EXPECT_FALSE(replay_since(*storage_, room_, 100, 1000).value().reset);
}

TEST_F(Replay, HistoryPagesGoBackwardsAndSayWhenNothingIsLeft) {
  auto newest = history_page(*storage_, room_, std::nullopt, 50).value();
  EXPECT_EQ(seqs(newest.messages), range(71, 120));
  EXPECT_TRUE(newest.hasMore);
  auto first = history_page(*storage_, room_, 21, 50).value();
  EXPECT_EQ(seqs(first.messages), range(1, 20));
  EXPECT_FALSE(first.hasMore);
}

// ---- room_registry

struct NullPeer : Peer {
  protocol::Codec codec() const override { return protocol::Codec::json; }
  std::size_t worker() const override { return 0; }
  void deliver_local(const SharedFrame&) override {}
  void close(std::uint16_t, std::string) override {}
};

TEST(RoomRegistry, CreatesOnDemandAndEvictsASettledRoom) {
  RoomRegistry rooms(PresenceTimings{}, 5'000);
  EXPECT_FALSE(rooms.lock("r", false)) << "not in memory, not created";
  auto peer = std::make_shared<NullPeer>();
  {
    LockedRoom r = rooms.lock("r", true);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->record.id, "r");
    EXPECT_FALSE(r->loaded);
    r->subscribers.emplace(peer.get(), Subscriber{peer, "alice"});
    rooms.evict_if_settled(r);
    EXPECT_FALSE(r->evicted) << "a subscriber";
  }
  protocol::Error refusal;
  EXPECT_TRUE(rooms.lock_subscribed("r", peer.get(), refusal));
  NullPeer other;
  EXPECT_FALSE(rooms.lock_subscribed("r", &other, refusal));
  EXPECT_EQ(refusal.code, ErrorCode::forbidden);
  EXPECT_EQ(rooms.size(), 1u);

  int visited = 0;
  rooms.for_each([&](LockedRoom& r) {
    ++visited;
    r->subscribers.clear();
    rooms.evict_if_settled(r);
    EXPECT_TRUE(r->evicted);
  });
  EXPECT_EQ(visited, 1);
  EXPECT_EQ(rooms.size(), 0u);
  EXPECT_FALSE(rooms.lock_subscribed("r", peer.get(), refusal)) << "gone with its subscribers";
}

TEST(RoomRegistry, ARoomWithTypingOrPresenceSettlingStays) {
  RoomRegistry rooms(PresenceTimings{300'000, 5'000}, 5'000);
  LockedRoom r = rooms.lock("r", true);
  r->typing.typed("alice", 0);
  EXPECT_FALSE(r->settled());
  r->typing.stopped("alice");
  r->presence.connected("alice", 0);
  r->presence.disconnected("alice", 10);
  EXPECT_FALSE(r->settled()) << "offline is still to be announced";
  r->presence.tick(5'010);
  EXPECT_TRUE(r->settled());
}

// ---- user_limits

TEST(UserLimits, CountsConnectionsPerUserAndSharesABudgetOnceThereAreTwo) {
  Rates connection = default_rates(false);
  Rates user_rates = default_rates(true);
  user_rates[RateClass::messages] = {1, 2};  // tighter than a connection's 10/20
  UserLimits limits(2, connection, user_rates);
  EXPECT_TRUE(limits.add_connection("alice"));
  EXPECT_TRUE(limits.add_connection("alice"));
  EXPECT_FALSE(limits.add_connection("alice")) << "the third";
  EXPECT_EQ(limits.users(), 1u);
  EXPECT_EQ(limits.take("alice", RateClass::messages, 0), 0);
  EXPECT_EQ(limits.take("alice", RateClass::messages, 0), 0);
  EXPECT_EQ(limits.take("alice", RateClass::messages, 0), 1'000);
  EXPECT_EQ(limits.take("alice", RateClass::other, 0), 0) << "each class on its own";
  limits.remove_connection("alice");
  limits.remove_connection("alice");
  EXPECT_EQ(limits.users(), 0u) << "nothing kept for a user with no connection";
  limits.remove_connection("alice");  // once too often: harmless
  EXPECT_EQ(limits.take("nobody", RateClass::messages, 0), 0);
}

TEST(UserLimits, AUserWithOneConnectionAndLooseRatesHasNoBucketsToDrain) {
  UserLimits limits(20, default_rates(false), default_rates(true));
  ASSERT_TRUE(limits.add_connection("bob"));
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limits.take("bob", RateClass::messages, 0), 0);
  ASSERT_TRUE(limits.add_connection("bob"));
  int refused = 0;
  for (int i = 0; i < 100; ++i) refused += limits.take("bob", RateClass::messages, 0) > 0 ? 1 : 0;
  EXPECT_EQ(refused, 100 - 40) << "a second connection brings the user's 20/40 budget";
}

}  // namespace
}  // namespace parley::server
