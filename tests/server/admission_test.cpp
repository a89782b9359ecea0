// Admission by ownership (ConnectionSlot), the descriptor plan at start, and
// the listener's backoff and log throttle, as pure code.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "accept_backoff.hpp"
#include "admission.hpp"
#include "descriptors.hpp"

namespace parley::server {
namespace {

using Refusal = Admission::Refusal;

ConnectionSlot admit(Admission& a, const std::string& peer, bool exempt = false) {
  Refusal why = Refusal::none;
  auto slot = a.admit(peer, exempt, why);
  EXPECT_EQ(static_cast<bool>(slot), why == Refusal::none);
  return slot;
}

Refusal refusal(Admission& a, const std::string& peer, bool exempt = false) {
  Refusal why = Refusal::none;
  auto slot = a.admit(peer, exempt, why);
  return why;
}

void expect_empty(const Admission& a) {
  auto c = a.counts();
  EXPECT_EQ(c.total, 0);
  EXPECT_EQ(c.http, 0);
  EXPECT_EQ(c.addresses, 0) << "an address without connections keeps no entry";
}

TEST(Admission, TheTotalCountsEveryConnectionAndFreesOnDestruction) {
  Admission a({3, 100, 100});
  {
    auto s1 = admit(a, "192.0.2.1");
    auto s2 = admit(a, "192.0.2.2");
    auto s3 = admit(a, "192.0.2.3");
    EXPECT_EQ(a.counts().total, 3);
    EXPECT_EQ(a.counts().http, 3);
    EXPECT_EQ(refusal(a, "192.0.2.4"), Refusal::capacity);
    EXPECT_EQ(a.upgrade(s1, "192.0.2.1"), Refusal::none);
    EXPECT_EQ(refusal(a, "192.0.2.4"), Refusal::capacity) << "upgraded connections still count";
    EXPECT_EQ(a.counts().http, 2);
  }
  expect_empty(a);
  EXPECT_TRUE(admit(a, "192.0.2.4"));
  EXPECT_EQ(a.refused(Refusal::capacity), 2u);
}

TEST(Admission, ConnectionsInTheirHttpPhaseAreCappedPerPeerExceptTrustedProxies) {
  Admission a({100, 100, 2});
  auto s1 = admit(a, "192.0.2.1");
  auto s2 = admit(a, "192.0.2.1");
  EXPECT_EQ(refusal(a, "192.0.2.1"), Refusal::handshakes_per_ip);
  EXPECT_TRUE(admit(a, "192.0.2.2")) << "another address is not affected";
  std::vector<ConnectionSlot> proxied;
  for (int i = 0; i < 10; ++i) proxied.push_back(admit(a, "10.0.0.1", true));
  EXPECT_EQ(a.counts().http, 12);
  // An upgrade frees the peer's place in the HTTP phase.
  EXPECT_EQ(a.upgrade(s1, "192.0.2.1"), Refusal::none);
  auto s3 = admit(a, "192.0.2.1");
  EXPECT_TRUE(s3);
  // Giving back an HTTP-phase slot frees it too.
  s2.release();
  EXPECT_FALSE(s2);
  EXPECT_TRUE(admit(a, "192.0.2.1"));
  EXPECT_EQ(a.refused(Refusal::handshakes_per_ip), 1u);
}

TEST(Admission, UpgradedConnectionsAreCappedPerClientAddress) {
  Admission a({100, 2, 100});
  auto s1 = admit(a, "10.0.0.1", true);
  auto s2 = admit(a, "10.0.0.1", true);
  auto s3 = admit(a, "10.0.0.1", true);
  EXPECT_EQ(a.upgrade(s1, "203.0.113.7"), Refusal::none);
  EXPECT_EQ(a.upgrade(s2, "203.0.113.7"), Refusal::none);
  EXPECT_EQ(a.upgrade(s3, "203.0.113.7"), Refusal::connections_per_ip);
  EXPECT_FALSE(s3.upgraded()) << "a refused upgrade leaves the slot in its HTTP phase";
  EXPECT_EQ(a.counts().http, 1);
  EXPECT_EQ(a.upgrade(s3, "203.0.113.8"), Refusal::none);
  EXPECT_TRUE(s3.upgraded());
  s1 = ConnectionSlot();  // move-assigning gives the old place back
  auto s4 = admit(a, "10.0.0.1", true);
  EXPECT_EQ(a.upgrade(s4, "203.0.113.7"), Refusal::none);
  EXPECT_EQ(a.refused(Refusal::connections_per_ip), 1u);
}

TEST(Admission, SlotsMoveAndBalanceOnEveryPath) {
  Admission a({100, 100, 100});
  {
    auto s1 = admit(a, "192.0.2.1");
    ConnectionSlot moved(std::move(s1));
    EXPECT_FALSE(s1);  // NOLINT(bugprone-use-after-move): a moved-from slot is empty by contract
    EXPECT_TRUE(moved);
    ConnectionSlot target = admit(a, "192.0.2.2");
    target = std::move(moved);
    EXPECT_EQ(a.counts().total, 1) << "the assigned-over slot was given back";
    EXPECT_EQ(a.upgrade(target, "192.0.2.1"), Refusal::none);
    EXPECT_EQ(a.upgrade(target, "192.0.2.9"), Refusal::none) << "a second upgrade changes nothing";
    target.release();
    target.release();
    expect_empty(a);
  }
  expect_empty(a);
  ConnectionSlot none;
  EXPECT_EQ(a.upgrade(none, "192.0.2.1"), Refusal::none);
  expect_empty(a);
}

TEST(Admission, TheConnectionLimitCanBeLowered) {
  Admission a({10, 100, 100});
  a.set_max_connections(1);
  EXPECT_EQ(a.max_connections(), 1u);
  auto s = admit(a, "192.0.2.1");
  EXPECT_EQ(refusal(a, "192.0.2.2"), Refusal::capacity);
  a.set_max_connections(0);
  s.release();
  EXPECT_EQ(refusal(a, "192.0.2.2"), Refusal::capacity);
}

TEST(Admission, ManyThreadsBalance) {
  Admission a({1000000, 1000000, 1000000});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&a, t] {
      for (int i = 0; i < 5000; ++i) {
        Refusal why;
        auto slot = a.admit("192.0.2." + std::to_string((i + t) % 7), t % 2 == 0, why);
        if (i % 3 == 0) a.upgrade(slot, "203.0.113." + std::to_string(i % 5));
      }
    });
  }
  for (auto& th : threads) th.join();
  expect_empty(a);
}

