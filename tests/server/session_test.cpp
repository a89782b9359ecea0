// Sessions and the hub in process, on a clock the test moves: rate limits,
// the order of held-back sends, presence and typing at their exact times,
// hello first, token expiry. No socket and no sleep: each assertion is about
// a time the test chose. (The same paths through the wire are in
// server_test, limits_test and authorization_test.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/in_process.hpp"

namespace parley::test {
namespace {

std::string send_frame(int i) {
  return R"({"type":"send","ref":"s)" + std::to_string(i) + R"(","roomId":"lobby","clientMsgId":")" + cmid("o", i) +
         R"(","message":{"type":"text","content":"m)" + std::to_string(i) + R"("}})";
}

std::vector<std::string> contents(const Json& joined) {
  std::vector<std::string> out;
  for (const auto& m : joined["messages"].GetArray()) out.push_back(m["content"].GetString());
  return out;
}

TEST(Session, RequestsBeforeHelloAreRefusedAndTheConnectionClosedWith4001) {
  InProcessServer server;
  InProcessClient anonymous(server, "nobody", false);
  Json refused = anonymous.request(R"({"type":"join","ref":"j","roomId":"lobby"})", "j");
  EXPECT_EQ(str(refused, "code"), "unauthorized");
  EXPECT_EQ(anonymous.peer().closed_with, 4001);
  EXPECT_EQ(server.tenant().hub().rooms_loaded(), 0u) << "nothing was opened for it";
}

TEST(Session, ASendBurstIsCutAtTheBucketAndRefillsAtTheRate) {
  server::Config config;
  config.rates[server::RateClass::messages] = {2, 3};  // 2 a second, bursts of 3
  InProcessServer server(config);
  InProcessClient alice(server, "alice");
  alice.join("lobby");
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(str(alice.send_text("lobby", cmid("b", i), "burst"), "type"), "ack") << i;
  Json refused = alice.send_text("lobby", cmid("b", 4), "one too many");
  EXPECT_EQ(str(refused, "code"), "rate_limited");
  EXPECT_EQ(refused["retryAfterMs"].GetInt64(), 500) << "one token at 2 a second";
  server.advance(499);
  EXPECT_EQ(str(alice.send_text("lobby", cmid("b", 4), "still early"), "code"), "rate_limited");
  server.advance(1);
  EXPECT_EQ(str(alice.send_text("lobby", cmid("b", 4), "now"), "type"), "ack");
  InProcessClient bob(server, "bob");
  EXPECT_EQ(bob.join("lobby")["headSeq"].GetInt64(), 4) << "exactly the accepted ones were stored";
}

TEST(Session, WelcomeAdvertisesTheTighterOfTheConnectionAndUserSendLimits) {
  server::Config config;
  config.rates[server::RateClass::messages] = {2, 1};
  config.user_rates[server::RateClass::messages] = {4, 8};
  config.max_content_length = 280;
  InProcessServer server(config);
  InProcessClient carol(server, "carol", false);
  carol.send(R"({"type":"hello","ref":"h","v":1,"token":")" + token_for("carol", "Carol") + "\"}");
  Json welcome = carol.next("welcome");
  ASSERT_TRUE(welcome.IsObject());
  EXPECT_EQ(welcome["limits"]["sendIntervalMs"].GetInt64(), 500);
  EXPECT_EQ(welcome["limits"]["sendBurst"].GetInt64(), 1);
  EXPECT_EQ(welcome["limits"]["maxContentLength"].GetInt64(), 280);
  EXPECT_EQ(welcome["serverTime"].GetInt64(), server.now());
}

