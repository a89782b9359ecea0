// Several parleyd on one PostgreSQL and one Redis (issue 15), as a user runs
// them: real processes, real sockets. Clients on different nodes share rooms;
// every member on every node sees one gap-free order; Redis restarts and node
// deaths lose nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "bus/redis_connection.hpp"
#include "support/haproxy_process.hpp"
#include "support/message_changes.hpp"
#include "support/parleyd_process.hpp"
#include "support/postgres_cluster.hpp"
#include "support/redis_server.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;

class ClusterTest : public WithPostgresDatabase {
 protected:
  void SetUp() override {
    WithPostgresDatabase::SetUp();
    if (HasFatalFailure()) return;
    try {
      redis_.emplace();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }

  // Publishes raw bytes on the Redis the nodes use, as any client of it could.
  void publish(const std::string& url, const std::string& channel, const std::string& payload) {
    boost::asio::io_context ioc;
    server::redis::Connection c(ioc, server::redis::Address::parse(url), server::redis::Connection::Mode::commands, {});
    c.start();
    std::thread runner([&] { ioc.run(); });
    server::redis::Reply r;
    for (int attempt = 0; attempt < 100; ++attempt) {
      r = c.call({"PUBLISH", channel, payload}, 1s);
      if (!r.is_error()) break;
      std::this_thread::sleep_for(20ms);  // connecting: retried until it answers
    }
    EXPECT_FALSE(r.is_error()) << r.str;
    c.stop();
    ioc.stop();
    runner.join();
  }

  // A node of the cluster; `extra` flags after the common ones.
  std::unique_ptr<ParleydProcess> node(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--storage",
                                     database_->url(),
                                     "--bus",
                                     redis_->url(),
                                     "--admin-token",
                                     "admin-secret",
                                     "--offline-grace-ms",
                                     "300",
                                     "--storage-pool-size",
                                     "2",
                                     "--rate-messages",
                                     "1000/1000",
                                     "--user-rate-messages",
                                     "1000/1000"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<ParleydProcess>(args);
    EXPECT_TRUE(p->wait_for_log("bus up", 10s)) << p->log();
    return p;
  }

  std::optional<RedisServer> redis_;
};

// Frames of `type` until one satisfies `done` (or the time runs out).
std::vector<Json> collect(TestClient& c, const std::string& type, const std::function<bool(const Json&)>& done,
                          std::chrono::milliseconds timeout = 15s) {
  std::vector<Json> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    Json f = c.next(type,
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    if (f.IsNull()) break;
    bool stop = done(f);
    out.push_back(std::move(f));
    if (stop) break;
  }
  return out;
}

// The status of `user` in a presence frame, or "".
std::string status_in(const Json& presence, const std::string& user) {
  for (const auto& m : presence["members"].GetArray()) {
    if (str(m, "userId") == user) return str(m, "status");
  }
  return "";
}

// Waits for a presence frame saying `user` is `status`.
bool sees(TestClient& c, const std::string& user, const std::string& status, std::chrono::milliseconds timeout) {
  auto frames = collect(
      c, "presence", [&](const Json& f) { return status_in(f, user) == status; }, timeout);
  return !frames.empty() && status_in(frames.back(), user) == status;
}

TEST_F(ClusterTest, TwoClientsOnDifferentNodesChatWithTypingPresenceReceiptsKicksAndAnnouncements) {
  auto a = node();
  auto b = node();
  TestClient alice(a->port(), "alice");
  TestClient bob(b->port(), "bob");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  Json joined = bob.join("lobby");
  ASSERT_EQ(str(joined, "type"), "joined") << b->log();
  // bob's node read alice's presence from the bus's store: online at once.
  bool alice_online = false;
  for (const auto& m : joined["members"].GetArray()) {
    if (str(m, "userId") == "alice") alice_online = str(m, "status") == "online";
  }
  EXPECT_TRUE(alice_online);
  EXPECT_TRUE(sees(alice, "bob", "online", 5s)) << "alice is told that bob came, on another node";

  bob.send(R"({"type":"typing","roomId":"lobby","active":true})");
  Json typing = alice.next("typing");
  ASSERT_FALSE(typing.IsNull()) << a->log();
  EXPECT_EQ(str(typing, "userId"), "bob");

  ASSERT_EQ(str(alice.send_text("lobby", cmid("alice", 1), "hi bob"), "type"), "ack");
  Json m = bob.next("message");
  ASSERT_FALSE(m.IsNull()) << b->log();
  EXPECT_EQ(seq_of(m), 1);
  EXPECT_EQ(str(m["message"], "content"), "hi bob");

  bob.send(R"({"type":"read","ref":"r1","roomId":"lobby","upToSeq":1})");
  Json receipt = alice.next("receipt");
  ASSERT_FALSE(receipt.IsNull()) << a->log();
  EXPECT_EQ(str(receipt, "userId"), "bob");
  EXPECT_EQ(receipt["upToSeq"].GetInt64(), 1);

  // An announcement made through node A reaches bob on node B.
  std::string sent =
      http_request(a->port(), "POST", "/admin/broadcast", R"({"text":"maintenance at noon"})", "admin-secret");
  EXPECT_EQ(sent.substr(0, 3), "202") << sent;
  Json announcement = bob.next("announcement");
  ASSERT_FALSE(announcement.IsNull()) << b->log();
  EXPECT_EQ(str(announcement, "text"), "maintenance at noon");

  // The owner on node A removes bob, who is on node B.
  alice.send(R"({"type":"kick","ref":"k1","roomId":"lobby","userId":"bob"})");
  Json removed = bob.next("removed");
  ASSERT_FALSE(removed.IsNull()) << b->log();
  EXPECT_EQ(str(removed, "roomId"), "lobby");
  EXPECT_TRUE(sees(alice, "bob", "offline", 5s));
  // bob no longer hears the room.
  ASSERT_EQ(str(alice.send_text("lobby", cmid("alice", 2), "bob is gone"), "type"), "ack");
  EXPECT_TRUE(bob.next("message", 500ms).IsNull());

  // The cluster shows in the stats of either node.
  std::string stats = http_request(b->port(), "GET", "/admin/stats", "", "admin-secret");
  EXPECT_NE(stats.find("\"cluster\""), std::string::npos) << stats;
  EXPECT_NE(http_get(a->port(), "/healthz").find("\"bus\":\"up\""), std::string::npos);
}

// Issue 16 over the bus: changes are messages with their own seq, so they
// cross nodes in the room's one order, replies carry their quote, and toggles
// from two nodes at once converge to what PostgreSQL holds.
TEST_F(ClusterTest, EditsDeletesReactionsAndRepliesCrossNodesInOneOrder) {
  auto a = node({"--rate-reactions", "1000/1000", "--user-rate-reactions", "1000/1000"});
  auto b = node({"--rate-reactions", "1000/1000", "--user-rate-reactions", "1000/1000"});
  TestClient alice(a->port(), "alice");
  TestClient bob(b->port(), "bob");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(bob.join("lobby"), "type"), "joined");
  std::string first = id_of(alice.send_text("lobby", cmid("alice", 1), "ship on Friday?"));
  Json reply = bob.request(
      send_frame("r", "lobby", cmid("bob", 1), R"({"type":"text","content":"yes","replyTo":")" + first + R"("})"), "r");
  ASSERT_EQ(str(reply, "type"), "ack") << str(reply, "message") << b->log();
  EXPECT_EQ(str(reply["message"]["quote"], "excerpt"), "ship on Friday?") << "node B read the original";
  ASSERT_EQ(str(change(alice, "edit", first, "ship on Monday?", cmid("alice", 2)), "type"), "ack");

