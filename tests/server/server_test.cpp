// parleyd through real sockets: the real binary, started per test on a real
// SQLite file in a fresh folder (ParleydProcess), unless a test asks for the
// in-memory store.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <thread>

#include "clock.hpp"
#include "parley/protocol/codec.hpp"
#include "support/parleyd_process.hpp"
#include "support/test_client.hpp"
#include "support/ws_client.hpp"

namespace parley::test {
namespace {

// ---------------------------------------------------------------- basics

TEST(Server, HealthzAndMetricsAnswer) {
  ParleydProcess server;
  EXPECT_EQ(http_get(server.port(), "/healthz"), "200 {\"status\":\"ok\"}\n");
  EXPECT_EQ(http_get(server.port(), "/nope").substr(0, 3), "404");
  std::string metrics = http_get(server.port(), "/metrics");
  EXPECT_EQ(metrics.substr(0, 3), "200");
  EXPECT_EQ(metric(metrics.substr(4), "parley_connections"), 0);
}

TEST(Server, WelcomesAClientWithAValidToken) {
  ParleydProcess server;
  WsClient client(server.port());
  EXPECT_EQ(client.negotiated_subprotocol(), "parley.v1.json");
  client.send(R"({"type":"hello","ref":"1","v":1,"token":")" + token_for("alice", "Alice") + "\"}");
  Json welcome = parse_json(*client.receive());
  EXPECT_EQ(str(welcome, "type"), "welcome");
  EXPECT_EQ(str(welcome, "ref"), "1");
  EXPECT_EQ(str(welcome["user"], "name"), "Alice");
  // The defaults: 10 sends/s, burst 20 per connection (20/40 per user).
  EXPECT_EQ(welcome["limits"]["sendIntervalMs"].GetInt64(), 100);
  EXPECT_EQ(welcome["limits"]["sendBurst"].GetInt64(), 20);
}

struct BadToken {
  const char* name;
  std::string token;
  const char* message;
};

TEST(Server, RefusesBadTokensWithAClearErrorAnd4001) {
  ParleydProcess server;
  std::int64_t now = std::time(nullptr);
  std::vector<BadToken> cases = {
      {"wrong secret", token_for("mallory", "Mallory", "not-the-secret"), "invalid token: bad signature"},
      {"expired", token_for("alice", "Alice", ParleydProcess::kSecret, -10), "invalid token: expired"},
      {"alg none", unsigned_token(R"({"sub":"alice","exp":)" + std::to_string(now + 60) + "}"),
       "invalid token: alg must be HS256"},
      {"not yet valid",
       token_with_claims(R"({"sub":"alice","exp":)" + std::to_string(now + 600) + R"(,"nbf":)" +
                         std::to_string(now + 300) + "}"),
       "invalid token: not valid yet (nbf)"},
      {"no exp", token_with_claims(R"({"sub":"alice"})"), "invalid token: exp is required"},
      {"garbage", "not-a-jwt", "invalid token: not a JWT (expected header.payload.signature)"},
  };
  for (const auto& c : cases) {
    TestClient client(server.port(), "x", "-");
    client.send(R"({"type":"hello","ref":"1","v":1,"token":")" + c.token + "\"}");
    Json error = client.next("error");
    EXPECT_EQ(str(error, "code"), "unauthorized") << c.name;
    EXPECT_EQ(str(error, "message"), c.message) << c.name;
    EXPECT_EQ(client.wait_closed(), 4001) << c.name;
  }
}

TEST(Server, RequiresHelloFirstAndWithinTheHandshakeTimeout) {
  ParleydProcess server({"--handshake-timeout-ms", "300"});
  TestClient early(server.port(), "x", "-");
  early.send(R"({"type":"join","ref":"j","roomId":"lobby"})");
  EXPECT_EQ(str(early.next("error"), "code"), "unauthorized");
  EXPECT_EQ(early.wait_closed(), 4001);

  TestClient silent(server.port(), "x", "-");
  EXPECT_EQ(silent.wait_closed(std::chrono::seconds(3)), 4002);
}

