// Tenants through real sockets: two apps on one parleyd share nothing. The
// same room id is two rooms, a user of one tenant cannot join, read, post to,
// type in or see the presence of the other's, whatever it sends, and nothing
// a client receives names the other tenant. Per-tenant limits refuse the
// connection, the send or the room past them, the admin API changes them at
// run time, and /metrics shows each tenant.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "support/parleyd_process.hpp"
#include "support/raw_ws.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

std::string claims(const std::string& user, const std::string& extra) {
  std::int64_t exp = std::time(nullptr) + 600;
  return R"({"sub":")" + user + R"(","name":")" + user + R"(","exp":)" + std::to_string(exp) + extra + "}";
}

// A client of `tenant` (empty: no claim), welcomed.
std::unique_ptr<TestClient> client_of(std::uint16_t port, const std::string& user, const std::string& tenant,
                                      const std::string& extra = "") {
  std::string t = tenant.empty() ? "" : R"(,"tenant":")" + tenant + "\"";
  auto c = std::make_unique<TestClient>(port, user, token_with_claims(claims(user, t + extra)));
  EXPECT_TRUE(c->next("welcome").IsObject()) << user << "@" << tenant << " was not welcomed";
  return c;
}

std::string frame(const std::string& type, const std::string& ref, const std::string& room, const std::string& extra) {
  return R"({"type":")" + type + R"(","ref":")" + ref + R"(","roomId":")" + room + "\"" + extra + "}";
}

// Every frame `c` has received, as text, after a round trip.
std::string everything(TestClient& c) {
  std::string all;
  for (const char* type : {"message", "presence", "typing", "receipt", "joined", "history", "error", "removed"}) {
    for (const auto& f : c.drain(type)) all += f + "\n";
  }
  return all;
}

TEST(Tenants, TheSameRoomIdInTwoTenantsIsTwoRoomsThatShareNothing) {
  ParleydProcess server;
  auto alice = client_of(server.port(), "alice", "acme");
  auto bob = client_of(server.port(), "bob", "acme");
  auto mallory = client_of(server.port(), "mallory", "globex");
  auto dora = client_of(server.port(), "dora", "");  // the default tenant

  Json joined = alice->join("lobby");
  ASSERT_EQ(str(joined, "type"), "joined");
  EXPECT_EQ(str(joined["room"], "id"), "lobby");
  ASSERT_EQ(str(bob->join("lobby"), "type"), "joined");
  ASSERT_EQ(str(alice->send_text("lobby", "c_alice0001", "acme only"), "type"), "ack");
  ASSERT_EQ(seq_of(bob->next("message")), 1);

  // Globex's lobby is its own: empty, with mallory its owner and only member.
  Json theirs = mallory->join("lobby");
  ASSERT_EQ(str(theirs, "type"), "joined");
  EXPECT_EQ(theirs["messages"].Size(), 0u) << "acme's messages replayed to globex";
  ASSERT_EQ(theirs["members"].Size(), 1u);
  EXPECT_EQ(str(theirs["members"][0], "userId"), "mallory");
  EXPECT_EQ(str(theirs["members"][0], "role"), "owner");
  Json sent = mallory->send_text("lobby", "c_mallory01", "globex only");
  ASSERT_EQ(str(sent, "type"), "ack");
  EXPECT_EQ(sent["message"]["seq"].GetInt64(), 1) << "globex's lobby counts its own seqs";

  // The default tenant's lobby is a third room.
  Json plain = dora->join("lobby");
  EXPECT_EQ(plain["messages"].Size(), 0u);
  ASSERT_EQ(plain["members"].Size(), 1u);

  // History, receipts, typing, presence and kicks stay in their tenant.
  Json history = mallory->request(frame("history", "h", "lobby", R"(,"limit":50)"), "h");
  ASSERT_EQ(str(history, "type"), "history");
  ASSERT_EQ(history["messages"].Size(), 1u);
  EXPECT_EQ(str(history["messages"][0], "content"), "globex only");
  mallory->send(R"({"type":"typing","roomId":"lobby","active":true})");
  EXPECT_EQ(str(mallory->request(frame("read", "r", "lobby", R"(,"upToSeq":1)"), "r"), "type"), "ack");
  mallory->request(R"({"type":"presence","ref":"p","status":"away"})", "p");
  Json kick = mallory->request(frame("kick", "k", "lobby", R"(,"userId":"alice")"), "k");
  EXPECT_EQ(str(kick, "code"), "not_found") << "alice is not a member of globex's lobby";
  ASSERT_EQ(str(alice->send_text("lobby", "c_alice0002", "sentinel"), "type"), "ack");
  ASSERT_EQ(seq_of(bob->next("message")), 2);
  std::string seen_by_bob = everything(*bob);
  for (const char* leak : {"mallory", "globex"}) {
    EXPECT_EQ(seen_by_bob.find(leak), std::string::npos) << leak << " reached acme: " << seen_by_bob;
  }
  EXPECT_EQ(str(alice->request(frame("kick", "k2", "lobby", R"(,"userId":"bob")"), "k2"), "type"), "ack");
  std::string seen_by_mallory = everything(*mallory);
  for (const char* leak : {"alice", "bob", "acme", "removed"}) {
    EXPECT_EQ(seen_by_mallory.find(leak), std::string::npos) << leak << " reached globex: " << seen_by_mallory;
  }
}

