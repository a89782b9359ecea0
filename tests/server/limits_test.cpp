// parleyd's limits through real sockets: rates per connection and per user,
// frame and queue sizes, connection counts, timeouts, and the memory they bound.
#include <gtest/gtest.h>

#include <thread>

#include "support/parleyd_process.hpp"
#include "support/test_client.hpp"
#include "support/ws_client.hpp"

namespace parley::test {
namespace {

TEST(Limits, RateLimitsAnswerWithRetryAfterAndLoseNothingAccepted) {
  ParleydProcess server({"--rate-messages", "2/3"});
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  int accepted = 0;
  std::int64_t retry_after = 0;
  for (int i = 0; i < 6; ++i) {
    Json answer = alice.send_text("lobby", cmid("r", i), "burst");
    if (str(answer, "type") == "ack") {
      ++accepted;
    } else {
      EXPECT_EQ(str(answer, "code"), "rate_limited");
      retry_after = answer["retryAfterMs"].GetInt64();
    }
  }
  EXPECT_EQ(accepted, 3) << "the burst";
  EXPECT_GT(retry_after, 0);
  EXPECT_LE(retry_after, 500);
  TestClient bob(server.port(), "bob");
  EXPECT_EQ(bob.join("lobby")["headSeq"].GetInt64(), 3) << "exactly the accepted ones were stored";
  EXPECT_GE(metric(http_get(server.port(), "/metrics").substr(4), "parley_rate_limited_total"), 3);
}

// Sends held back behind a rate-limited one, at exact times: session_test.

TEST(Limits, AClientThatIgnoresRateLimitsIsClosedWith1008) {
  ParleydProcess server({"--rate-other", "1/1", "--abuse-limit", "5"});
  TestClient alice(server.port(), "alice");
  for (int i = 0; i < 10; ++i) alice.send(R"({"type":"ping"})");
  EXPECT_EQ(alice.wait_closed(), 1008);
}

TEST(Limits, AnOversizedFrameIsRefusedAndOthersAreStillServed) {
  ParleydProcess server({"--max-frame-bytes", "2048"});
  TestClient alice(server.port(), "alice");
  TestClient bob(server.port(), "bob");
  alice.join("lobby");
  bob.join("lobby");
  alice.send(std::string(R"({"type":"ping","ref":")") + std::string(3000, 'x') + "\"}");
  EXPECT_EQ(alice.wait_closed(), 1009);
  ASSERT_TRUE(alice.closed());
  EXPECT_EQ(alice.closed()->reason, "message larger than the limit of 2048 bytes");
  EXPECT_EQ(str(bob.send_text("lobby", "c_bob00001", "still here"), "type"), "ack");
}

TEST(Limits, LimitsConnectionsPerUser) {
  ParleydProcess server({"--max-connections-per-user", "2"});
  TestClient one(server.port(), "alice");
  TestClient two(server.port(), "alice");
  TestClient three(server.port(), "alice", token_for("alice", "alice"));
  EXPECT_EQ(str(three.next("error"), "code"), "forbidden");
  EXPECT_EQ(three.wait_closed(), 1013);
}

TEST(Limits, AClientThatStopsReadingIsClosedAndMemoryStaysBounded) {
  ParleydProcess server({"--max-queue-bytes", "262144", "--rate-messages", "100000", "--user-rate-messages", "100000"});
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  TestClient sleepy(server.port(), "sleepy", "", 4096);
  sleepy.join("lobby");  // ... and never reads again
  std::string big(3900, 'z');
  // Enough to fill the kernel's socket buffers and then the queue bound.
  for (int i = 0; i < 4000; ++i) {
    alice.send(R"({"type":"send","roomId":"lobby","clientMsgId":")" + cmid("big", i) +
               R"(","message":{"type":"text","content":")" + big + R"("}})");
    if (i % 50 == 49) alice.drain("message");  // alice keeps reading her echoes
    if (i % 500 == 499) {
      std::string m = http_get(server.port(), "/metrics").substr(4);
      if (metric(m, "parley_slow_consumers_total") >= 1) break;
    }
  }
  std::string m = http_get(server.port(), "/metrics").substr(4);
  EXPECT_GE(metric(m, "parley_slow_consumers_total"), 1);
  EXPECT_LT(metric(m, "parley_queued_bytes"), 262144) << "what was queued for sleepy was dropped";
  // The most any queue ever held: the bound, and never more.
  EXPECT_GT(metric(m, "parley_queue_peak_bytes"), 262144 - 8192) << "the queue did fill up to its bound";
  EXPECT_LE(metric(m, "parley_queue_peak_bytes"), 262144);
  // The 4003 close frame waits behind what the kernel holds; the connection
  // is dropped when the close grace runs out.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (metric(http_get(server.port(), "/metrics").substr(4), "parley_connections") != 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling an eventual state, bounded
  }
  EXPECT_EQ(metric(http_get(server.port(), "/metrics").substr(4), "parley_connections"), 1) << "only alice is left";
  EXPECT_EQ(str(alice.send_text("lobby", "c_after0001", "still served"), "type"), "ack");
}

