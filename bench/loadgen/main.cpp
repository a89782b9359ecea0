// parley_loadgen: the load generator of the server benchmarks (issue 7).
//
// One thread, one Boost.Asio io_context, non-blocking sockets: thousands of
// WebSocket connections to one server, spread over several 127.0.0.x source
// addresses. Three protocol adapters speak the same room semantics (join a
// room, publish to it, receive every message of it):
//   parley  Parley v1 JSON (hello/join/send, `message` events, `ack`)
//   ws      a plain JSON room protocol (bench/peers/ws-server.mjs)
//   sio     Socket.IO v5 over Engine.IO v4 on a raw WebSocket (bench/peers/socketio-server.mjs)
// Every message body (~100 bytes) carries its send time (steady clock, ns),
// its publisher and its number, so receivers measure end-to-end latency and
// losses. The server's CPU (utime+stime) and RSS are read from /proc at the
// edges of each measuring window; the load generator reports its own CPU.
//
// Scenarios (--scenario): fanout, saturation, idle, storm. Results are JSON,
// one object per line on stdout; progress goes to stderr.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "auth.hpp"
#include "client_frame.hpp"

namespace net = boost::asio;
using tcp = net::ip::tcp;
using parley::bench::Opcode;

namespace {

// ------------------------------------------------------------------ helpers

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double own_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct ProcSample {
  double cpu_s = -1;  // utime + stime of every thread
  long rss_kb = -1;   // VmRSS
};

ProcSample sample_proc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && (fields >> field); ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    s.cpu_s = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
  }
  return s;
}

// Busy and stolen time of cores 0 and 1 (/proc/stat, seconds): what else ran
// on the benchmark's cores during a window.
struct CoreTimes {
  double busy[2] = {-1, -1};
  double steal[2] = {-1, -1};
};

CoreTimes sample_cores() {
  CoreTimes t;
  std::ifstream stat("/proc/stat");
  std::string line;
  auto hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  while (std::getline(stat, line)) {
    for (int core = 0; core < 2; ++core) {
      std::string name = "cpu" + std::to_string(core) + " ";
      if (line.rfind(name, 0) != 0) continue;
      std::istringstream fields(line.substr(name.size()));
      double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
      fields >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
      t.busy[core] = (user + nice + system + irq + softirq) / hz;
      t.steal[core] = steal / hz;
    }
  }
  return t;
}

// The kernel thread that runs core 0's deferred softirq work (the server's
// loopback packets when the kernel defers them), or 0.
int ksoftirqd0_pid() {
  for (int pid = 1; pid < 200; ++pid) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    if (std::getline(comm, name) && name == "ksoftirqd/0") return pid;
  }
  return 0;
}

std::int64_t parse_int(std::string_view s, std::size_t& at) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + at, s.data() + s.size(), v);
  if (ec != std::errc()) return -1;
  at = static_cast<std::size_t>(ptr - s.data());
  return v;
}

// The position right after `key` in `s`, or npos.
std::size_t after(std::string_view s, std::string_view key, std::size_t from = 0) {
  auto at = s.find(key, from);
  return at == std::string_view::npos ? at : at + key.size();
}

// A message body: "T<send ns>-P<publisher>-N<number>-" padded with 'x' to 100 bytes.
struct Body {
  std::int64_t sent_ns = -1;
  std::int64_t publisher = -1;
  std::int64_t number = -1;
};

bool parse_body(std::string_view s, std::size_t at, Body& b) {
  if (at >= s.size() || s[at] != 'T') return false;
  ++at;
  b.sent_ns = parse_int(s, at);
  if (at + 1 >= s.size() || s[at] != '-' || s[at + 1] != 'P') return false;
  at += 2;
  b.publisher = parse_int(s, at);
  if (at + 1 >= s.size() || s[at] != '-' || s[at + 1] != 'N') return false;
  at += 2;
  b.number = parse_int(s, at);
  return b.sent_ns >= 0 && b.publisher >= 0 && b.number >= 0;
}

std::string make_body(std::int64_t sent_ns, std::uint32_t publisher, std::uint32_t number) {
  std::string body =
      "T" + std::to_string(sent_ns) + "-P" + std::to_string(publisher) + "-N" + std::to_string(number) + "-";
  if (body.size() < 100) body.append(100 - body.size(), 'x');
  return body;
}

double percentile(std::vector<std::uint32_t>& v, double p) {
  if (v.empty()) return -1;
  auto k = static_cast<std::size_t>(
      std::min<double>(static_cast<double>(v.size() - 1), std::floor(p * static_cast<double>(v.size()))));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] / 1000.0;  // us -> ms
}

// Minimal JSON object writer for the result lines.
class Json {
 public:
  Json& num(const char* key, double v) {
    sep();
    char buf[64];
    if (std::isfinite(v)) {
      std::snprintf(buf, sizeof buf, "%.6g", v);
    } else {
      std::snprintf(buf, sizeof buf, "null");
    }
    out_ += "\"" + std::string(key) + "\":" + buf;
    return *this;
  }
  Json& integer(const char* key, std::int64_t v) {
    sep();
    out_ += "\"" + std::string(key) + "\":" + std::to_string(v);
    return *this;
  }
  Json& str(const char* key, std::string_view v) {
    sep();
    out_ += "\"" + std::string(key) + "\":\"" + std::string(v) + "\"";
    return *this;
  }
  Json& boolean(const char* key, bool v) {
    sep();
    out_ += "\"" + std::string(key) + "\":" + (v ? "true" : "false");
    return *this;
  }
  Json& raw(const char* key, const std::string& v) {
    sep();
    out_ += "\"" + std::string(key) + "\":" + v;
    return *this;
  }
  std::string done() { return out_ + "}"; }

 private:
  void sep() { out_ += out_.size() > 1 ? "," : ""; }
  std::string out_ = "{";
};

void emit(const std::string& line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "parley_loadgen: %s\n", why.c_str());
  emit(Json().str("error", why).done());
  std::exit(2);
}

// ------------------------------------------------------------------ options

enum class Proto : std::uint8_t { parley, ws, sio };

