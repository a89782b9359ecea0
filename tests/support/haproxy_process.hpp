// A real HAProxy in front of parleyd nodes, owned by a test: round robin, no
// stickiness, health checks on /healthz every 200 ms, WebSocket tunnels, as
// scripts/cluster.sh runs it. Started with `haproxy -f <cfg> -db` in a fresh
// folder; stopped (and the folder removed) with the object. A missing
// haproxy binary fails the test with the reason, never a skip.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/parleyd_process.hpp"

namespace parley::test {

class HaproxyProcess {
 public:
  // Balances over the nodes listening on `backend_ports` (127.0.0.1); waits
  // until it answers /healthz through every one of them. Throws
  // std::runtime_error when it cannot run.
  explicit HaproxyProcess(const std::vector<std::uint16_t>& backend_ports);
  ~HaproxyProcess();
  HaproxyProcess(const HaproxyProcess&) = delete;
  HaproxyProcess& operator=(const HaproxyProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string log() const;

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace parley::test
