// The cluster bus in process, for tests of the hubs' side of it: nodes
// (InProcessServers) publish into one broker, and the test decides when
// events arrive, which are lost, when watches are confirmed and which nodes
// are alive. What Redis does is tested against a real redis-server
// (redis_connection_test, cluster_test).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/room_bus.hpp"
#include "support/in_process.hpp"

namespace parley::test {

class FakeBroker;

class FakeBus : public server::RoomBus {
 public:
  FakeBus(FakeBroker& broker, std::string node) : broker_(broker), node_(std::move(node)) {}
  const std::string& node() const override { return node_; }
  bool up() const override;
  bool alive(const std::string& node) const override;
  void publish(const std::string& channel, std::string event) override;
  void watch(const std::string& channel) override;
  void unwatch(const std::string& channel) override;
  void store_presence(const std::string& channel, const server::Contribution& c) override;
  std::vector<server::Contribution> stored_presence(const std::string& channel) override;

  std::set<std::string> watched;
  std::set<std::string> unconfirmed;  // watched, not yet confirmed

 private:
  FakeBroker& broker_;
  std::string node_;
};

class FakeBroker {
 public:
  // A node on the broker, serving on `server` (whose tenants receive events).
  void attach(FakeBus& bus, InProcessServer& server) { nodes_.push_back({&bus, &server}); }

  // Hands every published event to the nodes watching its channel (all but
  // its publisher), in order; returns how many were handed over.
  int deliver();
  // The next `n` published events are lost.
  void lose_next(int n) { lose_ += n; }
  // Confirms pending watches: each node resyncs those rooms.
  void confirm_watches();

  bool up = true;
  std::set<std::string> dead;                                                 // nodes alive() says are gone
  std::map<std::string, std::map<std::string, server::Contribution>> stored;  // channel -> node/user -> word

 private:
  friend class FakeBus;
  struct Node {
    FakeBus* bus;
    InProcessServer* server;
  };
  struct Published {
    std::string channel;
    std::string event;
  };
  std::vector<Node> nodes_;
  std::deque<Published> queue_;
  int lose_ = 0;
};

}  // namespace parley::test
