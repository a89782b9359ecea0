// Resource exhaustion through real sockets: TCP connections that never
// upgrade (per-address cap on the HTTP phase, the total, the handshake
// timeout), the descriptor limit at start (raised to fit --max-connections,
// or the connection limit lowered to fit it), and accept failing for want of
// descriptors (the listener backs off instead of spinning, and logs a
// handful of lines instead of hundreds of thousands). After each, a fresh
// client is served and the gauges come back.
//
// Deterministic on a busy machine: connections are admitted in the order
// they were accepted, so idle ones opened before a probe are counted before
// it; conditions are polled with deadlines; the one fixed wait is the window
// in which parleyd's CPU time is measured.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/parleyd_process.hpp"
#include "support/raw_ws.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
const std::string kHealthzClose = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

using Sockets = std::vector<std::unique_ptr<RawSocket>>;

// `n` TCP connections that never send a byte.
void open_idle(Sockets& out, std::uint16_t port, int n, const std::string& source = "") {
  for (int i = 0; i < n; ++i) out.push_back(std::make_unique<RawSocket>(port, 0, source));
}

// A request on a new connection; the response.
HttpResponse probe(std::uint16_t port, const std::string& request = kHealthzClose, const std::string& source = "") {
  RawSocket s(port, 0, source);
  s.write(request);
  return s.read_http();
}

// check_served, until it passes or `timeout` (closing connections free their
// places as parleyd sees them close).
std::optional<std::string> served_within(std::uint16_t port, std::chrono::milliseconds timeout = 10s,
                                         const std::string& source = "") {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto problem = check_served(port, source);
    if (!problem || Clock::now() >= deadline) return problem;
    std::this_thread::sleep_for(50ms);  // polling a condition, bounded by the deadline
  }
}

bool wait_eof(RawSocket& s, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!s.eof() && Clock::now() < deadline) s.fill(50ms);
  return s.eof();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The value of `key=` in the first log line holding it.
long log_value(const std::string& log, const std::string& key) {
  auto at = log.find(" " + key + "=");
  return at == std::string::npos ? -1 : std::atol(log.c_str() + at + key.size() + 2);
}

// User + system CPU time of a process, in seconds (/proc/<pid>/stat).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::size_t open_descriptors(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++n;
  }
  return n;
}

rlimit descriptor_limit(pid_t pid) {
  rlimit r{};
  EXPECT_EQ(prlimit(pid, RLIMIT_NOFILE, nullptr, &r), 0);
  return r;
}

// ---- connections that never upgrade

TEST(Exhaustion, IdleConnectionsPastThePerAddressCapAreRefused) {
  ParleydProcess server({"--max-handshakes-per-ip", "5"});
  Sockets idle;
  open_idle(idle, server.port(), 5);
  for (int i = 0; i < 20; ++i) {
    // Accepted after the five (accept order), so refused at once, without
    // waiting for a request.
    RawSocket s(server.port());
    HttpResponse res = s.read_http();
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(res.header("retry-after"), "5");
    EXPECT_NE(res.body.find("still in their handshake"), std::string::npos) << res.body;
    EXPECT_TRUE(wait_eof(s, 5s));
  }
  EXPECT_EQ(probe(server.port()).status, 503) << "a request changes nothing";
  EXPECT_FALSE(served_within(server.port(), 5s, "127.0.0.2")) << "another address is served meanwhile";
  ASSERT_TRUE(server.running());

  idle.clear();
  EXPECT_EQ(metric_when(server.port(), "parley_http_connections", 1), 1) << "only the scrape's own is left";
  EXPECT_EQ(metric_when(server.port(), "parley_tcp_connections", 1), 1);
  EXPECT_GE(metric_now(server.port(), "parley_connections_refused_total{reason=\"handshakes_per_ip\"}"), 21);
  EXPECT_FALSE(served_within(server.port()));
  EXPECT_LE(count(server.log(), "msg=\"connection refused\""), 2u) << "refusals are logged at most every 5 s";
}