  // Both toggle reactions at once, each on their own node.
  int n = 0;
  std::map<std::string, bool> on;
  for (int round = 0; round < 10; ++round) {
    for (auto* c : {&alice, &bob}) {
      bool& mine = on[c->user];
      mine = !mine;
      ++n;
      c->send(send_frame("t" + std::to_string(n), "lobby", cmid("t" + c->user, n),
                         change_draft(mine ? "react" : "unreact", first, "👍")));
    }
  }
  for (int i = 1; i <= n; ++i) {
    ASSERT_EQ(str(((i % 2 == 1) ? alice : bob).answer("t" + std::to_string(i)), "type"), "ack") << i;
  }
  ASSERT_EQ(str(change(bob, "delete", id_of(reply), "", cmid("bob", 2)), "type"), "ack");

  // Every change reached the other node, in the same order on both.
  auto events = [&](TestClient& c) {
    std::vector<std::int64_t> seen;
    Timeline view;
    for (int i = 0; i < n + 4; ++i) {
      Json m = c.next("message");
      if (m.IsNull()) break;
      seen.push_back(seq_of(m));
      apply_event(view, m["message"]);
    }
    return std::make_pair(seen, view);
  };
  auto [alice_seqs, alice_view] = events(alice);
  auto [bob_seqs, bob_view] = events(bob);
  EXPECT_EQ(alice_seqs, range(1, n + 4)) << a->log();
  EXPECT_EQ(bob_seqs, range(1, n + 4)) << b->log();
  Timeline held = stored(alice);
  EXPECT_EQ(alice_view, held);
  EXPECT_EQ(bob_view, held);
  EXPECT_EQ(held[first].content, "ship on Monday?");
  EXPECT_TRUE(held[id_of(reply)].deleted);
  std::set<std::string> reacted;
  for (const auto& [user, value] : on) {
    if (value) reacted.insert(user);
  }
  if (reacted.empty()) {
    EXPECT_TRUE(held[first].reactions.empty());
  } else {
    EXPECT_EQ(held[first].reactions["👍"], reacted);
  }
  EXPECT_EQ(stored(bob), held) << "node B reads the same from PostgreSQL";
}