TEST(Session, SendsInFlightBehindARateLimitedOneAreHeldBackSoTheOrderHolds) {
  server::Config config;
  config.rates[server::RateClass::messages] = {2, 1};
  config.abuse_limit = 3;  // the held-back sends must not count as ignoring the limit
  InProcessServer server(config);
  InProcessClient alice(server, "alice");
  alice.join("lobby");
  for (int i = 1; i <= 5; ++i) alice.send(send_frame(i));  // all in flight at once
  EXPECT_EQ(str(alice.next("ack"), "ref"), "s1");
  std::vector<Json> refused = alice.all("error");
  ASSERT_EQ(refused.size(), 4u);
  EXPECT_EQ(refused[0]["retryAfterMs"].GetInt64(), 500);
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(str(refused[static_cast<std::size_t>(i)], "code"), "rate_limited");
    EXPECT_NE(str(refused[static_cast<std::size_t>(i)], "message").find("order"), std::string::npos);
  }

  server.advance(500);  // s2's token is due: s3 still may not overtake it
  EXPECT_EQ(str(alice.request(send_frame(3), "s3"), "code"), "rate_limited");
  EXPECT_EQ(str(alice.request(send_frame(2), "s2"), "type"), "ack");
  for (int i = 3; i <= 5; ++i) {
    server.advance(500);  // paced to the advertised interval, as the client core does
    EXPECT_EQ(str(alice.request(send_frame(i), "s" + std::to_string(i)), "type"), "ack") << i;
  }
  EXPECT_FALSE(alice.peer().closed_with) << "held-back sends are not abuse";
  InProcessClient bob(server, "bob");
  EXPECT_EQ(contents(bob.join("lobby")), (std::vector<std::string>{"m1", "m2", "m3", "m4", "m5"}));
}

