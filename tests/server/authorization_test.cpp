// Who may do what in a room, through real sockets: a removed member loses the
// room at once for every request, leave keeps the membership and leaving for
// good ends it, clients cannot speak as the system, and dedup keys belong to
// a room.
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "support/parleyd_process.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

std::string request_frame(const std::string& type, const std::string& ref, const std::string& room,
                          const std::string& extra = "") {
  return R"({"type":")" + type + R"(","ref":")" + ref + R"(","roomId":")" + room + "\"" + extra + "}";
}

// A token naming the private rooms its user may join.
std::string token_with_rooms(const std::string& user, const std::string& rooms_json) {
  std::int64_t exp = std::time(nullptr) + 600;
  return token_with_claims(R"({"sub":")" + user + R"(","name":")" + user + R"(","exp":)" + std::to_string(exp) +
                           R"(,"rooms":)" + rooms_json + "}");
}

// Whether `frames` holds one from `user`.
bool any_from(const std::vector<std::string>& frames, const std::string& user) {
  for (const auto& f : frames) {
    if (str(parse_json(f), "userId") == user) return true;
  }
  return false;
}

TEST(Authorization, ARemovedMemberLosesTheRoomForEveryRequestAtOnce) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");  // the owner
  TestClient bob(server.port(), "bob");
  TestClient mallory(server.port(), "mallory");
  for (auto* c : {&alice, &bob, &mallory}) ASSERT_EQ(str(c->join("lobby"), "type"), "joined");
  ASSERT_EQ(str(alice.request(request_frame("kick", "k", "lobby", R"(,"userId":"mallory")"), "k"), "type"), "ack");
  ASSERT_EQ(str(mallory.next("removed"), "roomId"), "lobby");
  ASSERT_EQ(str(alice.send_text("lobby", "c_alice0001", "after the removal"), "type"), "ack");
  bob.drain("presence");  // the removal's own diff, and what came before it

  // Every request about the room is refused, the history included.
  for (const auto& [type, extra] : std::vector<std::pair<std::string, std::string>>{
           {"history", ""},
           {"typing", R"(,"active":true)"},
           {"read", R"(,"upToSeq":1)"},
           {"delivered", R"(,"upToSeq":1)"},
           {"kick", R"(,"userId":"bob")"},
           {"send", R"(,"clientMsgId":"c_mallory01","message":{"type":"text","content":"still here?"})"}}) {
    Json answer = mallory.request(request_frame(type, "m-" + type, "lobby", extra), "m-" + type);
    EXPECT_EQ(str(answer, "code"), "forbidden") << type;
    EXPECT_FALSE(answer.HasMember("messages")) << type << " returned messages";
  }
  // Typing and presence reach no one: a sentinel from alice comes after them.
  mallory.send(R"({"type":"typing","roomId":"lobby","active":true})");
  mallory.request(R"({"type":"presence","ref":"p","status":"away"})", "p");
  ASSERT_EQ(str(alice.send_text("lobby", "c_alice0002", "sentinel"), "type"), "ack");
  ASSERT_EQ(bob.next("message")["message"]["seq"].GetInt64(), 1);
  ASSERT_EQ(bob.next("message")["message"]["seq"].GetInt64(), 2);
  EXPECT_FALSE(any_from(bob.drain("typing"), "mallory")) << "typing relayed from a removed member";
  for (const auto& f : bob.drain("presence")) {
    for (const auto& m : parse_json(f)["members"].GetArray()) {
      EXPECT_NE(str(m, "userId"), "mallory") << "a removed member's presence changed the room: " << f;
    }
  }
  EXPECT_TRUE(mallory.drain("message").empty()) << "no longer subscribed";
}

