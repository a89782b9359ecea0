// The load generator: its connections, publishers and the LoadGen class that drives them. The members are defined
// in load_gen.cpp (running, timing, sockets and WebSocket frames), protocols.cpp (the three protocol adapters,
// publishing, receiving) and scenarios.cpp (setup, measuring windows, the scenarios).
#pragma once

#include <boost/asio.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "options.hpp"
#include "proc_stats.hpp"
#include "results.hpp"

namespace parley::loadgen {

namespace net = boost::asio;
using tcp = net::ip::tcp;

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
  explicit LoadGen(Options o);

  // Runs the scenario of the options to its end (results on stdout); 0, or exits through die().
  int run();

 private:
  // ---------------------------------------------------------------- timing (load_gen.cpp)

  net::awaitable<void> sleep_s(double seconds);
  net::awaitable<bool> wait_until(const std::function<bool()>& done, double timeout_s, double poll_s = 0.002);
  net::awaitable<void> ticker();
  void set_rate(double messages_per_s);
  void pump(std::int64_t now);

  // ---------------------------------------------------------------- connections (load_gen.cpp)

  void start_connect(Conn& c);
  std::string path() const;
  void lost(Conn& c, const std::string& why);
  void arm_read(Conn& c);
  void on_readable(Conn& c);
  void send_raw(Conn& c, std::string_view bytes);
  void arm_write(Conn& c);
  void send_text(Conn& c, std::string_view payload);
  void feed(Conn& c, std::string_view data);

  // ---------------------------------------------------------------- protocols (protocols.cpp)

  const std::string& token_of(Conn& c);
  std::string room_id(const Conn& c) const { return "r" + std::to_string(c.room); }
  void on_open(Conn& c);
  void send_join(Conn& c);
  void on_text(Conn& c, std::string_view m);
  void on_parley(Conn& c, std::string_view m);
  void on_ws(Conn& c, std::string_view m);
  void on_sio(Conn& c, std::string_view m);
  void on_joined(Conn& c);

  // ---------------------------------------------------------------- publishing (protocols.cpp)

  void generate(Publisher& p, std::int64_t now);
  void write_message(Publisher& p, std::uint32_t n, std::int64_t sent);
  void commit(Publisher& p, std::uint32_t n);
  void acked(Publisher& p, std::int64_t n);
  void flush_pending(Publisher& p);

  // ---------------------------------------------------------------- receiving (protocols.cpp)

  void delivered(Conn& c, std::string_view m, std::size_t body_at, bool replay = false);

  // ---------------------------------------------------------------- setup (scenarios.cpp)

  void start_more();
  net::awaitable<double> establish();

  // ---------------------------------------------------------------- measuring (scenarios.cpp)

  struct Window {
    std::int64_t start;
    double cpu0, own0;
    ProcSample server0;
    ProcSample softirq0;
    CoreTimes cores0;
  };

  Window open_window();
  Json close_window(const Window& w, double offered_msgs);
  Json latency_figures(Json j);
  void reset_phase();
  std::uint64_t expected() const { return phase_sent_ * static_cast<std::uint64_t>(opt_.per_room); }

  // ---------------------------------------------------------------- scenarios (scenarios.cpp)

  net::awaitable<void> fanout();
  net::awaitable<void> saturation();
  net::awaitable<void> idle();
  net::awaitable<void> storm();
  net::awaitable<void> soak();
  std::uint64_t missing() const;

  // ---------------------------------------------------------------- state

  Options opt_;
  int softirq_pid_ = ksoftirqd0_pid();
  net::io_context io_{1};
  tcp::endpoint endpoint_;
  tcp::endpoint publisher_endpoint_;
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

}  // namespace parley::loadgen