TEST(Limits, AServerMayKeepMessagesShorterThanTheProtocolAllows) {
  ParleydProcess server({"--max-content-length", "10"});
  WsClient raw(server.port());
  raw.send(R"({"type":"hello","ref":"1","v":1,"token":")" + token_for("alice", "Alice") + "\"}");
  Json welcome = parse_json(*raw.receive());
  EXPECT_EQ(welcome["limits"]["maxContentLength"].GetInt64(), 10) << "advertised";
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  EXPECT_EQ(str(alice.send_text("lobby", cmid("c", 1), "ten chars!"), "type"), "ack");
  Json refused = alice.send_text("lobby", cmid("c", 2), "éléven chars");
  EXPECT_EQ(str(refused, "code"), "too_large");
  EXPECT_EQ(str(refused, "path"), "/message/content");
  EXPECT_EQ(str(alice.send_text("lobby", cmid("c", 3), "ok again"), "type"), "ack");
}

TEST(Limits, PerUserRatesCountEveryConnectionOfTheUser) {
  // Refills slow enough (one token per 10 s) that a slow machine cannot refill them mid-test.
  ParleydProcess server({"--user-rate-other", "0.1/3", "--user-rate-typing", "0.1/1"});
  TestClient a(server.port(), "alice");
  TestClient b(server.port(), "alice");
  auto ping = [](TestClient& c, const std::string& ref) {
    return c.request(R"({"type":"ping","ref":")" + ref + "\"}", ref);
  };
  EXPECT_EQ(str(ping(a, "p1"), "type"), "pong");
  EXPECT_EQ(str(ping(b, "p2"), "type"), "pong");
  EXPECT_EQ(str(ping(a, "p3"), "type"), "pong");
  Json refused = ping(b, "p4");  // b's own bucket is full: the user's is not
  EXPECT_EQ(str(refused, "code"), "rate_limited");
  EXPECT_GT(refused["retryAfterMs"].GetInt64(), 0);
  TestClient carol(server.port(), "carol");
  EXPECT_EQ(str(ping(carol, "p5"), "type"), "pong") << "another user has a budget of her own";

  // Typing has its own budget: dora's first indicator goes through, her
  // second (another connection) is dropped. One after the other: two
  // connections may be served by two workers in either order.
  TestClient d1(server.port(), "dora");
  TestClient d2(server.port(), "dora");
  d1.join("lobby");  // two of her three "other" tokens
  d2.join("lobby");
  EXPECT_EQ(str(d1.request(R"({"type":"typing","roomId":"lobby","active":true,"ref":"t1"})", "t1"), "type"), "ack");
  EXPECT_EQ(str(d2.request(R"({"type":"typing","roomId":"lobby","active":true,"ref":"t2"})", "t2"), "code"),
            "rate_limited");
}

TEST(Limits, AUserRateTighterThanTheConnectionsHoldsForASingleConnection) {
  ParleydProcess server({"--user-rate-other", "0.1/2"});  // the connection's own: 20/40
  TestClient alone(server.port(), "alice");
  auto ping = [&alone](const std::string& ref) {
    return alone.request(R"({"type":"ping","ref":")" + ref + "\"}", ref);
  };
  EXPECT_EQ(str(ping("p1"), "type"), "pong");
  EXPECT_EQ(str(ping("p2"), "type"), "pong");
  EXPECT_EQ(str(ping("p3"), "code"), "rate_limited");
}

TEST(Limits, RoomsNobodyIsInLeaveMemoryAndComeBackFromStorage) {
  ParleydProcess server({"--offline-grace-ms", "200"});
  {
    TestClient alice(server.port(), "alice");
    alice.join("lobby");
    EXPECT_EQ(str(alice.send_text("lobby", cmid("a", 1), "kept"), "type"), "ack");
    TestClient mallory(server.port(), "mallory");
    // Refused joins of rooms that are not hers must not pile up in memory.
    for (int i = 0; i < 30; ++i) {
      EXPECT_EQ(str(mallory.join("dm:alice:zed" + std::to_string(i)), "code"), "forbidden");
    }
    EXPECT_GE(metric_now(server.port(), "parley_rooms"), 1);
  }  // both connections close
  EXPECT_EQ(metric_when(server.port(), "parley_rooms", 0), 0) << "evicted once presence settled";

  TestClient alice(server.port(), "alice");
  Json joined = alice.join("lobby");
  EXPECT_EQ(joined["headSeq"].GetInt64(), 1);
  ASSERT_EQ(joined["messages"].Size(), 1u);
  EXPECT_EQ(str(joined["messages"][0], "content"), "kept");
  EXPECT_EQ(str(alice.send_text("lobby", cmid("a", 2), "next"), "type"), "ack");
  EXPECT_EQ(metric_now(server.port(), "parley_rooms"), 1);
}

