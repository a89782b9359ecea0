#include "support/haproxy_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/child_process.hpp"
#include "support/ws_client.hpp"

namespace parley::test {

namespace {

constexpr const char* kHaproxy = "/usr/sbin/haproxy";

}  // namespace

HaproxyProcess::HaproxyProcess(const std::vector<std::uint16_t>& backend_ports) {
  if (::access(kHaproxy, X_OK) != 0) {
    throw std::runtime_error(std::string(kHaproxy) + " is missing: apt-get install haproxy (make setup installs it)");
  }
  port_ = free_loopback_port();
  std::ostringstream cfg;
  cfg << "global\n    maxconn 2000\n"
      << "defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n    timeout server 60s\n"
      << "    timeout tunnel 1h\n    option http-server-close\n"
      << "frontend parley\n    bind 127.0.0.1:" << port_ << "\n    default_backend nodes\n"
      << "backend nodes\n    balance roundrobin\n    option httpchk GET /healthz\n"
      << "    retry-on conn-failure empty-response\n    retries 3\n    option redispatch\n";
  for (std::size_t i = 0; i < backend_ports.size(); ++i) {
    cfg << "    server node" << i << " 127.0.0.1:" << backend_ports[i] << " check inter 200ms fall 2 rise 1\n";
  }
  std::string path = dir_.path() + "/haproxy.cfg";
  std::ofstream(path) << cfg.str();
  pid_ = spawn_child({kHaproxy, "-f", path, "-db"}, dir_.path() + "/haproxy.log");
  // Ready when /healthz has come back through every node (round robin).
  std::set<std::string> nodes;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (nodes.size() < backend_ports.size()) {
    if (std::chrono::steady_clock::now() > deadline || ::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      throw std::runtime_error("haproxy did not come up through every node:\n" + this->log());
    }
    std::string answer;
    try {
      answer = http_get(port_, "/healthz");
    } catch (const std::exception&) {
      // not listening yet
    }
    auto at = answer.find("\"node\":\"");
    if (answer.rfind("200", 0) == 0 && at != std::string::npos) {
      nodes.insert(answer.substr(at + 8, answer.find('"', at + 8) - at - 8));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling until it answers
    }
  }
}

HaproxyProcess::~HaproxyProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string HaproxyProcess::log() const {
  std::ifstream in(dir_.path() + "/haproxy.log");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace parley::test