TEST(Admission, MetricsText) {
  Admission a({5, 100, 1});
  auto s = admit(a, "192.0.2.1");
  refusal(a, "192.0.2.1");
  a.count_handshake_refused(426);
  a.count_handshake_refused(426);
  a.count_handshake_refused(418);
  a.count_accept_error();
  std::string m = a.metrics_text();
  for (const char* line :
       {"parley_tcp_connections 1\n", "parley_http_connections 1\n", "parley_connection_limit 5\n",
        "parley_connections_refused_total{reason=\"handshakes_per_ip\"} 1\n",
        "parley_connections_refused_total{reason=\"capacity\"} 0\n",
        "parley_handshakes_refused_total{status=\"426\"} 2\n", "parley_handshakes_refused_total{status=\"418\"} 1\n",
        "parley_handshakes_refused_total{status=\"403\"} 0\n", "parley_accept_errors_total 1\n",
        "# TYPE parley_tcp_connections gauge\n"}) {
    EXPECT_NE(m.find(line), std::string::npos) << line << " in\n" << m;
  }
}

// ---- descriptors

TEST(Descriptors, TheSoftLimitIsRaisedToFitTheConnections) {
  auto p = plan_descriptors(1024, 1048576, 20, 10000);
  EXPECT_TRUE(p.raise);
  EXPECT_EQ(p.soft, 20 + kDescriptorMargin + 10000);
  EXPECT_EQ(p.max_connections, 10000u);
  EXPECT_FALSE(p.lowered);
}

TEST(Descriptors, ASoftLimitThatFitsIsKept) {
  auto p = plan_descriptors(1048576, 1048576, 20, 10000);
  EXPECT_FALSE(p.raise);
  EXPECT_EQ(p.soft, 1048576u);
  EXPECT_EQ(p.max_connections, 10000u);
  EXPECT_FALSE(p.lowered);
}

TEST(Descriptors, AHardLimitTooLowLowersTheConnectionLimit) {
  auto p = plan_descriptors(64, 64, 12, 1000);
  EXPECT_FALSE(p.raise);
  EXPECT_EQ(p.soft, 64u);
  EXPECT_EQ(p.max_connections, 64 - 12 - kDescriptorMargin);
  EXPECT_TRUE(p.lowered);

  auto q = plan_descriptors(256, 4096, 12, 10000);
  EXPECT_TRUE(q.raise);
  EXPECT_EQ(q.soft, 4096u) << "up to the hard limit";
  EXPECT_EQ(q.max_connections, 4096 - 12 - kDescriptorMargin);
  EXPECT_TRUE(q.lowered);
}

TEST(Descriptors, NoRoomAtAll) {
  auto p = plan_descriptors(40, 40, 12, 1000);
  EXPECT_EQ(p.max_connections, 0u);
  EXPECT_TRUE(p.lowered);
  EXPECT_EQ(plan_descriptors(40, 40, 12, 0).max_connections, 0u);
  EXPECT_FALSE(plan_descriptors(40, 40, 12, 0).lowered) << "nothing asked, nothing lowered";
}

TEST(Descriptors, UnlimitedLimits) {
  constexpr std::uint64_t kInfinity = ~std::uint64_t{0};
  auto p = plan_descriptors(1024, kInfinity, 20, 10000);
  EXPECT_TRUE(p.raise);
  EXPECT_EQ(p.soft, 20 + kDescriptorMargin + 10000);
  auto q = plan_descriptors(kInfinity, kInfinity, 20, 10000);
  EXPECT_FALSE(q.raise);
  EXPECT_EQ(q.max_connections, 10000u);
}

// ---- accept backoff and log throttle

TEST(AcceptBackoff, DoublesToOneSecondAndResets) {
  AcceptBackoff b;
  std::vector<long> seen;
  for (int i = 0; i < 10; ++i) seen.push_back(static_cast<long>(b.next().count()));
  EXPECT_EQ(seen, (std::vector<long>{10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000}));
  b.reset();
  EXPECT_EQ(b.next().count(), 10);
}

TEST(LogThrottle, OneLinePerIntervalWithTheCountHeldBack) {
  LogThrottle t(std::chrono::seconds(5));
  LogThrottle::Clock::time_point start{};
  auto at = [&](int ms) { return start + std::chrono::milliseconds(ms); };
  EXPECT_EQ(t.allow(at(0)), 0u);
  for (int i = 1; i <= 1000; ++i) EXPECT_FALSE(t.allow(at(i)));
  EXPECT_FALSE(t.allow(at(4999)));
  EXPECT_EQ(t.allow(at(5000)), 1001u);
  EXPECT_FALSE(t.allow(at(5001)));
  EXPECT_EQ(t.allow(at(60000)), 1u);
}

}  // namespace
}  // namespace parley::server