TEST(Server, BroadcastsWithTheServerSetSenderAndAcksOnce) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  TestClient bob(server.port(), "bob");
  alice.join("lobby");
  bob.join("lobby");

  Json ack = alice.send_text("lobby", "c_alice0001", "hello bob");
  EXPECT_EQ(str(ack, "type"), "ack");
  Json at_bob = bob.next("message");
  ASSERT_TRUE(at_bob.IsObject());
  EXPECT_EQ(str(at_bob["message"], "content"), "hello bob");
  EXPECT_EQ(str(at_bob["message"], "senderId"), "alice");
  EXPECT_EQ(seq_of(at_bob), 1);
  EXPECT_EQ(str(ack["message"], "id"), str(at_bob["message"], "id"));
  EXPECT_EQ(alice.drain("message").size(), 1u) << "the sender's own echo, once";
  EXPECT_EQ(alice.drain("ack").size(), 0u);
}

// A send that names its sender: refused, whoever checks the frame.
void expect_forged_sender_refused(TestClient& client) {
  Json forged = client.request(R"({"type":"send","ref":"f","roomId":"lobby","clientMsgId":"c_12345678",)"
                               R"("senderId":"bob","message":{"type":"text","content":"x"}})",
                               "f");
  EXPECT_EQ(str(forged, "code"), "bad_request");
  EXPECT_EQ(str(forged, "path"), "/senderId");
}

TEST(Server, RefusesAForgedSenderAndBadFramesButKeepsTheConnection) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  expect_forged_sender_refused(alice);
  Json bad = alice.request(R"({"type":"send","ref":"b","roomId":"lobby","clientMsgId":"c_12345678",)"
                           R"("message":{"type":"video","content":"x"}})",
                           "b");
  EXPECT_EQ(str(bad, "path"), "/message/type");
  EXPECT_EQ(str(alice.send_text("lobby", "c_12345678", "fine"), "type"), "ack");
  Json elsewhere = alice.send_text("elsewhere", "c_12345679", "x");
  EXPECT_EQ(str(elsewhere, "code"), "forbidden");
}

// valijson on every frame, on request: the same refusals as the generated
// decoder (the fuzz differential checks that over millions of frames).
TEST(Server, StrictSchemaChecksEveryJsonFrameAndRefusesTheSame) {
  ParleydProcess server({"--strict-schema", "true"});
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  expect_forged_sender_refused(alice);
  EXPECT_EQ(str(alice.send_text("lobby", "c_12345678", "fine"), "type"), "ack");
  try {
    ParleydProcess refused({"--strict-schema", "maybe"});
    ADD_FAILURE() << "parleyd started with --strict-schema maybe";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad value for --strict-schema: maybe"), std::string::npos) << e.what();
  }
}

TEST(Server, RefusesUnknownSubprotocols) {
  ParleydProcess server;
  EXPECT_EQ(upgrade_status(server.port(), "parley.v9.json"), 400);
}