TEST_F(ClusterTest, ThreeSendersOnThreeNodesGiveEveryMemberOneGapFreeOrder) {
  std::vector<std::unique_ptr<ParleydProcess>> nodes;
  for (int i = 0; i < 3; ++i) nodes.push_back(node());
  constexpr int kEach = 60;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(
        std::make_unique<TestClient>(nodes[static_cast<std::size_t>(i)]->port(), "u" + std::to_string(i)));
    ASSERT_EQ(str(clients.back()->join("race"), "type"), "joined");
  }
  // Each sends without waiting for acks, all at once.
  std::vector<std::thread> senders;
  for (int i = 0; i < 3; ++i) {
    senders.emplace_back([&, i] {
      auto& c = *clients[static_cast<std::size_t>(i)];
      for (int k = 0; k < kEach; ++k) {
        c.send(R"({"type":"send","ref":"s)" + std::to_string(k) + R"(","roomId":"race","clientMsgId":")" +
               cmid(c.user, k) + R"(","message":{"type":"text","content":"m)" + std::to_string(k) + R"("}})");
      }
    });
  }
  for (auto& t : senders) t.join();
  std::vector<std::vector<std::pair<std::int64_t, std::string>>> seen(3);
  for (int i = 0; i < 3; ++i) {
    auto frames = collect(*clients[static_cast<std::size_t>(i)], "message",
                          [&](const Json& f) { return seq_of(f) >= 3 * kEach; });
    for (const auto& f : frames) seen[static_cast<std::size_t>(i)].emplace_back(seq_of(f), str(f["message"], "id"));
  }
  for (int i = 0; i < 3; ++i) {
    std::vector<std::int64_t> order;
    for (const auto& [seq, id] : seen[static_cast<std::size_t>(i)]) order.push_back(seq);
    std::string missing;
    for (auto want : range(1, 3 * kEach)) {
      if (std::find(order.begin(), order.end(), want) == order.end()) missing += " " + std::to_string(want);
    }
    std::string warnings;
    {
      std::istringstream lines(nodes[static_cast<std::size_t>(i)]->log());
      for (std::string line; std::getline(lines, line);) {
        if (line.find("level=warn") != std::string::npos || line.find("level=error") != std::string::npos ||
            line.find("close") != std::string::npos) {
          warnings += line + "\n";
        }
      }
    }
    EXPECT_EQ(order, range(1, 3 * kEach)) << "member " << i << " missing:" << missing << " got " << order.size() << "\n"
                                          << warnings;
  }
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(seen[1], seen[2]);
}

