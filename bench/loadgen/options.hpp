// Command-line options of the load generator (--help lists them) and their parser.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace parley::loadgen {

enum class Proto : std::uint8_t { parley, ws, sio };

struct Options {
  std::string scenario = "fanout";
  Proto proto = Proto::parley;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  int server_pid = 0;
  // Processes whose CPU (with their children's) counts as the server's: the
  // database a parleyd stores in (PostgreSQL's postmaster and its backends),
  // and in a cluster the other nodes and Redis. --server-tree, repeated.
  std::vector<int> server_tree_pids;
  // Where the publishers connect, when not --port: a sender on one node of a
  // cluster, its room's members on another.
  std::uint16_t publisher_port = 0;
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
  double duration_s = 600;     // soak: how long the light traffic runs
  double soak_rate = 20;       // soak: messages per second over all rooms
  double churn_per_s = 5;      // soak: connections dropped (and resumed) per second
  double sample_every_s = 10;  // soak: server RSS sampling period
  int sources = 4;
  bool join = true;
  int inflight = 256;
  double setup_timeout_s = 120;
};

// "200,1000" -> {200, 1000}.
std::vector<double> parse_list(const std::string& s);

// Parses argv; --help prints the usage and exits 0, a bad option dies (exit 2).
Options parse_options(int argc, char** argv);

}  // namespace parley::loadgen