// A whole conversation in parley.v1.bin: hello, join, send and its ack, a
// message from a JSON client delivered as a binary frame, and a malformed
// binary frame answered by a binary error while the connection goes on.
TEST(Server, SpeaksTheBinaryCodecWithBinaryClientsAndJsonToOthers) {
  namespace p = parley::protocol;
  ParleydProcess server;
  WsClient alice(server.port(), "parley.v1.bin");
  ASSERT_EQ(alice.negotiated_subprotocol(), "parley.v1.bin");
  // The next frame of type T, skipping others (presence diffs, receipts).
  auto next = [&alice]<class T>(T) -> std::optional<T> {
    for (int i = 0; i < 20; ++i) {
      auto bytes = alice.receive();
      if (!bytes) return std::nullopt;
      auto decoded = p::decode_server_frame(*bytes, p::Codec::binary);
      EXPECT_TRUE(decoded) << "not a binary frame: " << p::describe(decoded.error());
      if (decoded && std::holds_alternative<T>(decoded.value())) return std::get<T>(decoded.value());
    }
    return std::nullopt;
  };
  auto send = [&alice](const p::c2s::Frame& frame) { alice.send(p::encode(frame, p::Codec::binary)); };

  p::c2s::Hello hello;
  hello.ref = "1";
  hello.token = token_for("alice", "Alice");
  send(hello);
  auto welcome = next(p::s2c::Welcome{});
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->user.id, "alice");

  p::c2s::Join join;
  join.ref = "2";
  join.roomId = "lobby";
  send(join);
  auto joined = next(p::s2c::Joined{});
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->headSeq, 0);

  TestClient bob(server.port(), "bob");  // JSON
  bob.join("lobby");

  p::c2s::Send message;
  message.ref = "3";
  message.roomId = "lobby";
  message.clientMsgId = "c_binary_01";
  message.message.content = "hello in binary";
  send(message);
  auto ack = next(p::s2c::Ack{});
  ASSERT_TRUE(ack && ack->message);
  EXPECT_EQ(ack->ref, "3");
  EXPECT_EQ(ack->message->seq, 1);
  EXPECT_EQ(ack->message->senderId, "alice");
  Json at_bob = bob.next("message");
  EXPECT_EQ(str(at_bob["message"], "content"), "hello in binary");
  EXPECT_EQ(at_bob["message"]["seq"].GetInt64(), 1);

  EXPECT_EQ(str(bob.send_text("lobby", "c_json_0001", "and back in JSON"), "type"), "ack");
  std::optional<p::s2c::MessageEvent> from_bob;
  do from_bob = next(p::s2c::MessageEvent{});
  while (from_bob && from_bob->message.seq == 1);  // her own, if it came after the ack
  ASSERT_TRUE(from_bob);
  EXPECT_EQ(from_bob->message.content, "and back in JSON");
  EXPECT_EQ(from_bob->message.seq, 2);

  std::string bad = p::encode(p::c2s::Frame(join), p::Codec::binary);
  bad[1] = 2;  // protocol version 2
  alice.send(bad);
  auto refused = next(p::s2c::Error{});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, "unsupported_version");

  p::c2s::Ping ping;
  ping.ref = "4";
  send(ping);
  auto pong = next(p::s2c::Pong{});
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->ref, "4");
}

// --------------------------------------------------- ordering and resume

TEST(Server, ReplaysExactlyTheMissedMessagesInOrder) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  for (int i = 1; i <= 2; ++i) alice.send_text("lobby", cmid("a", i), "before " + std::to_string(i));
  std::int64_t seen = 0;
  {
    TestClient bob(server.port(), "bob");
    Json joined = bob.join("lobby");
    seen = joined["headSeq"].GetInt64();
    EXPECT_EQ(seqs(joined["messages"]), range(1, 2));
  }  // bob's connection drops
  for (int i = 3; i <= 8; ++i) alice.send_text("lobby", cmid("a", i), "while away " + std::to_string(i));

  TestClient bob(server.port(), "bob");
  Json joined = bob.join("lobby", seen);
  EXPECT_FALSE(joined.HasMember("reset"));
  EXPECT_EQ(joined["headSeq"].GetInt64(), 8);
  EXPECT_EQ(seqs(joined["messages"]), range(3, 8));
  EXPECT_EQ(str(joined["messages"][0], "content"), "while away 3");
}

TEST(Server, AnswersResetBeyondTheReplayLimit) {
  ParleydProcess server({"--replay-limit", "3"});
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  for (int i = 1; i <= 10; ++i) alice.send_text("lobby", cmid("a", i), "m" + std::to_string(i));
  TestClient bob(server.port(), "bob");
  Json behind = bob.join("lobby", 2);
  EXPECT_TRUE(behind["reset"].GetBool());
  EXPECT_EQ(seqs(behind["messages"]).back(), 10) << "the latest page comes with the reset";
  TestClient carol(server.port(), "carol");
  Json ahead = carol.join("lobby", 99);
  EXPECT_TRUE(ahead["reset"].GetBool()) << "a position the server never had";
  TestClient dave(server.port(), "dave");
  EXPECT_EQ(seqs(dave.join("lobby", 7)["messages"]), range(8, 10));
}