struct Options {
  std::string scenario = "fanout";
  Proto proto = Proto::parley;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int server_pid = 0;
  std::string secret = "bench-secret-0123456789abcdef";
  int rooms = 10;
  int per_room = 100;
  int connections = 0;  // idle/storm: total; rooms = connections / per_room
  std::vector<double> rates = {200, 1000};
  double warmup_s = 1, window_s = 5, drain_s = 5;
  double start_rate = 200, factor = 1.25, max_rate = 100000, step_s = 2, step_warmup_s = 0.5;
  double max_p99_ms = 500;
  double storm_rate = 200;
  double storm_timeout_s = 40;
  double settle_s = 2;
  int sources = 4;
  bool join = true;
  int inflight = 256;
  double setup_timeout_s = 120;
};

std::vector<double> parse_list(const std::string& s) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stod(item));
  return out;
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--scenario") {
      o.scenario = value();
    } else if (a == "--proto") {
      auto p = value();
      if (p == "parley") {
        o.proto = Proto::parley;
      } else if (p == "ws") {
        o.proto = Proto::ws;
      } else if (p == "sio") {
        o.proto = Proto::sio;
      } else {
        die("unknown --proto " + p + " (parley, ws, sio)");
      }
    } else if (a == "--host") {
      o.host = value();
    } else if (a == "--port") {
      o.port = static_cast<std::uint16_t>(std::stoi(value()));
    } else if (a == "--server-pid") {
      o.server_pid = std::stoi(value());
    } else if (a == "--secret") {
      o.secret = value();
    } else if (a == "--rooms") {
      o.rooms = std::stoi(value());
    } else if (a == "--per-room") {
      o.per_room = std::stoi(value());
    } else if (a == "--connections") {
      o.connections = std::stoi(value());
    } else if (a == "--rates") {
      o.rates = parse_list(value());
    } else if (a == "--warmup") {
      o.warmup_s = std::stod(value());
    } else if (a == "--window") {
      o.window_s = std::stod(value());
    } else if (a == "--drain") {
      o.drain_s = std::stod(value());
    } else if (a == "--start-rate") {
      o.start_rate = std::stod(value());
    } else if (a == "--factor") {
      o.factor = std::stod(value());
    } else if (a == "--max-rate") {
      o.max_rate = std::stod(value());
    } else if (a == "--step") {
      o.step_s = std::stod(value());
    } else if (a == "--step-warmup") {
      o.step_warmup_s = std::stod(value());
    } else if (a == "--max-p99") {
      o.max_p99_ms = std::stod(value());
    } else if (a == "--storm-rate") {
      o.storm_rate = std::stod(value());
    } else if (a == "--storm-timeout") {
      o.storm_timeout_s = std::stod(value());
    } else if (a == "--settle") {
      o.settle_s = std::stod(value());
    } else if (a == "--join") {
      o.join = value() != "0";
    } else if (a == "--sources") {
      o.sources = std::max(1, std::stoi(value()));
    } else if (a == "--inflight") {
      o.inflight = std::max(1, std::stoi(value()));
    } else if (a == "--setup-timeout") {
      o.setup_timeout_s = std::stod(value());
    } else if (a == "--help" || a == "-h") {
      std::puts(
          "parley_loadgen --scenario fanout|saturation|idle|storm --proto parley|ws|sio --port N\n"
          "  [--server-pid P] [--secret S] [--rooms 10] [--per-room 100] [--connections N]\n"
          "  fanout:     [--rates 200,1000] [--warmup 1] [--window 5] [--drain 5]   (messages/s)\n"
          "  saturation: [--start-rate 200] [--factor 1.25] [--max-rate 100000] [--step 2] [--step-warmup 0.5] "
          "[--max-p99 500]\n"
          "  idle:       [--connections 10000] [--settle 2]\n"
          "  storm:      [--connections 2000] [--storm-rate 200] [--storm-timeout 40]\n"
          "  [--join 1] [--sources 4] [--inflight 256] [--setup-timeout 120]");
      std::exit(0);
    } else {
      die("unknown option " + a);
    }
  }
  if (o.port == 0) die("--port is required");
  if (o.connections > 0) o.rooms = std::max(1, o.connections / o.per_room);
  return o;
}

// ------------------------------------------------------------------ the load generator

enum class State : std::uint8_t { down, connecting, upgrading, opening, joining, joined };

struct Conn {
  explicit Conn(net::io_context& io) : sock(io) {}
  tcp::socket sock;
  std::uint32_t index = 0;
  std::uint32_t room = 0;
  bool publisher = false;
  State state = State::down;
  std::uint32_t gen = 0;  // bumped on every new socket: handlers of an older one are stale
  bool read_wait = false;
  bool write_wait = false;
  bool setup_counted = false;  // still counted in the setup's in-flight window
  std::string in;              // bytes of an incomplete HTTP response or frame
  std::string out;             // bytes the socket did not take yet
  std::string fragments;       // a fragmented message being assembled
  int attempt = 0;             // reconnect attempts since the last stable connection
  std::int64_t joined_at = 0;
  std::int64_t last_seq = 0;      // Parley: the room's last seq seen (resume)
  std::int64_t rejoined_at = -1;  // storm: when it was back after the outage
  std::vector<bool> seen;         // storm: message numbers of its room's publisher received
  std::string token;
};

struct Publisher {
  Conn* conn = nullptr;
  std::uint32_t next = 0;
  // Generated, not yet committed: Parley keeps them until acked (and resends
  // them after a reconnect with the same clientMsgId); the peers until sent.
  std::deque<std::pair<std::uint32_t, std::int64_t>> pending;  // number, first send time
  std::vector<bool> committed;                                 // acked (Parley) or written (peers)
  std::uint32_t committed_count = 0;
};

struct Retry {
  std::int64_t due;
  std::uint32_t conn;
  std::uint32_t gen;
  bool operator>(const Retry& o) const { return due > o.due; }
};