TEST(Exhaustion, IdleConnectionsAreClosedAtTheHandshakeTimeout) {
  ParleydProcess server({"--handshake-timeout-ms", "500", "--max-handshakes-per-ip", "3"});
  Sockets idle;
  open_idle(idle, server.port(), 3);
  EXPECT_EQ(probe(server.port()).status, 503);
  for (auto& s : idle) {
    EXPECT_TRUE(wait_eof(*s, 5s)) << "an idle connection outlived the handshake timeout";
    EXPECT_FALSE(s->reset());
  }
  EXPECT_EQ(metric_when(server.port(), "parley_http_connections", 1), 1);
  EXPECT_EQ(metric_when(server.port(), "parley_tcp_connections", 1), 1);
  // Their places are free again (once parleyd has also seen the scrapes'
  // connections close).
  Sockets again;
  open_idle(again, server.port(), 2);
  auto deadline = Clock::now() + 5s;
  int status = probe(server.port()).status;
  while (status != 200 && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // polling a condition, bounded by the deadline
    status = probe(server.port()).status;
  }
  EXPECT_EQ(status, 200);
  again.clear();
  EXPECT_FALSE(served_within(server.port()));
}

TEST(Exhaustion, TrustedProxiesAreExemptFromThePerAddressCap) {
  ParleydProcess server({"--max-handshakes-per-ip", "2", "--trusted-proxies", "127.0.0.1"});
  Sockets idle;
  open_idle(idle, server.port(), 10);
  EXPECT_EQ(probe(server.port()).status, 200) << "a proxy carries many clients";
  open_idle(idle, server.port(), 2, "127.0.0.2");
  EXPECT_EQ(probe(server.port(), kHealthzClose, "127.0.0.2").status, 503) << "127.0.0.2 is not a proxy";
  idle.clear();
  EXPECT_FALSE(served_within(server.port()));
}

TEST(Exhaustion, MaxConnectionsCountsEveryTcpConnection) {
  ParleydProcess server({"--max-connections", "4"});
  RawWs ws(server.port());
  ASSERT_TRUE(ws.hello("alice"));
  Sockets idle;
  open_idle(idle, server.port(), 3);
  HttpResponse res = probe(server.port(), kHealthzClose, "127.0.0.2");
  EXPECT_EQ(res.status, 503);
  EXPECT_NE(res.body.find("at capacity"), std::string::npos) << res.body;
  ws.send_text(R"({"type":"ping","ref":"p"})");
  auto pong = ws.next();
  EXPECT_TRUE(pong && pong->payload.find("\"pong\"") != std::string::npos) << "the connection held is still served";
  idle.clear();
  EXPECT_FALSE(served_within(server.port()));
  EXPECT_GE(metric_now(server.port(), "parley_connections_refused_total{reason=\"capacity\"}"), 1);
}

// ---- descriptors

TEST(Exhaustion, TheDescriptorLimitIsRaisedToHoldMaxConnections) {
  ParleydProcess server({"--max-connections", "1000"}, SpawnOptions{{}, {"prlimit", "--nofile=256:4096"}});
  rlimit r = descriptor_limit(server.pid());
  EXPECT_GT(r.rlim_cur, 1000u);
  EXPECT_LE(r.rlim_cur, 1200u) << "about what it needs, not everything";
  EXPECT_EQ(r.rlim_max, 4096u);
  EXPECT_NE(server.log().find("msg=\"descriptor limit raised\" from=256"), std::string::npos) << server.log();
  EXPECT_EQ(metric_now(server.port(), "parley_connection_limit"), 1000);
}