TEST(Server, KeepsItsConfiguredHistoryAndAnswersResetBeyondIt) {
  ParleydProcess server({"--history-limit", "10", "--rate-messages", "100000", "--user-rate-messages", "100000"});
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  for (int i = 1; i <= 130; ++i) ASSERT_EQ(str(alice.send_text("lobby", cmid("h", i), "m"), "type"), "ack");
  // Pruned every 64 messages: after 128, seqs 119..130 remain.
  TestClient bob(server.port(), "bob");
  Json behind = bob.join("lobby", 5);
  EXPECT_TRUE(behind.HasMember("reset")) << "what bob missed is gone";
  EXPECT_EQ(seqs(behind["messages"]), range(119, 130)) << "the latest page instead";
  Json close = bob.join("lobby", 125);
  EXPECT_FALSE(close.HasMember("reset"));
  EXPECT_EQ(seqs(close["messages"]), range(126, 130));
  Json page = bob.request(R"({"type":"history","ref":"h","roomId":"lobby","beforeSeq":125,"limit":100})", "h");
  EXPECT_EQ(seqs(page["messages"]), range(119, 124));
  EXPECT_FALSE(page["hasMore"].GetBool());
}

TEST(Server, ConcurrentSendersAreSeenInOneGapFreeOrder) {
  ParleydProcess server({"--rate-messages", "1000/1000", "--user-rate-messages", "1000/1000"});
  TestClient alice(server.port(), "alice");
  TestClient bob(server.port(), "bob");
  TestClient carol(server.port(), "carol");
  for (auto* c : {&alice, &bob, &carol}) c->join("lobby");
  constexpr int kEach = 50;
  auto blast = [](TestClient* c, const std::string& prefix) {
    for (int i = 0; i < kEach; ++i) {
      c->send(R"({"type":"send","roomId":"lobby","clientMsgId":")" + cmid(prefix, i) +
              R"(","message":{"type":"text","content":"x"}})");
    }
  };
  std::thread a(blast, &alice, "a");
  std::thread b(blast, &bob, "b");
  a.join();
  b.join();
  auto order = [](TestClient& c) {
    std::vector<std::string> ids;
    for (int i = 0; i < 2 * kEach; ++i) {
      Json m = c.next("message");
      if (!m.IsObject()) break;
      ids.push_back(std::to_string(seq_of(m)) + ":" + str(m["message"], "clientMsgId"));
    }
    return ids;
  };
  auto at_carol = order(carol);
  ASSERT_EQ(at_carol.size(), 2u * kEach);
  EXPECT_EQ(order(alice), at_carol);
  EXPECT_EQ(order(bob), at_carol);
  for (int i = 0; i < 2 * kEach; ++i) {
    EXPECT_EQ(at_carol[static_cast<std::size_t>(i)].substr(0, at_carol[static_cast<std::size_t>(i)].find(':')),
              std::to_string(i + 1))
        << "seq has no gap";
  }
}

// --------------------------------------------------------- exactly once

TEST(Server, ASendRetriedAfterALostAckIsStoredOnceAndGetsTheSameAck) {
  TempDir data;
  std::string first_id;
  {
    ParleydProcess server({"--data-dir", data.path()});
    TestClient bob(server.port(), "bob");
    bob.join("lobby");
    {
      TestClient alice(server.port(), "alice");
      alice.join("lobby");
      // The socket dies before alice reads the ack, after the server stored
      // the message (bob has it).
      alice.send(R"({"type":"send","ref":"lost","roomId":"lobby","clientMsgId":"c_retry0001",)"
                 R"("message":{"type":"text","content":"once"}})");
      ASSERT_EQ(bob.next("message")["message"]["seq"].GetInt64(), 1);
    }
    TestClient alice(server.port(), "alice");
    alice.join("lobby");
    Json again = alice.send_text("lobby", "c_retry0001", "once");
    ASSERT_EQ(str(again, "type"), "ack");
    first_id = str(again["message"], "id");
    EXPECT_EQ(seq_of(again), 1);
    EXPECT_TRUE(alice.drain("message").empty()) << "a retried send is not broadcast again";
    EXPECT_TRUE(bob.drain("message").empty()) << "not to bob either";
    server.stop();
  }
  ParleydProcess restarted({"--data-dir", data.path()});
  TestClient alice(restarted.port(), "alice");
  Json joined = alice.join("lobby");
  Json again = alice.send_text("lobby", "c_retry0001", "once");
  EXPECT_EQ(str(again["message"], "id"), first_id) << "dedup survives a restart";
  EXPECT_EQ(seq_of(again), 1);
  EXPECT_EQ(joined["headSeq"].GetInt64(), 1);
}