TEST(Limits, ConnectionsPerAddressAndInTotal) {
  {
    ParleydProcess server({"--max-connections-per-ip", "2"});
    WsClient one(server.port());
    WsClient two(server.port());
    EXPECT_EQ(upgrade_status(server.port(), "parley.v1.json"), 429);
  }
  ParleydProcess server({"--max-connections", "2"});
  auto one = std::make_unique<WsClient>(server.port());
  WsClient two(server.port());
  EXPECT_EQ(upgrade_status(server.port(), "parley.v1.json"), 503);
  one.reset();  // a place frees up once the server has seen the close
  // --max-connections counts every TCP connection (a scrape's too): poll
  // with upgrades rather than /metrics.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = upgrade_status(server.port(), "parley.v1.json");
  while (status != 101 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition, bounded by the deadline
    status = upgrade_status(server.port(), "parley.v1.json");
  }
  EXPECT_EQ(status, 101);
}

TEST(Limits, ARoomTakesItsConfiguredNumberOfMembers) {
  ParleydProcess server({"--room-max-members", "2"});
  TestClient alice(server.port(), "alice");
  TestClient bob(server.port(), "bob");
  TestClient carol(server.port(), "carol");
  EXPECT_EQ(str(alice.join("lobby"), "type"), "joined");
  EXPECT_EQ(str(bob.join("lobby"), "type"), "joined");
  Json full = carol.join("lobby");
  EXPECT_EQ(str(full, "code"), "forbidden");
  EXPECT_NE(str(full, "message").find("full"), std::string::npos) << str(full, "message");
  EXPECT_EQ(str(bob.join("lobby"), "type"), "joined") << "members come back";
}

TEST(Limits, PingsKeepAReadingConnectionAliveAndASilentOneIsDropped) {
  ParleydProcess server({"--ping-interval-ms", "150", "--idle-timeout-ms", "600"});
  TestClient reader(server.port(), "alice");
  TestClient silent(server.port(), "bob");
  // The reader answers the server's pings (Beast does while it reads) for
  // three idle timeouts; the silent one never reads, so it never answers.
  Json nothing = reader.next("message", std::chrono::milliseconds(1800));
  ASSERT_TRUE(reader.closed());
  EXPECT_EQ(reader.closed()->code, 0) << "the reader was dropped: " << reader.closed()->reason;
  EXPECT_EQ(silent.wait_closed(std::chrono::seconds(2)), 1006) << "dropped without a close frame";
}

TEST(Limits, AClientThatOnlyListensToAStreamIsPingedAndKept) {
  // Deliveries flow to the listener all along, so its connection is never
  // quiet on the way out; it sends nothing itself. The server must still
  // ping it (and take its pongs) instead of dropping it as idle.
  ParleydProcess server({"--ping-interval-ms", "150", "--idle-timeout-ms", "600"});
  TestClient listener(server.port(), "alice");
  TestClient talker(server.port(), "bob");
  listener.join("lobby");
  talker.join("lobby");
  constexpr int kMessages = 24;  // 2.4 s: four idle timeouts
  for (int i = 0; i < kMessages; ++i) {
    talker.send(R"({"type":"send","roomId":"lobby","clientMsgId":")" + cmid("stream", i) +
                R"(","message":{"type":"text","content":"tick"}})");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // pacing the stream, not waiting for a result
    Json message = listener.next("message", std::chrono::seconds(2));
    ASSERT_TRUE(message.IsObject()) << "the listener lost its connection at message " << i << ": "
                                    << (listener.closed() ? listener.closed()->reason : "");
  }
  EXPECT_FALSE(listener.closed());
}

TEST(Limits, AClientThatPingsAndNeverReadsIsASlowConsumer) {
  ParleydProcess server({"--max-queue-bytes", "65536"});
  TestClient flooder(server.port(), "mallory", "", 4096);
  std::string payload(125, 'p');
  // Pings until the server gives up on the flooder (its writes then fail),
  // with a deadline: 100 MB of pongs would be far past any bound.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  try {
    for (int i = 0; i < 800000 && std::chrono::steady_clock::now() < deadline; ++i) {
      flooder.raw().ping(payload);
      if (i % 1000 == 999 && metric_now(server.port(), "parley_slow_consumers_total") >= 1) break;
    }
  } catch (const std::exception&) {
    // The server closed the connection: what the test waits for.
  }
  EXPECT_EQ(metric_when(server.port(), "parley_slow_consumers_total", 1), 1);
  EXPECT_LE(metric_now(server.port(), "parley_queue_peak_bytes"), 65536) << "pongs count against the bound";
}

}  // namespace
}  // namespace parley::test