TEST(Tenants, PrivateAndDirectRoomsOfAnotherTenantCannotBeReached) {
  ParleydProcess server;
  auto alice = client_of(server.port(), "alice", "acme", R"(,"rooms":["board"])");
  ASSERT_EQ(str(alice->join("board")["room"], "kind"), "private");
  ASSERT_EQ(str(alice->send_text("board", "c_alice0001", "acme's plans"), "type"), "ack");
  auto bob = client_of(server.port(), "bob", "acme");
  ASSERT_EQ(str(bob->join("dm:alice:bob"), "type"), "joined");
  ASSERT_EQ(str(bob->send_text("dm:alice:bob", "c_bob000001", "hi alice"), "type"), "ack");

  // Mallory of globex names the same rooms, with a token that lists them:
  // she gets globex's own (new, empty) rooms or a refusal, never acme's.
  auto mallory = client_of(server.port(), "mallory", "globex", R"(,"rooms":["board"])");
  Json board = mallory->join("board");
  ASSERT_EQ(str(board, "type"), "joined");
  EXPECT_EQ(board["messages"].Size(), 0u);
  EXPECT_EQ(str(mallory->join("dm:alice:bob"), "code"), "forbidden") << "not one of the pair";
  // A globex "bob" is another user than acme's bob.
  auto other_bob = client_of(server.port(), "bob", "globex");
  Json dm = other_bob->join("dm:alice:bob");
  ASSERT_EQ(str(dm, "type"), "joined");
  EXPECT_EQ(dm["messages"].Size(), 0u) << "acme's direct messages replayed to globex";
  std::string all = everything(*mallory) + everything(*other_bob);
  EXPECT_EQ(all.find("acme"), std::string::npos) << all;
}