// ----------------------------------------------------- rooms and members

TEST(Server, PrivateAndDirectRoomsRefuseOutsiders) {
  ParleydProcess server;
  std::int64_t exp = std::time(nullptr) + 600;
  auto with_rooms = [&](const std::string& user) {
    return token_with_claims(R"({"sub":")" + user + R"(","exp":)" + std::to_string(exp) + R"(,"rooms":["secret"]})");
  };
  TestClient alice(server.port(), "alice", with_rooms("alice"));
  alice.next("welcome");
  Json created = alice.join("secret");
  EXPECT_EQ(str(created["room"], "kind"), "private");
  TestClient mallory(server.port(), "mallory");
  Json refused = mallory.join("secret");
  EXPECT_EQ(str(refused, "code"), "forbidden");
  TestClient bob(server.port(), "bob", with_rooms("bob"));
  bob.next("welcome");
  EXPECT_EQ(str(bob.join("secret"), "type"), "joined");

  EXPECT_EQ(str(alice.join("dm:alice:bob")["room"], "kind"), "direct");
  EXPECT_EQ(str(mallory.join("dm:alice:bob"), "code"), "forbidden");
  EXPECT_EQ(str(bob.join("dm:bob:alice"), "code"), "bad_request") << "ids in ascending order";
  Json dm = bob.join("dm:alice:bob");
  EXPECT_EQ(str(dm, "type"), "joined");
  EXPECT_EQ(dm["members"].Size(), 2u);
}

TEST(Server, JoinedCarriesMembersWithPresenceAndReceipts) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  alice.send_text("lobby", "c_alice0001", "one");
  alice.send_text("lobby", "c_alice0002", "two");
  Json read = alice.request(R"({"type":"read","ref":"r","roomId":"lobby","upToSeq":2})", "r");
  EXPECT_EQ(str(read, "type"), "ack");
  TestClient bob(server.port(), "bob");
  Json joined = bob.join("lobby");
  std::set<std::string> online;
  for (const auto& m : joined["members"].GetArray()) {
    if (std::string(m["status"].GetString()) == "online") online.insert(m["userId"].GetString());
    if (std::string(m["userId"].GetString()) == "alice") {
      EXPECT_EQ(m["readSeq"].GetInt64(), 2);
    }
  }
  EXPECT_EQ(online, (std::set<std::string>{"alice", "bob"}));
  bob.request(R"({"type":"read","ref":"r2","roomId":"lobby","upToSeq":1})", "r2");
  Json receipt = alice.next("receipt");
  if (str(receipt, "userId") == "alice") receipt = alice.next("receipt");  // her own, from before
  EXPECT_EQ(str(receipt, "userId"), "bob");
  EXPECT_EQ(str(receipt, "kind"), "read");
  EXPECT_EQ(receipt["upToSeq"].GetInt64(), 1);
  Json beyond = bob.request(R"({"type":"read","ref":"r3","roomId":"lobby","upToSeq":99})", "r3");
  EXPECT_EQ(str(beyond, "path"), "/upToSeq");
}

