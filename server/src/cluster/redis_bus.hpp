// The cluster bus on Redis (issue 15): parleyd nodes sharing one storage
// tell each other what happens in their rooms through Redis pub/sub, one
// channel per room, and each node hears only the rooms it holds in memory:
// a message crosses the bus once per node, not once per subscriber.
//
// Redis pub/sub is at-most-once, so nothing depends on it for what storage
// holds: a node that sees a gap in a room's seq, or was cut from Redis,
// reads storage (hub_cluster.cpp). What only the bus carries (typing,
// presence) is restored when it is back: presence words are also stored in
// Redis, for nodes loading a room and after an outage.
//
// Two connections (redis_connection.hpp): one for commands, one subscribed.
// Both run on the bus's own thread; nothing here blocks an I/O thread. Every
// node publishes a heartbeat each second on kNodesChannel and keeps a key
// p:alive:<node> that expires with it: a node silent for kNodeTimeout is
// gone, and its presence words with it.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bus/redis_connection.hpp"
#include "cluster/bus_events.hpp"
#include "cluster/room_bus.hpp"
#include "cluster/shared_limits.hpp"

namespace parley::server {

class RedisBus : public RoomBus, public SharedLimits {
 public:
  static constexpr std::chrono::milliseconds kHeartbeat{1000};
  static constexpr std::chrono::milliseconds kNodeTimeout{5000};

  struct Handlers {
    // On the bus thread; they hand the work to the storage threads.
    std::function<void(const std::string& channel, std::string event)> room_event;
    std::function<void(const std::string& channel)> room_heard;  // a watch confirmed
    std::function<void(const NodeEvent& event)> announcement;
    // This node's figures for its heartbeat, as a JSON object; cheap and
    // in memory only (it runs on the bus thread).
    std::function<std::string()> stats;
  };

  // Throws std::invalid_argument for a URL that is not Redis's.
  RedisBus(const std::string& url, Handlers handlers);
  ~RedisBus() override;

  void start();
  // Says goodbye (best effort) and stops the thread; publishes after it are dropped.
  void stop();

  // RoomBus
  const std::string& node() const override { return node_; }
  bool up() const override;
  bool alive(const std::string& node) const override;
  void publish(const std::string& channel, std::string event) override;
  void watch(const std::string& channel) override;
  void unwatch(const std::string& channel) override;
  void store_presence(const std::string& channel, const Contribution& c) override;
  std::vector<Contribution> stored_presence(const std::string& channel) override;

  // SharedLimits (keys under p:conn: and p:rate:)
  std::optional<bool> add_connection(const std::string& key, std::uint32_t max) override;
  void remove_connection(const std::string& key) override;
  std::optional<std::int64_t> take(const std::string& key, double per_second, double burst) override;

  // The admin API's announcement, for every other node.
  void announce(NodeEvent event);

  struct Peer {
    std::string node;
    std::string stats;  // its last heartbeat's JSON
    std::int64_t heard_ms_ago = 0;
  };
  // The live nodes heard from, this one first.
  std::vector<Peer> nodes() const;
  std::string describe() const { return address_; }
  std::string metrics_text() const;

 private:
  // A script with one key, by its SHA1 (storage threads only: it waits).
  redis::Reply eval(const char* script, std::vector<std::string> key_and_args, std::chrono::milliseconds timeout);
  void on_message(const std::string& channel, const std::string& payload);
  void on_node_event(const NodeEvent& event);
  void beat();
  void schedule_beat();
  std::int64_t steady_ms() const;

  std::string node_;
  std::string address_;  // for logs, without a password
  Handlers handlers_;
  boost::asio::io_context ioc_;
  std::unique_ptr<redis::Connection> commands_;
  std::unique_ptr<redis::Connection> subscriber_;
  boost::asio::steady_timer beat_timer_;
  std::thread thread_;
  std::atomic<bool> running_{false};

  mutable std::mutex mutex_;  // heard_
  struct Heard {
    std::int64_t at_ms = 0;
    std::string stats;
  };
  mutable std::map<std::string, Heard> heard_;  // alive() records nodes it meets

  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> outages_{0};
  std::atomic<std::int64_t> down_since_ms_{0};
};

}  // namespace parley::server