TEST(Exhaustion, AHardLimitTooLowLowersTheConnectionLimitAndRefusesWith503) {
  ParleydProcess server({"--max-connections", "1000", "--max-handshakes-per-ip", "1000"},
                        SpawnOptions{{}, {"prlimit", "--nofile=64:64"}});
  std::string log = server.log();
  ASSERT_NE(log.find("descriptor limit too low for --max-connections"), std::string::npos) << log;
  long fitted = log_value(log, "effective_max_connections");
  ASSERT_GT(fitted, 0) << log;
  ASSERT_LT(fitted, 64) << log;

  // Hold every place with a kept-alive HTTP connection, then ask for more.
  Sockets held;
  for (long i = 0; i < fitted; ++i) {
    held.push_back(std::make_unique<RawSocket>(server.port()));
    held.back()->write(kHealthz);
    ASSERT_EQ(held.back()->read_http().status, 200) << "connection " << i;
  }
  for (int i = 0; i < 10; ++i) {
    HttpResponse res = probe(server.port());
    EXPECT_EQ(res.status, 503);
    EXPECT_NE(res.body.find("at capacity"), std::string::npos) << res.body;
  }
  EXPECT_EQ(server.log().find("accept failed"), std::string::npos) << "it refused instead of running out";
  EXPECT_EQ(descriptor_limit(server.pid()).rlim_cur, 64u);
  held.clear();
  EXPECT_FALSE(served_within(server.port()));
  EXPECT_EQ(metric_now(server.port(), "parley_connection_limit"), fitted);
}

TEST(Exhaustion, OutOfDescriptorsTheListenerBacksOffAndRecovers) {
  ParleydProcess server({"--storage", "memory", "--max-handshakes-per-ip", "1000"});
  pid_t pid = server.pid();
  // Descriptors taken by something else, as parleyd sees it: its soft limit
  // drops below what it fitted its connection limit to at start.
  rlimit before = descriptor_limit(pid);
  rlimit low = before;
  low.rlim_cur = open_descriptors(pid) + 8;
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, &low, nullptr), 0);

  Sockets held;
  open_idle(held, server.port(), 40);
  ASSERT_TRUE(server.wait_for_log("msg=\"accept failed\"", 10s)) << server.log();

  // The listener waits between tries: measured over a window, parleyd's CPU
  // time stays a small fraction of the time that passed (a retry loop took
  // 60-95 % of a core and logged ~200 000 lines a second).
  double cpu0 = cpu_seconds(pid);
  auto t0 = Clock::now();
  std::this_thread::sleep_for(2s);  // the measured window, not a wait for an event
  double cpu = cpu_seconds(pid) - cpu0;
  double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(cpu / wall, 0.2) << cpu << " s of CPU in " << wall << " s";
  std::size_t lines = count(server.log(), "msg=\"accept failed\"");
  std::printf("out of descriptors: %zu 'accept failed' lines, %.2f s of CPU in %.2f s (%.1f %%)\n", lines, cpu, wall,
              100 * cpu / wall);
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 3u) << "at most one line every 5 s:\n" << server.log();
  ASSERT_TRUE(server.running());

  // Descriptors come back: by itself, the listener works off the backlog
  // and a fresh client is served. (The limit comes back before the held
  // connections close: in the sanitizer build, code that runs while the
  // process has no descriptor left can make UBSan report a false "invalid
  // vptr", since it checks memory through a pipe; the listener's own path
  // avoids that, the HTTP sessions cannot.)
  ASSERT_EQ(prlimit(pid, RLIMIT_NOFILE, &before, nullptr), 0);
  EXPECT_FALSE(served_within(server.port(), 15s));
  EXPECT_TRUE(server.wait_for_log("msg=\"accept resumed\"", 5s));
  held.clear();
  EXPECT_EQ(metric_when(server.port(), "parley_tcp_connections", 1), 1) << "the backlog, served and closed";
  EXPECT_GE(metric_now(server.port(), "parley_accept_errors_total"), 1);
  EXPECT_FALSE(served_within(server.port()));
}

}  // namespace
}  // namespace parley::test