TEST(Server, TheOwnerCanRemoveAMemberAndMembersCannot) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");  // creates the room: owner
  TestClient bob(server.port(), "bob");
  TestClient mallory(server.port(), "mallory");
  for (auto* c : {&alice, &bob, &mallory}) c->join("lobby");
  Json refused = mallory.request(R"({"type":"kick","ref":"k","roomId":"lobby","userId":"bob"})", "k");
  EXPECT_EQ(str(refused, "code"), "forbidden");
  Json owner = bob.request(R"({"type":"kick","ref":"k","roomId":"lobby","userId":"alice"})", "k");
  EXPECT_EQ(str(owner, "code"), "forbidden");

  Json done = alice.request(R"({"type":"kick","ref":"k","roomId":"lobby","userId":"mallory"})", "k");
  EXPECT_EQ(str(done, "type"), "ack");
  Json removed = mallory.next("removed");
  EXPECT_EQ(str(removed, "roomId"), "lobby");
  EXPECT_EQ(str(removed, "by"), "alice");
  EXPECT_EQ(str(mallory.send_text("lobby", "c_mallory01", "still here?"), "code"), "forbidden");
  alice.send_text("lobby", "c_alice0001", "after the kick");
  EXPECT_TRUE(mallory.drain("message").empty()) << "no longer subscribed";
  EXPECT_EQ(bob.next("message")["message"]["seq"].GetInt64(), 1);

  // A token with role admin may remove members of any room, not the owner.
  TestClient root(server.port(), "root",
                  token_with_claims(R"({"sub":"root","name":"Root","role":"admin","exp":9999999999})"));
  EXPECT_EQ(str(root.next("welcome"), "type"), "welcome");
  root.join("lobby");
  EXPECT_EQ(str(root.request(R"({"type":"kick","ref":"k","roomId":"lobby","userId":"bob"})", "k"), "type"), "ack");
  EXPECT_EQ(str(bob.next("removed"), "by"), "root");
  EXPECT_EQ(str(root.request(R"({"type":"kick","ref":"o","roomId":"lobby","userId":"alice"})", "o"), "code"),
            "forbidden");
}

TEST(Server, HistoryPagesBackwards) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  for (int i = 1; i <= 7; ++i) alice.send_text("lobby", cmid("a", i), "m");
  Json page = alice.request(R"({"type":"history","ref":"h","roomId":"lobby","beforeSeq":6,"limit":3})", "h");
  EXPECT_EQ(seqs(page["messages"]), range(3, 5));
  EXPECT_TRUE(page["hasMore"].GetBool());
  Json first = alice.request(R"({"type":"history","ref":"h2","roomId":"lobby","beforeSeq":3,"limit":3})", "h2");
  EXPECT_EQ(seqs(first["messages"]), range(1, 2));
  EXPECT_FALSE(first["hasMore"].GetBool());
}

// ------------------------------------------------------- limits

// ----------------------------------------------------- presence and typing

// parleyd's own timer drives presence (the exact times, on a fake clock, are
// in session_test).
TEST(Server, PresenceGoesOnlineIdleAndOfflineWithTheConfiguredTimings) {
  ParleydProcess server({"--idle-after-ms", "600", "--offline-grace-ms", "300"});
  TestClient bob(server.port(), "bob");
  bob.join("lobby");
  auto alice = std::make_unique<TestClient>(server.port(), "alice");
  alice->join("lobby");
  std::int64_t last_seen = 0;
  auto status_of_alice = [&](std::chrono::milliseconds timeout) -> std::string {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      Json p = bob.next("presence", timeout);
      if (!p.IsObject()) break;
      for (const auto& m : p["members"].GetArray()) {
        if (std::string(m["userId"].GetString()) == "alice") {
          last_seen = m.HasMember("lastSeen") ? m["lastSeen"].GetInt64() : 0;
          return m["status"].GetString();
        }
      }
    }
    return "";
  };
  EXPECT_EQ(status_of_alice(std::chrono::seconds(2)), "online");
  auto before_idle = std::chrono::steady_clock::now();  // a few ms after her join, her last activity
  EXPECT_EQ(status_of_alice(std::chrono::seconds(3)), "idle");
  auto idle_after = std::chrono::steady_clock::now() - before_idle;
  EXPECT_GE(idle_after, std::chrono::milliseconds(550)) << "not before --idle-after-ms";
  alice->send_text("lobby", "c_alice0001", "back");
  EXPECT_EQ(status_of_alice(std::chrono::seconds(2)), "online");
  std::int64_t closed_wall = server::wall_ms();
  alice.reset();  // closes her only connection
  auto closed_at = std::chrono::steady_clock::now();
  EXPECT_EQ(status_of_alice(std::chrono::seconds(3)), "offline");
  auto offline_after = std::chrono::steady_clock::now() - closed_at;
  EXPECT_GE(offline_after, std::chrono::milliseconds(250)) << "not before the grace";
  EXPECT_GE(last_seen, closed_wall - 50) << "lastSeen is when her connection went";
  EXPECT_LE(last_seen, server::wall_ms());
  Json joined = bob.join("lobby");  // and the snapshot says the same
  for (const auto& m : joined["members"].GetArray()) {
    if (str(m, "userId") == "alice") {
      EXPECT_EQ(str(m, "status"), "offline");
      EXPECT_EQ(m["lastSeen"].GetInt64(), last_seen);
    }
  }
}

