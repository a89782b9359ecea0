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
//
// Files: options (command line), load_gen (the LoadGen class; its members are
// in load_gen.cpp, protocols.cpp and scenarios.cpp), body (message bodies),
// proc_stats (clocks and /proc), results (JSON result lines), client_frame
// (WebSocket client framing).
#include <sys/resource.h>

#include <utility>

#include "load_gen.hpp"
#include "options.hpp"

int main(int argc, char** argv) {
  parley::loadgen::Options opt = parley::loadgen::parse_options(argc, argv);
  // Enough descriptors for every connection.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  parley::loadgen::LoadGen gen(std::move(opt));
  return gen.run();
}
