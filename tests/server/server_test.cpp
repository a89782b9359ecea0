// parleyd through real sockets: the real binary, started per test.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "support/parleyd_process.hpp"
#include "support/ws_client.hpp"

namespace parley::test {
namespace {

rapidjson::Document parse(const std::optional<std::string>& frame) {
  rapidjson::Document doc;
  if (!frame) {
    doc.SetNull();
    return doc;
  }
  doc.Parse(frame->c_str());
  return doc;
}

std::string hello(const std::string& token, const std::string& ref = "h") {
  return R"({"type":"hello","ref":")" + ref + R"(","v":1,"token":")" + token + R"("})";
}

// A client that has said hello as `user` and joined `room`.
std::unique_ptr<WsClient> joined_client(std::uint16_t port, const std::string& user, const std::string& name,
                                        const std::string& room = "lobby") {
  auto client = std::make_unique<WsClient>(port);
  client->send(hello(token_for(user, name)));
  auto welcome = parse(client->receive());
  EXPECT_STREQ(welcome["type"].GetString(), "welcome");
  client->send(R"({"type":"join","ref":"j","roomId":")" + room + R"("})");
  auto joined = parse(client->receive());
  EXPECT_STREQ(joined["type"].GetString(), "joined");
  return client;
}

TEST(Server, HealthzAnswersOk) {
  ParleydProcess server;
  EXPECT_EQ(http_get(server.port(), "/healthz"), "200 {\"status\":\"ok\"}\n");
  EXPECT_EQ(http_get(server.port(), "/nope").substr(0, 3), "404");
}

TEST(Server, WelcomesAClientWithAValidToken) {
  ParleydProcess server;
  WsClient client(server.port());
  EXPECT_EQ(client.negotiated_subprotocol(), "parley.v1.json");
  client.send(hello(token_for("alice", "Alice"), "1"));
  auto welcome = parse(client.receive());
  ASSERT_TRUE(welcome.IsObject());
  EXPECT_STREQ(welcome["type"].GetString(), "welcome");
  EXPECT_STREQ(welcome["ref"].GetString(), "1");
  EXPECT_STREQ(welcome["user"]["id"].GetString(), "alice");
  EXPECT_STREQ(welcome["user"]["name"].GetString(), "Alice");
}

TEST(Server, RefusesABadTokenWithAClearErrorAnd4001) {
  ParleydProcess server;
  WsClient client(server.port());
  client.send(hello(token_for("mallory", "Mallory", "not-the-secret"), "1"));
  auto error = parse(client.receive());
  ASSERT_TRUE(error.IsObject());
  EXPECT_STREQ(error["type"].GetString(), "error");
  EXPECT_STREQ(error["ref"].GetString(), "1");
  EXPECT_STREQ(error["code"].GetString(), "unauthorized");
  EXPECT_STREQ(error["message"].GetString(), "invalid token: bad signature");
  EXPECT_FALSE(client.receive());
  ASSERT_TRUE(client.closed());
  EXPECT_EQ(client.closed()->code, 4001);
}

TEST(Server, RefusesAnExpiredToken) {
  ParleydProcess server;
  WsClient client(server.port());
  client.send(hello(token_for("alice", "Alice", ParleydProcess::kSecret, -10)));
  auto error = parse(client.receive());
  EXPECT_STREQ(error["message"].GetString(), "invalid token: expired");
  EXPECT_FALSE(client.receive());
  EXPECT_EQ(client.closed()->code, 4001);
}

TEST(Server, RequiresHelloFirst) {
  ParleydProcess server;
  WsClient client(server.port());
  client.send(R"({"type":"join","ref":"j","roomId":"lobby"})");
  auto error = parse(client.receive());
  EXPECT_STREQ(error["code"].GetString(), "unauthorized");
  EXPECT_FALSE(client.receive());
  EXPECT_EQ(client.closed()->code, 4001);
}

TEST(Server, BroadcastsToRoomMembersWithTheServerSetSender) {
  ParleydProcess server;
  auto alice = joined_client(server.port(), "alice", "Alice");
  auto bob = joined_client(server.port(), "bob", "Bob");

  alice->send(R"({"type":"send","ref":"s1","roomId":"lobby","clientMsgId":"c_alice001",)"
              R"("message":{"type":"text","content":"hello bob"}})");
  auto at_bob = parse(bob->receive());
  ASSERT_TRUE(at_bob.IsObject());
  EXPECT_STREQ(at_bob["type"].GetString(), "message");
  EXPECT_STREQ(at_bob["message"]["content"].GetString(), "hello bob");
  EXPECT_STREQ(at_bob["message"]["senderId"].GetString(), "alice");
  EXPECT_STREQ(at_bob["message"]["senderName"].GetString(), "Alice");
  EXPECT_EQ(at_bob["message"]["seq"].GetInt64(), 1);

  // Alice gets her echo and exactly one ack with the same message.
  auto first = parse(alice->receive());
  auto second = parse(alice->receive());
  const auto& ack = std::string(first["type"].GetString()) == "ack" ? first : second;
  EXPECT_STREQ(ack["type"].GetString(), "ack");
  EXPECT_STREQ(ack["ref"].GetString(), "s1");
  EXPECT_STREQ(ack["message"]["id"].GetString(), at_bob["message"]["id"].GetString());
}

TEST(Server, ARetriedSendGetsTheOriginalAckNotASecondMessage) {
  ParleydProcess server;
  auto alice = joined_client(server.port(), "alice", "Alice");
  const std::string send = R"({"type":"send","ref":"R","roomId":"lobby","clientMsgId":"c_retry0001",)"
                           R"("message":{"type":"text","content":"once"}})";
  alice->send(send);
  parse(alice->receive());  // echo
  auto ack1 = parse(alice->receive());
  alice->send(send);
  auto ack2 = parse(alice->receive());
  EXPECT_STREQ(ack2["type"].GetString(), "ack") << "no second message event before the ack";
  EXPECT_STREQ(ack1["message"]["id"].GetString(), ack2["message"]["id"].GetString());
  EXPECT_EQ(ack2["message"]["seq"].GetInt64(), 1);
}

TEST(Server, ABadFrameGetsAnErrorWithThePathAndTheConnectionGoesOn) {
  ParleydProcess server;
  auto alice = joined_client(server.port(), "alice", "Alice");
  alice->send(R"({"type":"send","ref":"bad","roomId":"lobby","clientMsgId":"c_12345678",)"
              R"("message":{"type":"video","content":"x"}})");
  auto error = parse(alice->receive());
  EXPECT_STREQ(error["code"].GetString(), "bad_request");
  EXPECT_STREQ(error["ref"].GetString(), "bad");
  EXPECT_STREQ(error["path"].GetString(), "/message/type");
  alice->send(R"({"type":"join","ref":"again","roomId":"lobby"})");
  EXPECT_STREQ(parse(alice->receive())["type"].GetString(), "joined");
}

TEST(Server, SendingToARoomNotJoinedIsForbidden) {
  ParleydProcess server;
  auto alice = joined_client(server.port(), "alice", "Alice");
  alice->send(R"({"type":"send","ref":"x","roomId":"elsewhere","clientMsgId":"c_12345678",)"
              R"("message":{"type":"text","content":"x"}})");
  EXPECT_STREQ(parse(alice->receive())["code"].GetString(), "forbidden");
}

TEST(Server, NegotiatesTheBinaryCodecAndRefusesUnknownSubprotocols) {
  ParleydProcess server;
  WsClient binary(server.port(), "parley.v1.bin");
  EXPECT_EQ(binary.negotiated_subprotocol(), "parley.v1.bin");
  EXPECT_EQ(upgrade_status(server.port(), "parley.v9.json"), 400);
}

}  // namespace
}  // namespace parley::test