TEST(Server, TypingIsRelayedWithItsTtlAndStoppedByASend) {
  ParleydProcess server({"--typing-ttl-ms", "1500"});
  TestClient alice(server.port(), "alice");
  TestClient bob(server.port(), "bob");
  alice.join("lobby");
  bob.join("lobby");
  alice.send(R"({"type":"typing","roomId":"lobby","active":true})");
  Json typing = bob.next("typing");
  EXPECT_EQ(str(typing, "userId"), "alice");
  EXPECT_TRUE(typing["active"].GetBool());
  EXPECT_EQ(typing["ttlMs"].GetInt64(), 1500);
  EXPECT_TRUE(alice.drain("typing").empty()) << "not echoed to the typist";
  alice.send(R"({"type":"typing","roomId":"lobby","active":true})");  // a refresh: not relayed again
  alice.send_text("lobby", "c_alice0001", "done typing");
  Json stopped = bob.next("typing");
  EXPECT_FALSE(stopped["active"].GetBool()) << "the refresh within the first third was not relayed";

  alice.send(R"({"type":"typing","roomId":"lobby","active":true})");
  EXPECT_TRUE(bob.next("typing")["active"].GetBool());
  EXPECT_EQ(str(alice.request(R"({"type":"leave","ref":"l","roomId":"lobby"})", "l"), "type"), "ack");
  EXPECT_FALSE(bob.next("typing")["active"].GetBool()) << "leaving stops it";
}

// --------------------------------------------------------- auth lifetime

TEST(Server, ATokenThatExpiresWithoutRefreshClosesWith4001) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice", token_for("alice", "alice", ParleydProcess::kSecret, 2));
  alice.next("welcome");
  TestClient bob(server.port(), "bob", token_for("bob", "bob", ParleydProcess::kSecret, 2));
  bob.next("welcome");
  Json refreshed = bob.request(R"({"type":"auth","ref":"a","token":")" + token_for("bob", "bob") + "\"}", "a");
  EXPECT_EQ(str(refreshed, "type"), "ack");
  Json wrong_user = bob.request(R"({"type":"auth","ref":"b","token":")" + token_for("carol", "carol") + "\"}", "b");
  EXPECT_EQ(str(wrong_user, "code"), "forbidden");
  EXPECT_EQ(alice.wait_closed(std::chrono::seconds(5)), 4001);
  EXPECT_EQ(str(bob.join("lobby"), "type"), "joined") << "the refreshed connection lives on";
}

// ------------------------------------------------------------ operations

TEST(Server, RestartOnTheSameFolderKeepsHistorySeqAndReceipts) {
  TempDir data;
  {
    ParleydProcess server({"--data-dir", data.path()});
    TestClient alice(server.port(), "alice");
    TestClient bob(server.port(), "bob");
    alice.join("lobby");
    bob.join("lobby");
    for (int i = 1; i <= 3; ++i) alice.send_text("lobby", cmid("a", i), "kept " + std::to_string(i));
    bob.request(R"({"type":"read","ref":"r","roomId":"lobby","upToSeq":2})", "r");
    bob.request(R"({"type":"delivered","ref":"d","roomId":"lobby","upToSeq":3})", "d");
    EXPECT_EQ(server.stop(), 0) << "graceful exit";
  }
  ParleydProcess server({"--data-dir", data.path()});
  TestClient carol(server.port(), "carol");
  Json joined = carol.join("lobby");
  EXPECT_EQ(joined["headSeq"].GetInt64(), 3);
  EXPECT_EQ(seqs(joined["messages"]), range(1, 3));
  EXPECT_EQ(str(joined["messages"][2], "content"), "kept 3");
  bool found_bob = false;
  for (const auto& m : joined["members"].GetArray()) {
    if (std::string(m["userId"].GetString()) != "bob") continue;
    found_bob = true;
    EXPECT_EQ(m["readSeq"].GetInt64(), 2);
    EXPECT_EQ(m["deliveredSeq"].GetInt64(), 3);
  }
  EXPECT_TRUE(found_bob);
  EXPECT_EQ(seq_of(carol.send_text("lobby", "c_carol001", "after restart")), 4);
}

