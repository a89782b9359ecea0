#include "options.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "results.hpp"

namespace parley::loadgen {

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
    } else if (a == "--server-tree") {
      o.server_tree_pids.push_back(std::stoi(value()));
    } else if (a == "--publisher-port") {
      o.publisher_port = static_cast<std::uint16_t>(std::stoi(value()));
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
    } else if (a == "--duration") {
      o.duration_s = std::stod(value());
    } else if (a == "--soak-rate") {
      o.soak_rate = std::stod(value());
    } else if (a == "--churn") {
      o.churn_per_s = std::stod(value());
    } else if (a == "--sample-every") {
      o.sample_every_s = std::stod(value());
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
          "parley_loadgen --scenario fanout|saturation|idle|storm|soak --proto parley|ws|sio --port N\n"
          "  [--server-pid P] [--server-tree P]... [--publisher-port P] [--secret S] [--rooms 10] [--per-room 100] "
          "[--connections N]\n"
          "  fanout:     [--rates 200,1000] [--warmup 1] [--window 5] [--drain 5]   (messages/s)\n"
          "  saturation: [--start-rate 200] [--factor 1.25] [--max-rate 100000] [--step 2] [--step-warmup 0.5] "
          "[--max-p99 500]\n"
          "  idle:       [--connections 10000] [--settle 2]\n"
          "  storm:      [--connections 2000] [--storm-rate 200] [--storm-timeout 40]\n"
          "  soak:       [--connections 10000] [--duration 600] [--soak-rate 20] [--churn 5] [--sample-every 10]\n"
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

}  // namespace parley::loadgen