TEST_F(ClusterTest, RedisRestartedMidTrafficLosesNothingAndIsReported) {
  auto a = node();
  auto b = node();
  TestClient alice(a->port(), "alice");
  TestClient bob(b->port(), "bob");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(bob.join("lobby"), "type"), "joined");
  constexpr int kTotal = 90;
  std::size_t from_b = 0;
  for (int i = 1; i <= kTotal; ++i) {
    if (i == 30) {
      redis_->stop();
      EXPECT_TRUE(a->wait_for_log("bus down", 10s)) << a->log();
      EXPECT_NE(http_get(a->port(), "/healthz").find("\"degraded\""), std::string::npos);
      EXPECT_EQ(metric_now(a->port(), "parley_bus_up"), 0);
    }
    if (i == 60) {
      std::size_t from = a->log().size();
      from_b = b->log().size();
      redis_->start();
      EXPECT_TRUE(a->wait_for_log("bus up", 10s, from)) << a->log();
    }
    ASSERT_EQ(str(alice.send_text("lobby", cmid("alice", i), "m" + std::to_string(i)), "type"), "ack");
  }
  auto frames = collect(bob, "message", [&](const Json& f) { return seq_of(f) >= kTotal; });
  std::vector<std::int64_t> order;
  for (const auto& f : frames) order.push_back(seq_of(f));
  EXPECT_EQ(order, range(1, kTotal)) << b->log();
  EXPECT_EQ(metric_when(a->port(), "parley_bus_up", 1), 1);
  EXPECT_GE(metric_now(a->port(), "parley_bus_outages_total"), 1);
  // Node B reconnects on its own backoff, which may end after node A's.
  EXPECT_TRUE(b->wait_for_log("bus up", 10s, from_b)) << b->log();
  EXPECT_NE(http_get(b->port(), "/healthz").find("\"bus\":\"up\""), std::string::npos);
}

TEST_F(ClusterTest, ANodeKilledMidTrafficLosesNothingDuplicatesNothingAndItsUsersGoOffline) {
  auto a = node();
  auto b = node();
  TestClient bob(b->port(), "bob");
  ASSERT_EQ(str(bob.join("lobby"), "type"), "joined");
  auto carol = std::make_unique<TestClient>(a->port(), "carol");
  ASSERT_EQ(str(carol->join("lobby"), "type"), "joined");
  auto alice = std::make_unique<TestClient>(a->port(), "alice");
  ASSERT_EQ(str(alice->join("lobby"), "type"), "joined");
  EXPECT_TRUE(sees(bob, "carol", "online", 5s));

  constexpr int kTotal = 80;
  // alice sends without waiting; node A dies after 40 of them are out.
  for (int i = 1; i <= 40; ++i) {
    alice->send(R"({"type":"send","ref":"s)" + std::to_string(i) + R"(","roomId":"lobby","clientMsgId":")" +
                cmid("alice", i) + R"(","message":{"type":"text","content":"m)" + std::to_string(i) + R"("}})");
  }
  a->kill_hard();
  auto killed_at = std::chrono::steady_clock::now();
  // alice comes back through node B and sends everything again: what node A
  // stored is answered with the original, the rest is stored now.
  alice = std::make_unique<TestClient>(b->port(), "alice");
  ASSERT_EQ(str(alice->join("lobby"), "type"), "joined");
  // carol was only on node A: bob sees her go offline within the bound (the
  // node timeout, 5 s, and a tick).
  EXPECT_TRUE(sees(bob, "carol", "offline", 10s)) << b->log();
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 8s);
  for (int i = 1; i <= kTotal; ++i) {
    ASSERT_EQ(str(alice->send_text("lobby", cmid("alice", i), "m" + std::to_string(i)), "type"), "ack");
  }
  auto frames = collect(bob, "message", [&](const Json& f) { return seq_of(f) >= kTotal; });
  std::vector<std::int64_t> order;
  std::set<std::string> ids;
  for (const auto& f : frames) {
    order.push_back(seq_of(f));
    ids.insert(str(f["message"], "clientMsgId"));
  }
  EXPECT_EQ(order, range(1, kTotal)) << b->log();
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kTotal)) << "every message once";
}