TEST(Server, GracefulShutdownClosesClientsWith1012) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  std::thread stopper([&] { server.stop(); });
  EXPECT_EQ(alice.wait_closed(), 1012);
  stopper.join();
}

TEST(Server, AdminApiNeedsItsTokenAndBroadcastsAnnouncements) {
  ParleydProcess server({"--admin-token", "admin-secret"});
  TestClient alice(server.port(), "alice");
  EXPECT_EQ(http_get(server.port(), "/admin/stats").substr(0, 3), "401");
  std::string stats = http_request(server.port(), "GET", "/admin/stats", "", "admin-secret");
  EXPECT_NE(stats.find("\"connections\":1"), std::string::npos) << stats;
  std::string sent = http_request(server.port(), "POST", "/admin/broadcast",
                                  R"({"text":"Maintenance at 02:00","level":"warning"})", "admin-secret");
  EXPECT_EQ(sent.substr(0, 3), "202");
  Json a = alice.next("announcement");
  EXPECT_EQ(str(a, "text"), "Maintenance at 02:00");
  EXPECT_EQ(str(a, "level"), "warning");
}

TEST(Server, TheAdminApiMakesRoomAdminsWhoMayRemoveMembers) {
  ParleydProcess server({"--admin-token", "admin-secret"});
  TestClient alice(server.port(), "alice");  // the owner
  TestClient bob(server.port(), "bob");
  TestClient carol(server.port(), "carol");
  for (auto* c : {&alice, &bob, &carol}) c->join("lobby");
  auto kick = [](TestClient& by, const std::string& who) {
    return by.request(R"({"type":"kick","ref":"k","roomId":"lobby","userId":")" + who + "\"}", "k");
  };
  auto put_role = [&](const std::string& user, const std::string& body, const std::string& token = "admin-secret") {
    return http_request(server.port(), "PUT", "/admin/rooms/lobby/members/" + user, body, token);
  };
  EXPECT_EQ(str(kick(bob, "carol"), "code"), "forbidden") << "a member may not";

  EXPECT_EQ(put_role("bob", R"({"role":"admin"})", "wrong").substr(0, 3), "401");
  EXPECT_EQ(put_role("bob", R"({"role":"king"})").substr(0, 3), "400");
  EXPECT_EQ(put_role("zed", R"({"role":"admin"})").substr(0, 3), "404") << "not a member";
  EXPECT_EQ(put_role("alice", R"({"role":"member"})").substr(0, 3), "403") << "the owner stays the owner";
  std::string made = put_role("bob", R"({"role":"admin"})");
  EXPECT_EQ(made.substr(0, 3), "200") << made;
  EXPECT_NE(made.find("\"role\":\"admin\""), std::string::npos) << made;

  // Everyone in the room sees bob's new role.
  Json diff;
  do diff = carol.next("presence");
  while (diff.IsObject() && str(diff["members"][0], "userId") != "bob");
  ASSERT_TRUE(diff.IsObject());
  EXPECT_EQ(str(diff["members"][0], "role"), "admin");

  EXPECT_EQ(str(kick(bob, "carol"), "type"), "ack") << "an admin may";
  EXPECT_EQ(str(carol.next("removed"), "by"), "bob");
  EXPECT_EQ(str(kick(bob, "alice"), "code"), "forbidden") << "not the owner, though";
  TestClient dave(server.port(), "dave");
  Json joined = dave.join("lobby");
  for (const auto& m : joined["members"].GetArray()) {
    if (str(m, "userId") == "bob") {
      EXPECT_EQ(str(m, "role"), "admin") << "kept in storage";
    }
  }
}

}  // namespace
}  // namespace parley::test