TEST(Tenants, ABadTenantClaimIsRefusedAndATokenCannotSwitchTenants) {
  ParleydProcess server;
  for (const std::string& bad : std::vector<std::string>{
           R"(,"tenant":5)", R"(,"tenant":"")", R"(,"tenant":"Acme")", R"(,"tenant":"acme/lobby")",
           R"(,"tenant":"../default")", R"(,"tenant":"-acme")", R"(,"tenant":null)",
           R"(,"tenant":")" + std::string(65, 'a') + "\"", R"(,"tenant":")" + std::string(2000, 'a') + "\""}) {
    TestClient c(server.port(), "alice", token_with_claims(claims("alice", bad)));
    Json error = c.next("error");
    EXPECT_EQ(str(error, "code"), "unauthorized") << bad.substr(0, 40);
    EXPECT_EQ(c.wait_closed(), 4001) << bad.substr(0, 40);
  }
  auto alice = client_of(server.port(), "alice", "acme");
  std::string other = token_with_claims(claims("alice", R"(,"tenant":"globex")"));
  Json refused = alice->request(R"({"type":"auth","ref":"a","token":")" + other + "\"}", "a");
  EXPECT_EQ(str(refused, "code"), "forbidden");
  std::string plain = token_with_claims(claims("alice", ""));
  EXPECT_EQ(str(alice->request(R"({"type":"auth","ref":"b","token":")" + plain + "\"}", "b"), "code"), "forbidden")
      << "no claim is the default tenant, another one";
  std::string same = token_with_claims(claims("alice", R"(,"tenant":"acme")"));
  EXPECT_EQ(str(alice->request(R"({"type":"auth","ref":"c","token":")" + same + "\"}", "c"), "type"), "ack");
  auto fresh = client_of(server.port(), "carol", "");
  EXPECT_EQ(str(fresh->join("lobby"), "type"), "joined") << "a fresh client is still served";
}

std::string write_limits(const TempDir& dir, const std::string& json) {
  std::string path = dir.path() + "/tenants.json";
  std::ofstream(path) << json;
  return path;
}

TEST(Tenants, LimitsRefuseConnectionsSendsAndRoomsOfOneTenantOnly) {
  TempDir dir;
  ParleydProcess server({"--tenants-file", write_limits(dir, R"({"acme": {"maxConnections": 2, "maxRooms": 1,
                                                                          "messagesPerSecond": 2}})"),
                         "--admin-token", "admin-secret"});
  auto a1 = client_of(server.port(), "alice", "acme");
  auto a2 = client_of(server.port(), "bob", "acme");
  TestClient a3(server.port(), "carol", token_with_claims(claims("carol", R"(,"tenant":"acme")")));
  Json refused = a3.next("error");
  EXPECT_EQ(str(refused, "code"), "forbidden");
  EXPECT_NE(str(refused, "message").find("too many connections for this app"), std::string::npos);
  EXPECT_EQ(a3.wait_closed(), 1013);

  ASSERT_EQ(str(a1->join("one"), "type"), "joined");
  Json second = a1->join("two");
  EXPECT_EQ(str(second, "code"), "forbidden");
  EXPECT_NE(str(second, "message").find("limit is 1 rooms"), std::string::npos) << str(second, "message");
  EXPECT_EQ(str(a2->join("one"), "type"), "joined") << "joining an existing room creates nothing";

  // Two sends a second for the whole tenant, whichever user sends.
  ASSERT_EQ(str(a1->send_text("one", "c_alice0001", "1"), "type"), "ack");
  ASSERT_EQ(str(a2->send_text("one", "c_bob000001", "2"), "type"), "ack");
  Json slow = a1->send_text("one", "c_alice0002", "3");
  EXPECT_EQ(str(slow, "code"), "rate_limited");
  EXPECT_GT(slow["retryAfterMs"].GetInt64(), 0);

  // Another tenant is not held by acme's limits.
  std::vector<std::unique_ptr<TestClient>> globex;
  for (int i = 0; i < 4; ++i) globex.push_back(client_of(server.port(), "u" + std::to_string(i), "globex"));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(str(globex[0]->join("room" + std::to_string(i)), "type"), "joined");

  // The admin API raises acme's limits at once; /metrics shows each tenant.
  std::string put = http_request(server.port(), "PUT", "/admin/tenants/acme", R"({"maxConnections": 3, "maxRooms": 2})",
                                 "admin-secret");
  ASSERT_EQ(put.substr(0, 3), "200") << put;
  EXPECT_NE(put.find(R"("maxConnections":3,"messagesPerSecond":0,"maxRooms":2)"), std::string::npos) << put;
  EXPECT_EQ(str(a1->join("two"), "type"), "joined");
  auto a4 = client_of(server.port(), "dave", "acme");
  std::string metrics = http_get(server.port(), "/metrics");
  EXPECT_EQ(metric(metrics, R"(parley_tenant_connections{tenant="acme"})"), 3);
  EXPECT_EQ(metric(metrics, R"(parley_tenant_connections{tenant="globex"})"), 4);
  EXPECT_EQ(metric(metrics, R"(parley_tenant_rooms{tenant="acme"})"), 2);
  EXPECT_EQ(metric(metrics, R"(parley_tenant_rooms{tenant="globex"})"), 3);
  EXPECT_EQ(metric(metrics, R"(parley_tenant_refused_total{tenant="acme",limit="connections"})"), 1);
  EXPECT_EQ(metric(metrics, R"(parley_tenant_refused_total{tenant="acme",limit="rooms"})"), 1);
  EXPECT_EQ(metric(metrics, R"(parley_tenant_refused_total{tenant="acme",limit="messages"})"), 1);

  // Bad admin requests are refused with the reason.
  for (const auto& [target, body, status] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/admin/tenants/Acme", "{}", "400"},
           {"/admin/tenants/acme", R"({"maxRooms": -2})", "400"},
           {"/admin/tenants/acme", R"({"rooms": 2})", "400"},
           {"/admin/tenants/acme", "not json", "400"},
           {"/admin/tenants/", "{}", "400"},
       }) {
    EXPECT_EQ(http_request(server.port(), "PUT", target, body, "admin-secret").substr(0, 3), status) << target << body;
  }
  EXPECT_EQ(http_request(server.port(), "PUT", "/admin/tenants/acme", "{\"maxRooms\": " + std::string(60000, '9') + "}",
                         "admin-secret")
                .substr(0, 3),
            "400")
      << "an extreme number";
  EXPECT_EQ(http_request(server.port(), "PUT", "/admin/tenants/acme", "{}", "wrong").substr(0, 3), "401");
  EXPECT_FALSE(check_served(server.port())) << "a fresh client is still served";
}