TEST(Session, AHeldSendThatNeverComesBackReleasesTheOthersAfterTenSeconds) {
  server::Config config;
  config.rates[server::RateClass::messages] = {2, 1};
  InProcessServer server(config);
  InProcessClient alice(server, "alice");
  alice.join("lobby");
  alice.send(send_frame(1));
  alice.send(send_frame(2));  // refused, and never sent again
  server.advance(500 + 9'999);
  EXPECT_EQ(str(alice.request(send_frame(3), "s3"), "code"), "rate_limited");
  server.advance(1);
  EXPECT_EQ(str(alice.request(send_frame(3), "s3"), "type"), "ack");
}

TEST(Session, AClientThatKeepsIgnoringTheLimitIsClosedWith1008) {
  server::Config config;
  config.rates[server::RateClass::other] = {1, 1};
  config.abuse_limit = 5;
  InProcessServer server(config);
  InProcessClient alice(server, "alice");
  for (int i = 0; i < 5; ++i) alice.send(R"({"type":"ping","ref":"p"})");
  EXPECT_FALSE(alice.peer().closed_with) << "four refusals are under the limit";
  alice.send(R"({"type":"ping","ref":"p"})");
  EXPECT_EQ(alice.peer().closed_with, 1008);

  // Refusals spread over more than 10 s are not abuse.
  InProcessClient bob(server, "bob");
  for (int i = 0; i < 20; ++i) {
    bob.send(R"({"type":"ping","ref":"p"})");
    bob.send(R"({"type":"ping","ref":"p"})");  // refused: one a second
    server.advance(3'000);
  }
  EXPECT_FALSE(bob.peer().closed_with);
}

TEST(Session, TheUsersBudgetIsSharedByTheirConnections) {
  server::Config config;
  config.user_rates[server::RateClass::messages] = {1, 2};
  InProcessServer server(config);
  InProcessClient phone(server, "alice");
  InProcessClient laptop(server, "alice");
  phone.join("lobby");
  laptop.join("lobby");
  EXPECT_EQ(str(phone.send_text("lobby", cmid("u", 1), "one"), "type"), "ack");
  EXPECT_EQ(str(laptop.send_text("lobby", cmid("u", 2), "two"), "type"), "ack");
  Json third = phone.send_text("lobby", cmid("u", 3), "three");
  EXPECT_EQ(str(third, "code"), "rate_limited");
  EXPECT_EQ(third["retryAfterMs"].GetInt64(), 1000);
}

TEST(Session, AUserAtTheConnectionLimitIsRefusedUntilOneCloses) {
  server::Config config;
  config.max_connections_per_user = 2;
  InProcessServer server(config);
  auto one = std::make_unique<InProcessClient>(server, "alice");
  InProcessClient two(server, "alice");
  InProcessClient three(server, "alice", false);
  Json refused =
      three.request(R"({"type":"hello","ref":"h","v":1,"token":")" + token_for("alice", "alice") + "\"}", "h");
  EXPECT_EQ(str(refused, "code"), "forbidden");
  EXPECT_EQ(three.peer().closed_with, 1013);
  one.reset();
  InProcessClient four(server, "alice");  // welcomed (checked by the constructor)
  EXPECT_EQ(server.tenant().users().users(), 1u);
}

TEST(Session, PresenceTurnsIdleAndOfflineExactlyAtTheConfiguredTimes) {
  server::Config config;
  config.idle_after_ms = 600;
  config.offline_grace_ms = 300;
  InProcessServer server(config);
  InProcessClient bob(server, "bob");
  bob.join("lobby");
  auto alice = std::make_unique<InProcessClient>(server, "alice");
  alice->join("lobby");
  auto status_of_alice = [&]() -> std::string {
    for (const Json& p : bob.all("presence")) {
      for (const auto& m : p["members"].GetArray()) {
        if (str(m, "userId") == "alice") return str(m, "status");
      }
    }
    return "";
  };
  EXPECT_EQ(status_of_alice(), "online");
  server.advance(599);
  server.tick();
  EXPECT_EQ(status_of_alice(), "") << "not idle before --idle-after-ms";
  server.advance(1);
  server.tick();
  EXPECT_EQ(status_of_alice(), "idle");
  alice->send_text("lobby", cmid("a", 1), "back");
  EXPECT_EQ(status_of_alice(), "online") << "activity ends idle at once";

  std::int64_t closed_at = server.now();
  alice.reset();  // her only connection
  server.advance(299);
  server.tick();
  EXPECT_EQ(status_of_alice(), "") << "not offline within the grace";
  server.advance(1);
  server.tick();
  std::vector<Json> changes = bob.all("presence");
  ASSERT_EQ(changes.size(), 1u);
  const auto& m = changes[0]["members"][0];
  EXPECT_EQ(str(m, "status"), "offline");
  EXPECT_EQ(m["lastSeen"].GetInt64(), closed_at) << "lastSeen is when her connection went";

  Json joined = bob.join("lobby");  // and the snapshot says the same
  for (const auto& member : joined["members"].GetArray()) {
    if (str(member, "userId") != "alice") continue;
    EXPECT_EQ(str(member, "status"), "offline");
    EXPECT_EQ(member["lastSeen"].GetInt64(), closed_at);
  }
}

TEST(Session, AQuickReconnectWithinTheGraceNeverShowsOffline) {
  server::Config config;
  config.offline_grace_ms = 5'000;
  InProcessServer server(config);
  InProcessClient bob(server, "bob");
  bob.join("lobby");
  {
    InProcessClient alice(server, "alice");
    alice.join("lobby");
  }
  server.advance(4'000);
  server.tick();
  InProcessClient again(server, "alice");
  again.join("lobby");
  server.advance(10'000);
  server.tick();
  for (const Json& p : bob.all("presence")) {
    for (const auto& m : p["members"].GetArray()) EXPECT_NE(str(m, "status"), "offline");
  }
}

TEST(Session, TypingIsRelayedOnceAThirdOfItsTtlAndStopsWithASendOrALeave) {
  server::Config config;
  config.typing_ttl_ms = 1'500;
  config.rates[server::RateClass::typing] = {100, 100};  // the typist below refreshes ten times a second
  InProcessServer server(config);
  InProcessClient alice(server, "alice");
  InProcessClient bob(server, "bob");
  alice.join("lobby");
  bob.join("lobby");
  const std::string typing = R"({"type":"typing","roomId":"lobby","active":true})";
  alice.send(typing);
  Json relayed = bob.next("typing");
  EXPECT_EQ(str(relayed, "userId"), "alice");
  EXPECT_EQ(relayed["ttlMs"].GetInt64(), 1'500);
  EXPECT_TRUE(alice.all("typing").empty()) << "not echoed to the typist";
  server.advance(499);  // within the first third: a refresh adds nothing
  alice.send(typing);
  EXPECT_TRUE(bob.all("typing").empty());
  server.advance(1);  // a third of the TTL since the room was told: told again, so its indicator lives on
  alice.send(typing);
  EXPECT_TRUE(bob.next("typing")["active"].GetBool());
  // A typist refreshing every 100 ms is relayed every third of the TTL, no
  // more and no less: the indicator never lapses while they type.
  for (int i = 0; i < 20; ++i) {
    server.advance(100);
    alice.send(typing);
  }
  EXPECT_EQ(bob.all("typing").size(), 4u);

  alice.send_text("lobby", cmid("t", 1), "done typing");
  EXPECT_FALSE(bob.next("typing")["active"].GetBool()) << "a send stops it";
  alice.send(typing);
  EXPECT_TRUE(bob.next("typing")["active"].GetBool());
  EXPECT_EQ(str(alice.request(R"({"type":"leave","ref":"l","roomId":"lobby"})", "l"), "type"), "ack");
  EXPECT_FALSE(bob.next("typing")["active"].GetBool()) << "leaving stops it";

  // An indicator nobody stops expires with its TTL; receivers expire it
  // themselves, so the hub only forgets it (and the room can be evicted).
  InProcessClient carol(server, "carol");
  carol.join("other");
  carol.send(R"({"type":"typing","roomId":"other","active":true})");
  carol.disconnect();
  server.advance(5'000 + 1'500);
  server.tick();
  EXPECT_EQ(server.tenant().hub().rooms_loaded(), 1u) << "the lobby (bob); the other room is settled and evicted";
}

TEST(Session, TheTokensExpiryIsKnownAndAuthMovesIt) {
  InProcessServer server;
  InProcessClient alice(server, "alice", false);
  alice.send(R"({"type":"hello","ref":"h","v":1,"token":")" + token_for("alice", "alice", ParleydProcess::kSecret, 60) +
             "\"}");
  ASSERT_TRUE(alice.next("welcome").IsObject());
  auto first = alice.session().expires_at();
  ASSERT_TRUE(first);
  EXPECT_NEAR(static_cast<double>(*first), static_cast<double>(server.now() + 60'000), 2'000);
  Json refreshed = alice.request(
      R"({"type":"auth","ref":"a","token":")" + token_for("alice", "alice", ParleydProcess::kSecret, 3600) + "\"}",
      "a");
  EXPECT_EQ(str(refreshed, "type"), "ack");
  EXPECT_GT(*alice.session().expires_at(), *first + 3'000'000);
  alice.session().expire(server.now() + 3'600'000'000);
  EXPECT_EQ(str(alice.next("error"), "code"), "unauthorized");
  EXPECT_EQ(alice.peer().closed_with, 4001);
}

TEST(Session, TwoNodesOnOneStoreGiveOneGapFreeOrder) {
  // Two parleyd on one database: each keeps its own view of the room's head,
  // and a send that finds its seq taken by the other node takes the next.
  InProcessServer a;
  InProcessServer b(server::Config{}, a.storage);
  InProcessClient alice(a, "alice");
  InProcessClient bob(b, "bob");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(bob.join("lobby"), "type"), "joined");
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 10; ++i) {
    InProcessClient& who = i % 2 == 0 ? alice : bob;
    Json ack =
        who.send_text("lobby", "c_message_" + std::to_string(i), "m" + std::to_string(i), "s" + std::to_string(i));
    ASSERT_EQ(str(ack, "type"), "ack") << i << ": " << str(ack, "message");
    seqs.push_back(ack["message"]["seq"].GetInt64());
  }
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  auto stored = a.storage->messages_after("lobby", 0, 100).value();
  ASSERT_EQ(stored.size(), 10u);
  for (std::size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].content, "m" + std::to_string(i));
}

}  // namespace
}  // namespace parley::test