class LoadGen {
 public:
  explicit LoadGen(Options o) : opt_(std::move(o)), rbuf_(256 * 1024) {
    endpoint_ = tcp::endpoint(net::ip::make_address(opt_.host), opt_.port);
    int n = opt_.rooms * opt_.per_room;
    conns_.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<Conn>(io_);
      c->index = static_cast<std::uint32_t>(i);
      c->room = static_cast<std::uint32_t>(i / opt_.per_room);
      c->publisher = i % opt_.per_room == 0;
      conns_.push_back(std::move(c));
    }
    publishers_.resize(static_cast<std::size_t>(opt_.rooms));
    for (auto& c : conns_) {
      if (c->publisher) publishers_[c->room].conn = c.get();
    }
    rng_.seed(static_cast<std::uint64_t>(now_ns()));
    // Source addresses 127.0.0.1 .. 127.0.0.N when the target is loopback.
    auto target = endpoint_.address().to_v4().to_bytes();
    for (int i = 0; i < opt_.sources; ++i) {
      if (target[0] == 127) {
        sources_.push_back(net::ip::address_v4({127, 0, 0, static_cast<unsigned char>(1 + i)}));
      }
    }
  }

  int run() {
    net::co_spawn(io_, ticker(), net::detached);
    net::co_spawn(
        io_,
        [this]() -> net::awaitable<void> {
          if (opt_.scenario == "fanout") {
            co_await fanout();
          } else if (opt_.scenario == "saturation") {
            co_await saturation();
          } else if (opt_.scenario == "idle") {
            co_await idle();
          } else if (opt_.scenario == "storm") {
            co_await storm();
          } else {
            die("unknown --scenario " + opt_.scenario);
          }
          io_.stop();
        },
        [](std::exception_ptr e) {
          if (!e) return;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            die(std::string("scenario failed: ") + ex.what());
          }
        });
    io_.run();
    return 0;
  }

 private:
  // ---------------------------------------------------------------- timing

  net::awaitable<void> sleep_s(double seconds) {
    net::steady_timer t(io_);
    t.expires_after(std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9)));
    co_await t.async_wait(net::use_awaitable);
  }

  net::awaitable<bool> wait_until(const std::function<bool()>& done, double timeout_s, double poll_s = 0.002) {
    std::int64_t deadline = now_ns() + static_cast<std::int64_t>(timeout_s * 1e9);
    while (!done()) {
      if (now_ns() > deadline) co_return false;
      co_await sleep_s(poll_s);
    }
    co_return true;
  }

  // Every millisecond: due reconnects, and the publishers' pace.
  net::awaitable<void> ticker() {
    net::steady_timer t(io_);
    for (;;) {
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(net::use_awaitable);
      std::int64_t now = now_ns();
      while (!retries_.empty() && retries_.top().due <= now) {
        Retry r = retries_.top();
        retries_.pop();
        Conn& c = *conns_[r.conn];
        if (c.gen == r.gen && c.state == State::down) start_connect(c);
      }
      pump(now);
    }
  }

  void set_rate(double messages_per_s) {
    pace_origin_ = now_ns();
    pace_base_ = generated_;
    rate_ = messages_per_s;
  }

  void pump(std::int64_t now) {
    if (rate_ <= 0) return;
    auto due = pace_base_ + static_cast<std::uint64_t>(rate_ * static_cast<double>(now - pace_origin_) / 1e9);
    while (generated_ < due) {
      Publisher& p = publishers_[pub_rr_];
      pub_rr_ = (pub_rr_ + 1) % publishers_.size();
      generate(p, now);
    }
  }

  // ---------------------------------------------------------------- connections

  void start_connect(Conn& c) {
    ++c.gen;
    c.state = State::connecting;
    c.in.clear();
    c.out.clear();
    c.fragments.clear();
    c.read_wait = c.write_wait = false;
    std::int64_t now = now_ns();
    if (track_attempts_) attempts_.push_back(now);
    boost::system::error_code ec;
    if (c.sock.is_open()) c.sock.close(ec);
    c.sock.open(tcp::v4(), ec);
    if (ec) return lost(c, "socket: " + ec.message());
    c.sock.non_blocking(true, ec);
    c.sock.set_option(tcp::no_delay(true), ec);
    if (!sources_.empty()) {
      int one = 1;
      ::setsockopt(c.sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      c.sock.bind(tcp::endpoint(sources_[c.index % sources_.size()], 0), ec);
      if (ec) return lost(c, "bind: " + ec.message());
    }
    auto gen = c.gen;
    c.sock.async_connect(endpoint_, [this, &c, gen](boost::system::error_code e) {
      if (gen != c.gen) return;
      if (e) return lost(c, "connect: " + e.message());
      c.state = State::upgrading;
      std::string req =
          "GET " + path() + " HTTP/1.1\r\nHost: " + opt_.host + ":" + std::to_string(opt_.port) +
          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Version: 13\r\n";
      if (opt_.proto == Proto::parley) req += "Sec-WebSocket-Protocol: parley.v1.json\r\n";
      req += "\r\n";
      send_raw(c, req);
      if (gen == c.gen) arm_read(c);
    });
  }

  std::string path() const {
    switch (opt_.proto) {
      case Proto::parley:
        return "/ws";
      case Proto::ws:
        return "/";
      case Proto::sio:
        return "/socket.io/?EIO=4&transport=websocket";
    }
    return "/";
  }

  void lost(Conn& c, const std::string& why) {
    if (c.state == State::down) return;
    if (c.state == State::joined) --joined_;
    std::int64_t now = now_ns();
    if (first_loss_ns_ < 0 && track_losses_) first_loss_ns_ = now;
    ++disconnects_;
    if (disconnects_ <= 5 || (disconnects_ & (disconnects_ - 1)) == 0) {
      std::fprintf(stderr, "parley_loadgen: connection %u lost (%s); %llu so far\n", c.index, why.c_str(),
                   static_cast<unsigned long long>(disconnects_));
    }
    c.state = State::down;
    ++c.gen;
    boost::system::error_code ec;
    c.sock.close(ec);
    c.in.clear();
    c.out.clear();
    c.fragments.clear();
    c.read_wait = c.write_wait = false;
    if (stopping_) return;
    // Exponential backoff with full jitter, as Parley's client: base 500 ms,
    // cap 10 s; only a connection that lasted 5 s starts the count over.
    if (c.joined_at > 0 && now - c.joined_at >= 5'000'000'000LL) c.attempt = 0;
    c.joined_at = 0;
    std::int64_t ceiling = 500;
    for (int i = 0; i < c.attempt && ceiling < 10'000; ++i) ceiling *= 2;
    ceiling = std::min<std::int64_t>(ceiling, 10'000);
    double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    auto delay_ms = static_cast<std::int64_t>(unit * static_cast<double>(ceiling + 1)) % (ceiling + 1);
    ++c.attempt;
    retries_.push(Retry{now + delay_ms * 1'000'000, c.index, c.gen});
  }

  void arm_read(Conn& c) {
    if (c.read_wait || c.state == State::down) return;
    c.read_wait = true;
    auto gen = c.gen;
    c.sock.async_wait(tcp::socket::wait_read, [this, &c, gen](boost::system::error_code ec) {
      if (gen != c.gen) return;
      c.read_wait = false;
      if (ec) return lost(c, "wait: " + ec.message());
      on_readable(c);
    });
  }

  void on_readable(Conn& c) {
    auto gen = c.gen;
    for (int round = 0; round < 8; ++round) {
      boost::system::error_code ec;
      std::size_t n = c.sock.read_some(net::buffer(rbuf_), ec);
      if (ec == net::error::would_block || ec == net::error::try_again) break;
      if (ec) return lost(c, "read: " + ec.message());
      if (n == 0) return lost(c, "eof");
      recv_now_ = now_ns();
      feed(c, std::string_view(rbuf_.data(), n));
      if (gen != c.gen) return;
      if (n < rbuf_.size()) break;
    }
    arm_read(c);
  }

  void send_raw(Conn& c, std::string_view bytes) {
    if (c.state == State::down) return;
    if (c.out.empty() && !c.write_wait) {
      boost::system::error_code ec;
      std::size_t n = c.sock.write_some(net::buffer(bytes.data(), bytes.size()), ec);
      if (ec == net::error::would_block || ec == net::error::try_again) {
        n = 0;
      } else if (ec) {
        return lost(c, "write: " + ec.message());
      }
      if (n == bytes.size()) return;
      bytes.remove_prefix(n);
    }
    c.out.append(bytes);
    arm_write(c);
  }

  void arm_write(Conn& c) {
    if (c.write_wait) return;
    c.write_wait = true;
    auto gen = c.gen;
    c.sock.async_wait(tcp::socket::wait_write, [this, &c, gen](boost::system::error_code ec) {
      if (gen != c.gen) return;
      c.write_wait = false;
      if (ec) return lost(c, "wait write: " + ec.message());
      std::string pending;
      pending.swap(c.out);
      send_raw(c, pending);
    });
  }

  void send_text(Conn& c, std::string_view payload) {
    frame_.clear();
    mask_ = mask_ * 1664525u + 1013904223u;
    parley::bench::append_client_frame(frame_, Opcode::text, payload, mask_);
    send_raw(c, frame_);
  }

  void feed(Conn& c, std::string_view data) {
    auto gen = c.gen;
    std::string held;
    if (c.state == State::upgrading) {
      c.in.append(data);
      auto end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (c.in.size() > 16384) lost(c, "HTTP response too large");
        return;
      }
      if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
        return lost(c, "upgrade refused: " + c.in.substr(0, c.in.find("\r\n")));
      }
      held = c.in.substr(end + 4);
      c.in.clear();
      c.state = State::opening;
      on_open(c);
      if (gen != c.gen) return;
      data = held;
    } else if (!c.in.empty()) {
      held.swap(c.in);
      held.append(data);
      data = held;
    }
    std::size_t at = 0;
    while (at < data.size()) {
      parley::bench::ServerFrame f;
      std::size_t used = 0;
      auto r = parley::bench::parse_server_frame(data.substr(at), f, used);
      if (r == parley::bench::ParseResult::incomplete) break;
      if (r == parley::bench::ParseResult::error) return lost(c, "bad frame");
      at += used;
      switch (f.opcode) {
        case 0x1:
        case 0x2:
          if (f.fin) {
            on_text(c, f.payload);
          } else {
            c.fragments.assign(f.payload);
          }
          break;
        case 0x0:
          c.fragments.append(f.payload);
          if (f.fin) {
            std::string whole;
            whole.swap(c.fragments);
            on_text(c, whole);
          }
          break;
        case 0x9:
          frame_.clear();
          parley::bench::append_client_frame(frame_, Opcode::pong, f.payload, mask_);
          send_raw(c, frame_);
          break;
        case 0x8: {
          std::uint16_t code = f.payload.size() >= 2
                                   ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(f.payload[0]) << 8) |
                                                                static_cast<std::uint8_t>(f.payload[1]))
                                   : 1005;
          return lost(c, "close " + std::to_string(code));
        }
        default:
          break;
      }
      if (gen != c.gen) return;
    }
    if (at < data.size()) c.in.assign(data.substr(at));
  }

  // ---------------------------------------------------------------- protocols

  const std::string& token_of(Conn& c) {
    if (c.token.empty()) {
      std::int64_t exp = static_cast<std::int64_t>(std::time(nullptr)) + 6 * 3600;
      std::string user = "u" + std::to_string(c.index);
      c.token = parley::server::sign_hs256(
          R"({"sub":")" + user + R"(","name":")" + user + R"(","exp":)" + std::to_string(exp) + "}", opt_.secret);
    }
    return c.token;
  }

  std::string room_id(const Conn& c) const { return "r" + std::to_string(c.room); }

  void on_open(Conn& c) {
    switch (opt_.proto) {
      case Proto::parley:
        send_text(c, R"({"type":"hello","ref":"h","v":1,"token":")" + token_of(c) + R"("})");
        break;
      case Proto::ws:
        send_join(c);
        break;
      case Proto::sio:
        break;  // the server speaks first: 0{...}
    }
  }

  void send_join(Conn& c) {
    c.state = State::joining;
    if (!opt_.join) return on_joined(c);  // --join 0: connected and authenticated is enough
    switch (opt_.proto) {
      case Proto::parley: {
        std::string join = R"({"type":"join","ref":"j","roomId":")" + room_id(c) + "\"";
        if (c.last_seq > 0) join += ",\"sinceSeq\":" + std::to_string(c.last_seq);
        send_text(c, join + "}");
        break;
      }
      case Proto::ws:
        send_text(c, R"({"type":"join","room":")" + room_id(c) + R"("})");
        break;
      case Proto::sio:
        send_text(c, R"(42["join",")" + room_id(c) + R"("])");
        break;
    }
  }

  void on_text(Conn& c, std::string_view m) {
    switch (opt_.proto) {
      case Proto::parley:
        return on_parley(c, m);
      case Proto::ws:
        return on_ws(c, m);
      case Proto::sio:
        return on_sio(c, m);
    }
  }

  void on_parley(Conn& c, std::string_view m) {
    if (m.rfind(R"({"type":"message")", 0) == 0) {
      auto body = after(m, R"("content":")");
      if (body != std::string_view::npos) delivered(c, m, body);
      auto seq_at = after(m, R"("seq":)");
      if (seq_at != std::string_view::npos) c.last_seq = std::max(c.last_seq, parse_int(m, seq_at));
    } else if (m.rfind(R"({"type":"ack")", 0) == 0) {
      auto ref = after(m, R"("ref":"s)");
      if (ref != std::string_view::npos && c.publisher) acked(publishers_[c.room], parse_int(m, ref));
    } else if (m.rfind(R"({"type":"welcome")", 0) == 0) {
      send_join(c);
    } else if (m.rfind(R"({"type":"joined")", 0) == 0) {
      // Replayed messages (a resume) count as deliveries.
      for (auto at = after(m, R"("content":")"); at != std::string_view::npos; at = after(m, R"("content":")", at)) {
        delivered(c, m, at, true);
      }
      auto head = after(m, R"("headSeq":)");
      if (head != std::string_view::npos) c.last_seq = parse_int(m, head);
      on_joined(c);
    } else if (m.rfind(R"({"type":"error")", 0) == 0) {
      ++errors_;
      if (errors_ <= 5)
        std::fprintf(stderr, "parley_loadgen: connection %u: %.*s\n", c.index,
                     static_cast<int>(std::min<std::size_t>(m.size(), 300)), m.data());
      if (c.state != State::joined) lost(c, "refused");
    }
  }

  void on_ws(Conn& c, std::string_view m) {
    if (m.rfind(R"({"type":"message")", 0) == 0) {
      auto body = after(m, R"("body":")");
      if (body != std::string_view::npos) delivered(c, m, body);
    } else if (m.rfind(R"({"type":"joined")", 0) == 0) {
      on_joined(c);
    }
  }

  void on_sio(Conn& c, std::string_view m) {
    if (m.rfind(R"(42["message")", 0) == 0) {
      auto body = after(m, R"("body":")");
      if (body != std::string_view::npos) delivered(c, m, body);
    } else if (m == "2") {
      send_text(c, "3");  // Engine.IO ping -> pong
    } else if (m.rfind(R"(42["joined")", 0) == 0) {
      on_joined(c);
    } else if (m.rfind("40", 0) == 0) {
      send_join(c);  // connected to the namespace
    } else if (m.rfind("0{", 0) == 0) {
      send_text(c, "40");  // Engine.IO open -> Socket.IO connect
    } else if (m.rfind("44", 0) == 0) {
      ++errors_;
      lost(c, "socket.io connect_error");
    }
  }

  void on_joined(Conn& c) {
    if (c.state == State::joined) return;
    c.state = State::joined;
    ++joined_;
    std::int64_t now = now_ns();
    c.joined_at = now;
    if (c.setup_counted) {
      c.setup_counted = false;
      --setup_in_flight_;
      start_more();
    }
    if (first_loss_ns_ >= 0 && c.rejoined_at < 0) {
      c.rejoined_at = now;
      rejoin_times_.push_back(now - first_loss_ns_);
    }
    if (c.publisher) flush_pending(publishers_[c.room]);
  }

  // ---------------------------------------------------------------- publishing

  void generate(Publisher& p, std::int64_t now) {
    ++generated_;
    std::uint32_t n = p.next++;
    p.pending.emplace_back(n, now);
    if (p.committed.size() <= n) p.committed.resize(n + 1024);
    ++phase_sent_;
    if (p.conn->state != State::joined) return;
    write_message(p, n, now);
    if (opt_.proto != Proto::parley) commit(p, n);
  }

  void write_message(Publisher& p, std::uint32_t n, std::int64_t sent) {
    Conn& c = *p.conn;
    std::string body = make_body(sent, c.room, n);
    switch (opt_.proto) {
      case Proto::parley: {
        char id[40];
        std::snprintf(id, sizeof id, "b%u_%08u", c.room, n);
        send_text(c, R"({"type":"send","ref":"s)" + std::to_string(n) + R"(","roomId":")" + room_id(c) +
                         R"(","clientMsgId":")" + id + R"(","message":{"type":"text","content":")" + body + R"("}})");
        break;
      }
      case Proto::ws:
        send_text(c, R"({"type":"publish","room":")" + room_id(c) + R"(","body":")" + body + R"("})");
        break;
      case Proto::sio:
        send_text(c, R"(42["publish",{"room":")" + room_id(c) + R"(","body":")" + body + R"("}])");
        break;
    }
  }

  void commit(Publisher& p, std::uint32_t n) {
    if (p.committed.size() <= n) p.committed.resize(n + 1024);
    if (!p.committed[n]) {
      p.committed[n] = true;
      ++p.committed_count;
    }
    // Peers: written means committed; pending holds only what is unsent.
    while (!p.pending.empty() && p.committed[p.pending.front().first]) p.pending.pop_front();
  }

  void acked(Publisher& p, std::int64_t n) {
    if (n < 0) return;
    commit(p, static_cast<std::uint32_t>(n));
  }

  // After a (re)join: Parley resends everything not acked (same clientMsgId:
  // the server deduplicates); the peers send what was never written.
  void flush_pending(Publisher& p) {
    std::vector<std::pair<std::uint32_t, std::int64_t>> todo(p.pending.begin(), p.pending.end());
    for (auto& [n, sent] : todo) {
      if (p.conn->state != State::joined) return;
      if (n < p.committed.size() && p.committed[n]) continue;
      write_message(p, n, sent);
      if (opt_.proto != Proto::parley) commit(p, n);
    }
  }

  // ---------------------------------------------------------------- receiving

  void delivered(Conn& c, std::string_view m, std::size_t body_at, bool replay = false) {
    Body b;
    if (!parse_body(m, body_at, b)) return;
    ++phase_received_;
    if (track_seen_) {
      auto n = static_cast<std::size_t>(b.number);
      if (c.seen.size() <= n) c.seen.resize(n + 1024);
      if (c.seen[n]) {
        ++duplicates_;
      } else {
        c.seen[n] = true;
      }
    }
    if (replay) {
      ++replayed_;
      return;
    }
    std::int64_t now = recv_now_;
    if (now >= win_start_ && now < win_end_) ++win_received_;
    bool sample =
        lat_by_recv_ ? (now >= win_start_ && now < win_end_) : (b.sent_ns >= win_start_ && b.sent_ns < win_end_);
    if (sample) {
      auto us = static_cast<std::uint32_t>(std::clamp<std::int64_t>((now - b.sent_ns) / 1000, 0, UINT32_MAX));
      latencies_.push_back(us);
      max_latency_us_ = std::max(max_latency_us_, us);
    }
  }

  // ---------------------------------------------------------------- setup

  void start_more() {
    while (setup_in_flight_ < opt_.inflight && setup_next_ < conns_.size()) {
      Conn& c = *conns_[setup_next_++];
      c.setup_counted = true;
      ++setup_in_flight_;
      start_connect(c);
    }
  }

  net::awaitable<double> establish() {
    std::int64_t started = now_ns();
    start_more();
    std::size_t total = conns_.size();
    std::size_t last_report = 0;
    bool ok = co_await wait_until(
        [&] {
          if (static_cast<std::size_t>(joined_) >= last_report + 2000) {
            last_report = static_cast<std::size_t>(joined_);
            std::fprintf(stderr, "parley_loadgen: %zu/%zu joined\n", last_report, total);
          }
          return static_cast<std::size_t>(joined_) == total;
        },
        opt_.setup_timeout_s);
    if (!ok) {
      die("only " + std::to_string(joined_) + " of " + std::to_string(total) + " connections joined within " +
          std::to_string(static_cast<int>(opt_.setup_timeout_s)) + " s");
    }
    co_return static_cast<double>(now_ns() - started) / 1e9;
  }

  // ---------------------------------------------------------------- measuring

  struct Window {
    std::int64_t start;
    double cpu0, own0;
    ProcSample server0;
    ProcSample softirq0;
    CoreTimes cores0;
  };

  Window open_window() {
    latencies_.clear();
    max_latency_us_ = 0;
    win_received_ = 0;
    Window w{now_ns(), 0, own_cpu_s(), sample_proc(opt_.server_pid), sample_proc(softirq_pid_), sample_cores()};
    win_start_ = w.start;
    win_end_ = INT64_MAX;
    return w;
  }

  // Closes the window and fills the common figures.
  Json close_window(const Window& w, double offered_msgs) {
    std::int64_t end = now_ns();
    win_end_ = end;
    ProcSample server1 = sample_proc(opt_.server_pid);
    ProcSample softirq1 = sample_proc(softirq_pid_);
    double own1 = own_cpu_s();
    double seconds = static_cast<double>(end - w.start) / 1e9;
    double deliveries = static_cast<double>(win_received_);
    Json j;
    j.num("rate_msgs", offered_msgs)
        .num("offered_deliveries_per_s", offered_msgs * opt_.per_room)
        .num("window_s", seconds)
        .num("deliveries_per_s", deliveries / seconds)
        .num("loadgen_cpu_frac", (own1 - w.own0) / seconds);
    if (server1.cpu_s >= 0 && w.server0.cpu_s >= 0) {
      double cpu = server1.cpu_s - w.server0.cpu_s;
      j.num("server_cpu_frac", cpu / seconds)
          .num("server_cpu_us_per_delivery", deliveries > 0 ? cpu * 1e6 / deliveries : -1);
    }
    if (softirq1.cpu_s >= 0 && w.softirq0.cpu_s >= 0) {
      double cpu = softirq1.cpu_s - w.softirq0.cpu_s;
      j.num("ksoftirqd0_cpu_frac", cpu / seconds)
          .num("ksoftirqd0_us_per_delivery", deliveries > 0 ? cpu * 1e6 / deliveries : -1);
    }
    if (server1.rss_kb >= 0) j.integer("server_rss_kb", server1.rss_kb);
    // Everything else that ran on the two cores (other builds on a shared machine):
    // core 0's busy time less the server's, core 1's less the load generator's.
    CoreTimes cores1 = sample_cores();
    if (cores1.busy[0] >= 0 && w.cores0.busy[0] >= 0) {
      double server_cpu = server1.cpu_s >= 0 && w.server0.cpu_s >= 0 ? server1.cpu_s - w.server0.cpu_s : 0;
      j.num("core0_others_frac", std::max(0.0, cores1.busy[0] - w.cores0.busy[0] - server_cpu) / seconds)
          .num("core1_others_frac", std::max(0.0, cores1.busy[1] - w.cores0.busy[1] - (own1 - w.own0)) / seconds)
          .num("steal_frac", (cores1.steal[0] - w.cores0.steal[0] + cores1.steal[1] - w.cores0.steal[1]) / seconds);
    }
    return j;
  }

  Json latency_figures(Json j) {
    j.num("p50_ms", percentile(latencies_, 0.50))
        .num("p99_ms", percentile(latencies_, 0.99))
        .num("max_ms", max_latency_us_ / 1000.0)
        .integer("latency_samples", static_cast<std::int64_t>(latencies_.size()));
    return j;
  }

  void reset_phase() {
    phase_sent_ = 0;
    phase_received_ = 0;
  }

  std::uint64_t expected() const { return phase_sent_ * static_cast<std::uint64_t>(opt_.per_room); }

  // ---------------------------------------------------------------- scenarios

  net::awaitable<void> fanout() {
    double setup = co_await establish();
    std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
    co_await sleep_s(0.5);
    for (double rate : opt_.rates) {
      reset_phase();
      std::uint64_t errors0 = errors_, disc0 = disconnects_;
      win_start_ = INT64_MAX;
      set_rate(rate);
      co_await sleep_s(opt_.warmup_s);
      Window w = open_window();
      co_await sleep_s(opt_.window_s);
      Json j = close_window(w, rate);
      set_rate(0);
      std::int64_t drain_start = now_ns();
      co_await wait_until([&] { return phase_received_ >= expected(); }, opt_.drain_s);
      double drain_s = static_cast<double>(now_ns() - drain_start) / 1e9;
      std::uint64_t exp = expected();
      j = latency_figures(std::move(j));
      j.integer("sent", static_cast<std::int64_t>(phase_sent_))
          .integer("expected", static_cast<std::int64_t>(exp))
          .integer("received", static_cast<std::int64_t>(phase_received_))
          .integer("lost", static_cast<std::int64_t>(exp > phase_received_ ? exp - phase_received_ : 0))
          .num("drain_s", drain_s)
          .integer("errors", static_cast<std::int64_t>(errors_ - errors0))
          .integer("disconnects", static_cast<std::int64_t>(disconnects_ - disc0))
          .integer("connections", static_cast<std::int64_t>(conns_.size()))
          .num("setup_s", setup);
      emit(Json().str("scenario", "fanout").raw("result", j.done()).done());
      co_await sleep_s(0.3);
    }
  }

  net::awaitable<void> saturation() {
    double setup = co_await establish();
    std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
    co_await sleep_s(0.5);
    lat_by_recv_ = true;
    reset_phase();
    std::vector<std::string> steps;
    double best = 0, best_rate = 0, best_loadgen = 0, fail_loadgen = 0;
    bool failed = false;
    std::string why;
    // A step that falls behind is tried once more after the backlog drained
    // (a shared machine has hiccups); a second failure ends the ladder.
    bool retried = false;
    for (double rate = opt_.start_rate; rate <= opt_.max_rate;) {
      std::uint64_t disc0 = disconnects_;
      set_rate(rate);
      co_await sleep_s(opt_.step_warmup_s);
      Window w = open_window();
      co_await sleep_s(opt_.step_s);
      Json j = latency_figures(close_window(w, rate));
      double seconds = static_cast<double>(win_end_ - w.start) / 1e9;
      double got = static_cast<double>(win_received_) / seconds;
      double offered = rate * opt_.per_room;
      double own = (own_cpu_s() - w.own0) / seconds;
      double p99 = percentile(latencies_, 0.99);
      bool kept_up = got >= 0.95 * offered && p99 >= 0 && p99 < opt_.max_p99_ms && disconnects_ == disc0;
      j.boolean("kept_up", kept_up).boolean("retry", retried);
      steps.push_back(j.done());
      std::fprintf(stderr,
                   "parley_loadgen: step %.0f msgs/s: %.0f deliveries/s of %.0f, p99 %.1f ms, loadgen %.2f core%s\n",
                   rate, got, offered, p99, own, kept_up ? "" : "  <- fell behind");
      if (!kept_up && !retried) {
        retried = true;
        set_rate(0);
        co_await wait_until([&] { return phase_received_ >= expected(); }, opt_.drain_s);
        co_await sleep_s(0.2);
        continue;
      }
      if (!kept_up) {
        failed = true;
        fail_loadgen = own;
        why = got < 0.95 * offered    ? "deliveries below 95% of offered"
              : disconnects_ != disc0 ? "disconnects"
                                      : "p99 at or above " + std::to_string(static_cast<int>(opt_.max_p99_ms)) + " ms";
        break;
      }
      if (got > best) {
        best = got;
        best_rate = rate;
        best_loadgen = own;
      }
      retried = false;
      rate *= opt_.factor;
    }
    set_rate(0);
    co_await wait_until([&] { return phase_received_ >= expected(); }, opt_.drain_s);
    std::string list = "[";
    for (std::size_t i = 0; i < steps.size(); ++i) list += (i ? "," : "") + steps[i];
    list += "]";
    bool lower_bound = best_loadgen > 0.9 || fail_loadgen > 0.9 || !failed;
    Json j;
    j.num("best_deliveries_per_s", best)
        .num("best_rate_msgs", best_rate)
        .num("best_loadgen_cpu_frac", best_loadgen)
        .num("fail_loadgen_cpu_frac", fail_loadgen)
        .boolean("reached_limit", failed)
        .str("stopped_because", failed ? why : "max rate reached")
        .boolean("lower_bound", lower_bound)
        .integer("sent", static_cast<std::int64_t>(phase_sent_))
        .integer("received", static_cast<std::int64_t>(phase_received_))
        .integer("expected", static_cast<std::int64_t>(expected()))
        .integer("disconnects", static_cast<std::int64_t>(disconnects_))
        .integer("errors", static_cast<std::int64_t>(errors_))
        .raw("steps", list);
    emit(Json().str("scenario", "saturation").raw("result", j.done()).done());
  }

  net::awaitable<void> idle() {
    ProcSample before = sample_proc(opt_.server_pid);
    double own0 = own_cpu_s();
    double setup = co_await establish();
    double own_setup = own_cpu_s() - own0;
    std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
    ProcSample at_setup = sample_proc(opt_.server_pid);
    co_await sleep_s(opt_.settle_s);
    ProcSample after_settle = sample_proc(opt_.server_pid);
    auto n = static_cast<double>(conns_.size());
    Json j;
    j.integer("connections", static_cast<std::int64_t>(conns_.size()))
        .integer("rooms", opt_.rooms)
        .num("establish_s", setup)
        .num("connections_per_s", n / setup)
        .num("loadgen_cpu_frac", own_setup / setup)
        .integer("server_rss_before_kb", before.rss_kb)
        .integer("server_rss_after_kb", after_settle.rss_kb)
        .num("server_rss_per_conn_bytes", static_cast<double>(after_settle.rss_kb - before.rss_kb) * 1024.0 / n)
        .num("server_cpu_setup_s", at_setup.cpu_s - before.cpu_s)
        .num("server_cpu_us_per_conn", (at_setup.cpu_s - before.cpu_s) * 1e6 / n)
        .integer("disconnects", static_cast<std::int64_t>(disconnects_))
        .integer("errors", static_cast<std::int64_t>(errors_));
    emit(Json().str("scenario", "idle").raw("result", j.done()).done());
  }

  net::awaitable<void> storm() {
    track_seen_ = true;
    double setup = co_await establish();
    std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
    set_rate(opt_.storm_rate);
    co_await sleep_s(1.0);
    track_losses_ = true;
    track_attempts_ = true;
    emit(R"({"event":"ready"})");
    if (!co_await wait_until([&] { return first_loss_ns_ >= 0; }, 20))
      die("the server was not restarted (no connection lost)");
    std::size_t total = conns_.size();
    auto all_back = [&] { return rejoin_times_.size() >= total; };
    bool complete = co_await wait_until(all_back, opt_.storm_timeout_s);
    std::int64_t back_all_ns = now_ns() - first_loss_ns_;
    co_await sleep_s(1.0);  // keep publishing on the restored connections
    set_rate(0);
    co_await wait_until(
        [&] {
          for (auto& p : publishers_) {
            if (!p.pending.empty()) return false;
          }
          return true;
        },
        opt_.drain_s);
    // Then every member should have every committed message of its room.
    co_await wait_until([&] { return missing() == 0; }, opt_.drain_s, 0.1);

    std::vector<std::int64_t> back = rejoin_times_;
    std::sort(back.begin(), back.end());
    auto at_fraction = [&](double f) -> double {
      auto need = static_cast<std::size_t>(std::ceil(f * static_cast<double>(total)));
      if (need == 0 || back.size() < need) return -1;
      return static_cast<double>(back[need - 1]) / 1e6;
    };
    // Reconnect attempts per 100 ms bucket from the first loss to the last attempt;
    // the herd rule looks at the buckets until 99 % were back.
    std::vector<std::int64_t> buckets;
    for (std::int64_t t : attempts_) {
      if (t < first_loss_ns_) continue;
      auto b = static_cast<std::size_t>((t - first_loss_ns_) / 100'000'000);
      if (buckets.size() <= b) buckets.resize(b + 1, 0);
      ++buckets[b];
    }
    std::int64_t attempts = 0, peak = 0;
    for (auto b : buckets) {
      attempts += b;
      peak = std::max(peak, b);
    }
    double mean = buckets.empty() ? 0 : static_cast<double>(attempts) / static_cast<double>(buckets.size());
    double back99 = at_fraction(0.99);
    std::size_t storm_buckets =
        back99 < 0 ? buckets.size() : std::min(buckets.size(), static_cast<std::size_t>(std::ceil(back99 / 100.0)));
    std::int64_t storm_attempts = 0, storm_peak = 0;
    for (std::size_t i = 0; i < storm_buckets; ++i) {
      storm_attempts += buckets[i];
      storm_peak = std::max(storm_peak, buckets[i]);
    }
    double storm_mean = storm_buckets ? static_cast<double>(storm_attempts) / static_cast<double>(storm_buckets) : 0;
    std::string list = "[";
    for (std::size_t i = 0; i < buckets.size(); ++i) list += (i ? "," : "") + std::to_string(buckets[i]);
    list += "]";
    std::uint64_t committed = 0, unsent = 0;
    for (auto& p : publishers_) {
      committed += p.committed_count;
      unsent += p.pending.size();
    }
    Json j;
    j.integer("connections", static_cast<std::int64_t>(total))
        .integer("rooms", opt_.rooms)
        .num("setup_s", setup)
        .num("back_50_ms", at_fraction(0.50))
        .num("back_99_ms", at_fraction(0.99))
        .num("back_all_ms", complete ? static_cast<double>(back_all_ns) / 1e6 : -1)
        .integer("back", static_cast<std::int64_t>(back.size()))
        .integer("attempts", attempts)
        .num("bucket_mean", mean)
        .integer("bucket_max", peak)
        .num("bucket_max_over_mean", mean > 0 ? static_cast<double>(peak) / mean : -1)
        .integer("storm_buckets", static_cast<std::int64_t>(storm_buckets))
        .num("storm_bucket_mean", storm_mean)
        .num("storm_bucket_max_over_mean", storm_mean > 0 ? static_cast<double>(storm_peak) / storm_mean : -1)
        .raw("attempts_per_100ms", list)
        .integer("messages_committed", static_cast<std::int64_t>(committed))
        .integer("messages_unsent", static_cast<std::int64_t>(unsent))
        .integer("lost", static_cast<std::int64_t>(missing()))
        .integer("replayed", static_cast<std::int64_t>(replayed_))
        .integer("duplicates", static_cast<std::int64_t>(duplicates_))
        .integer("errors", static_cast<std::int64_t>(errors_));
    emit(Json().str("scenario", "storm").raw("result", j.done()).done());
  }

  // Storm: committed messages that some member of the room has not received.
  std::uint64_t missing() const {
    std::uint64_t lost = 0;
    for (const auto& c : conns_) {
      const Publisher& p = publishers_[c->room];
      for (std::uint32_t n = 0; n < p.next; ++n) {
        if (n < p.committed.size() && p.committed[n] && (n >= c->seen.size() || !c->seen[n])) ++lost;
      }
    }
    return lost;
  }

  Options opt_;
  int softirq_pid_ = ksoftirqd0_pid();
  net::io_context io_{1};
  tcp::endpoint endpoint_;
  std::vector<net::ip::address_v4> sources_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Publisher> publishers_;
  std::vector<char> rbuf_;
  std::string frame_;
  std::uint32_t mask_ = 0x12345678;
  std::mt19937_64 rng_;
  std::priority_queue<Retry, std::vector<Retry>, std::greater<>> retries_;

  int setup_in_flight_ = 0;
  std::size_t setup_next_ = 0;
  int joined_ = 0;
  bool stopping_ = false;

  double rate_ = 0;
  std::int64_t pace_origin_ = 0;
  std::uint64_t pace_base_ = 0;
  std::uint64_t generated_ = 0;
  std::size_t pub_rr_ = 0;

  std::int64_t recv_now_ = 0;
  std::int64_t win_start_ = INT64_MAX, win_end_ = INT64_MAX;
  bool lat_by_recv_ = false;
  std::vector<std::uint32_t> latencies_;
  std::uint32_t max_latency_us_ = 0;
  std::uint64_t win_received_ = 0;
  std::uint64_t phase_sent_ = 0, phase_received_ = 0;
  std::uint64_t errors_ = 0, disconnects_ = 0, duplicates_ = 0, replayed_ = 0;

  bool track_seen_ = false, track_losses_ = false, track_attempts_ = false;
  std::int64_t first_loss_ns_ = -1;
  std::vector<std::int64_t> rejoin_times_;
  std::vector<std::int64_t> attempts_;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_options(argc, argv);
  // Enough descriptors for every connection.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  LoadGen gen(std::move(opt));
  return gen.run();
}