TEST(Tenants, TheAdminApiActsOnOneTenant) {
  ParleydProcess server({"--admin-token", "admin-secret"});
  auto alice = client_of(server.port(), "alice", "acme");
  auto bob = client_of(server.port(), "bob", "acme");
  auto mallory = client_of(server.port(), "mallory", "globex");
  ASSERT_EQ(str(alice->join("lobby"), "type"), "joined");
  ASSERT_EQ(str(bob->join("lobby"), "type"), "joined");
  ASSERT_EQ(str(mallory->join("lobby"), "type"), "joined");

  std::string sent = http_request(server.port(), "POST", "/admin/broadcast?tenant=acme",
                                  R"({"text":"acme maintenance"})", "admin-secret");
  ASSERT_EQ(sent.substr(0, 3), "202") << sent;
  EXPECT_EQ(str(alice->next("announcement"), "text"), "acme maintenance");
  EXPECT_TRUE(mallory->drain("announcement").empty()) << "globex heard acme's announcement";

  std::string role = http_request(server.port(), "PUT", "/admin/rooms/lobby/members/bob?tenant=acme",
                                  R"({"role":"admin"})", "admin-secret");
  EXPECT_EQ(role.substr(0, 3), "200") << role;
  EXPECT_EQ(http_request(server.port(), "PUT", "/admin/rooms/lobby/members/bob?tenant=globex", R"({"role":"admin"})",
                         "admin-secret")
                .substr(0, 3),
            "404")
      << "globex's lobby has no bob";
  EXPECT_EQ(http_request(server.port(), "PUT", "/admin/rooms/lobby/members/bob?tenant=ACME", R"({"role":"admin"})",
                         "admin-secret")
                .substr(0, 3),
            "400");
  std::string stats = http_request(server.port(), "GET", "/admin/stats", "", "admin-secret");
  EXPECT_NE(stats.find(R"("acme":{"connections":2)"), std::string::npos) << stats;
  EXPECT_NE(stats.find(R"("globex":{"connections":1)"), std::string::npos) << stats;
}

}  // namespace
}  // namespace parley::test