TEST_F(ClusterTest, MalformedBusEventsAreRefusedAndTheNodeServesOn) {
  auto a = node();
  TestClient alice(a->port(), "alice");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  for (const std::string& payload :
       {std::string(""), std::string("M"), std::string("M\x00\x05short", 8), std::string(1 << 20, 'F'),
        std::string("P\x00\x01x\x00\x01u\x09", 9), std::string("\xff\xff\xff\xff", 4)}) {
    publish(redis_->url(), "p:r:default/lobby", payload);
    publish(redis_->url(), "p:nodes", payload);
  }
  publish(redis_->url(), "p:r:/", "M");
  publish(redis_->url(), "p:r:default/", "M");
  // A fresh client is served, and the room works.
  TestClient fresh(a->port(), "fresh");
  ASSERT_EQ(str(fresh.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(alice.send_text("lobby", cmid("alice", 1), "still here"), "type"), "ack");
  EXPECT_FALSE(fresh.next("message").IsNull());
  EXPECT_TRUE(a->running());
}

TEST_F(ClusterTest, ANodeStartsWithoutRedisAndJoinsWhenItComes) {
  redis_->stop();
  auto a =
      std::make_unique<ParleydProcess>(std::vector<std::string>{"--storage", database_->url(), "--bus", redis_->url()});
  EXPECT_NE(http_get(a->port(), "/healthz").find("\"degraded\""), std::string::npos);
  TestClient alice(a->port(), "alice");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(alice.send_text("lobby", cmid("alice", 1), "alone for now"), "type"), "ack");
  redis_->start();
  EXPECT_TRUE(a->wait_for_log("bus up", 10s)) << a->log();
  EXPECT_NE(http_get(a->port(), "/healthz").find("\"bus\":\"up\""), std::string::npos);
}

TEST_F(ClusterTest, PostgresDownAnswersInternalWithARetryAndTheResendIsStoredOnce) {
  auto a = node();
  auto b = node();
  TestClient alice(a->port(), "alice");
  TestClient bob(b->port(), "bob");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(bob.join("lobby"), "type"), "joined");
  PostgresCluster::instance().stop();
  Json refused = alice.send_text("lobby", cmid("alice", 1), "while the database is down");
  PostgresCluster::instance().start();
  ASSERT_EQ(str(refused, "type"), "error") << a->log();
  EXPECT_EQ(str(refused, "code"), "internal");
  EXPECT_GT(refused["retryAfterMs"].GetInt64(), 0);
  // The client sends it again, as its queue does: stored once, delivered once.
  Json ack;
  for (int attempt = 0; attempt < 50 && str(ack, "type") != "ack"; ++attempt) {
    ack = alice.send_text("lobby", cmid("alice", 1), "while the database is down");
    if (str(ack, "type") != "ack") std::this_thread::sleep_for(100ms);  // the pool reconnects
  }
  ASSERT_EQ(str(ack, "type"), "ack") << a->log();
  Json m = bob.next("message");
  ASSERT_FALSE(m.IsNull()) << b->log();
  EXPECT_EQ(seq_of(m), 1);
  EXPECT_TRUE(bob.next("message", 300ms).IsNull());
}

TEST_F(ClusterTest, SigtermClosesWith1012AndTheClientIsServedByAnotherNode) {
  auto a = node();
  auto b = node();
  TestClient bob(b->port(), "bob");
  ASSERT_EQ(str(bob.join("lobby"), "type"), "joined");
  {
    TestClient alice(a->port(), "alice");
    ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
    ASSERT_EQ(str(alice.send_text("lobby", cmid("alice", 1), "before"), "type"), "ack");
    std::thread stopping([&] { a->stop(); });
    EXPECT_EQ(alice.wait_closed(), 1012);
    stopping.join();
  }
  TestClient alice(b->port(), "alice");
  Json joined = alice.join("lobby", 1);
  ASSERT_EQ(str(joined, "type"), "joined");
  ASSERT_EQ(str(alice.send_text("lobby", cmid("alice", 2), "after"), "type"), "ack");
  auto frames = collect(bob, "message", [](const Json& f) { return seq_of(f) >= 2; });
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(seq_of(frames[1]), 2);
}