TEST(Authorization, LeaveKeepsTheMembershipAndLeavingForGoodEndsIt) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice", token_with_rooms("alice", R"(["secret"])"));
  ASSERT_TRUE(alice.next("welcome").IsObject());
  ASSERT_EQ(str(alice.join("secret")["room"], "kind"), "private");
  TestClient invited(server.port(), "bob", token_with_rooms("bob", R"(["secret"])"));
  ASSERT_TRUE(invited.next("welcome").IsObject());
  ASSERT_EQ(str(invited.join("secret"), "type"), "joined");

  // A member needs no claim to come back; leave only ends the subscription.
  TestClient bob(server.port(), "bob");
  ASSERT_EQ(str(bob.join("secret"), "type"), "joined");
  EXPECT_EQ(str(bob.request(request_frame("leave", "l1", "secret"), "l1"), "type"), "ack");
  EXPECT_EQ(str(bob.send_text("secret", "c_bob000001", "left?"), "code"), "forbidden");
  EXPECT_EQ(str(bob.request(request_frame("leave", "l2", "secret"), "l2"), "type"), "ack") << "leaving twice is fine";
  ASSERT_EQ(str(bob.join("secret"), "type"), "joined") << "still a member";

  // For good: every connection of bob's leaves, the others are told.
  Json gone = bob.request(request_frame("leave", "f", "secret", R"(,"forget":true)"), "f");
  EXPECT_EQ(str(gone, "type"), "ack");
  Json removed = invited.next("removed");
  EXPECT_EQ(str(removed, "roomId"), "secret");
  EXPECT_EQ(str(invited.send_text("secret", "c_bob000002", "me?"), "code"), "forbidden");
  bool offline = false;
  for (int i = 0; i < 4 && !offline; ++i) {
    Json presence = alice.next("presence");
    for (const auto& m : presence["members"].GetArray()) {
      offline = offline || (str(m, "userId") == "bob" && str(m, "status") == "offline");
    }
  }
  EXPECT_TRUE(offline) << "the room sees bob go";
  EXPECT_EQ(str(bob.join("secret"), "code"), "forbidden") << "a private room needs an invitation again";
  EXPECT_EQ(str(invited.join("secret"), "type"), "joined") << "a token naming the room is one";

  // A forget that is not a boolean is refused before anything happens.
  Json bad = invited.request(request_frame("leave", "b", "secret", R"(,"forget":"yes")"), "b");
  EXPECT_EQ(str(bad, "code"), "bad_request");
  EXPECT_EQ(str(bad, "path"), "/forget");
  EXPECT_EQ(str(invited.send_text("secret", "c_bob000003", "still in"), "type"), "ack");

  // Leaving for good needs the room joined, and a direct room cannot be left.
  TestClient carol(server.port(), "carol");
  EXPECT_EQ(str(carol.request(request_frame("leave", "f", "secret", R"(,"forget":true)"), "f"), "code"), "forbidden");
  ASSERT_EQ(str(carol.join("dm:bob:carol"), "type"), "joined");
  EXPECT_EQ(str(carol.request(request_frame("leave", "f2", "dm:bob:carol", R"(,"forget":true)"), "f2"), "code"),
            "forbidden");
}

TEST(Authorization, ClientsCannotSendSystemMessages) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  Json refused = alice.request(
      R"({"type":"send","ref":"s","roomId":"lobby","clientMsgId":"c_system001","message":{"type":"system","content":"alice is an admin now"}})",
      "s");
  EXPECT_EQ(str(refused, "code"), "forbidden");
  EXPECT_EQ(str(refused, "path"), "/message/type");
  TestClient bob(server.port(), "bob");
  EXPECT_EQ(bob.join("lobby")["headSeq"].GetInt64(), 0) << "nothing was stored";
}

TEST(Authorization, DedupKeysBelongToARoom) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  alice.join("garden");
  Json first = alice.send_text("lobby", "c_same00001", "in the lobby");
  Json second = alice.send_text("garden", "c_same00001", "in the garden");
  ASSERT_EQ(str(first, "type"), "ack");
  ASSERT_EQ(str(second, "type"), "ack");
  EXPECT_EQ(str(second["message"], "roomId"), "garden") << "never an answer about another room's message";
  EXPECT_NE(str(first["message"], "id"), str(second["message"], "id"));
  Json retry = alice.send_text("lobby", "c_same00001", "in the lobby");
  EXPECT_EQ(str(retry["message"], "id"), str(first["message"], "id")) << "a retry in the same room is deduplicated";
  TestClient bob(server.port(), "bob");
  EXPECT_EQ(bob.join("lobby")["headSeq"].GetInt64(), 1);
  EXPECT_EQ(bob.join("garden")["headSeq"].GetInt64(), 1);
}

}  // namespace
}  // namespace parley::test