TEST_F(ClusterTest, PerUserConnectionAndRateLimitsHoldOverNodes) {
  std::vector<std::string> limits = {"--max-connections-per-user", "2", "--user-rate-messages", "1/3"};
  auto a = node(limits);
  auto b = node(limits);
  TestClient one(a->port(), "alice");
  TestClient two(b->port(), "alice");
  // Each node holds one of alice's connections: the third is refused on either.
  TestClient three(a->port(), "alice", token_for("alice", "alice"));
  EXPECT_EQ(str(three.next("error"), "code"), "forbidden");
  EXPECT_EQ(three.wait_closed(), 1013);
  // One bucket of 3 for alice over both nodes (each node alone would allow 3).
  ASSERT_EQ(str(one.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(two.join("lobby"), "type"), "joined");
  EXPECT_EQ(str(one.send_text("lobby", cmid("one", 1), "1"), "type"), "ack");
  EXPECT_EQ(str(one.send_text("lobby", cmid("one", 2), "2"), "type"), "ack");
  EXPECT_EQ(str(two.send_text("lobby", cmid("two", 1), "3"), "type"), "ack");
  Json refused = two.send_text("lobby", cmid("two", 2), "4");
  EXPECT_EQ(str(refused, "code"), "rate_limited") << b->log();
}

// The default tenant's connections on a node (sessions that said hello).
int sessions_on(const ParleydProcess& node) {
  std::string stats = http_request(node.port(), "GET", "/admin/stats", "", "admin-secret");
  const std::string key = "\"default\":{\"connections\":";
  auto at = stats.find(key);
  return at == std::string::npos ? 0 : std::stoi(stats.substr(at + key.size()));
}

TEST_F(ClusterTest, ThroughHaproxyClientsSpreadOverNodesAndComeBackWhenTheirNodeDies) {
  std::vector<std::unique_ptr<ParleydProcess>> nodes;
  for (int i = 0; i < 3; ++i) nodes.push_back(node());
  std::unique_ptr<HaproxyProcess> lb;
  try {
    lb = std::make_unique<HaproxyProcess>(
        std::vector<std::uint16_t>{nodes[0]->port(), nodes[1]->port(), nodes[2]->port()});
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  // Six clients through the balancer; which node each landed on, from the
  // nodes' counts (round robin, no stickiness: every node gets some).
  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::size_t> on(6);
  for (std::size_t i = 0; i < 6; ++i) {
    std::vector<int> before;
    for (auto& n : nodes) before.push_back(sessions_on(*n));
    clients.push_back(std::make_unique<TestClient>(lb->port(), "u" + std::to_string(i)));
    ASSERT_EQ(str(clients.back()->join("lobby"), "type"), "joined");
    for (std::size_t n = 0; n < 3; ++n) {
      if (sessions_on(*nodes[n]) > before[n]) on[i] = n;
    }
  }
  std::set<std::size_t> used(on.begin(), on.end());
  ASSERT_EQ(used.size(), 3u) << "round robin spreads the clients";
  for (std::size_t i = 0; i < 6; ++i) {
    ASSERT_EQ(str(clients[i]->send_text("lobby", cmid("before", static_cast<int>(i)), "before"), "type"), "ack");
  }
  for (auto& c : clients) {
    auto frames = collect(*c, "message", [](const Json& f) { return seq_of(f) >= 6; });
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(seq_of(frames.back()), 6);
  }

  // Node 0 dies; its clients come back through the balancer, on another node.
  nodes[0]->kill_hard();
  for (std::size_t i = 0; i < 6; ++i) {
    if (on[i] != 0) continue;
    clients[i] = std::make_unique<TestClient>(lb->port(), "u" + std::to_string(i));
    Json joined = clients[i]->join("lobby", 6);
    ASSERT_EQ(str(joined, "type"), "joined");
    EXPECT_EQ(joined["headSeq"].GetInt64(), 6);
  }
  for (std::size_t i = 0; i < 6; ++i) {
    ASSERT_EQ(str(clients[i]->send_text("lobby", cmid("after", static_cast<int>(i)), "after"), "type"), "ack");
  }
  std::vector<std::vector<std::string>> seen;
  for (auto& c : clients) {
    std::vector<std::string> ids;
    std::vector<std::int64_t> order;
    for (const auto& f : collect(*c, "message", [](const Json& m) { return seq_of(m) >= 12; })) {
      if (seq_of(f) <= 6) continue;  // the survivors' own frames of before
      order.push_back(seq_of(f));
      ids.push_back(str(f["message"], "id"));
    }
    EXPECT_EQ(order, range(7, 12));
    seen.push_back(ids);
  }
  for (const auto& ids : seen) EXPECT_EQ(ids, seen[0]) << "one order for everyone";
}

}  // namespace
}  // namespace parley::test
