// Everything one parleyd process shares: configuration, storage, the token
// verifier, the workers (one I/O thread each) and the tenants with their
// hubs; connection
// admission, metrics, admin operations and graceful shutdown.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "admission.hpp"
#include "auth.hpp"
#include "client_session.hpp"
#include "cluster/redis_bus.hpp"
#include "config.hpp"
#include "lanes.hpp"
#include "peer.hpp"
#include "storage/storage.hpp"
#include "tenants/tenants.hpp"
#include "worker.hpp"

namespace parley::server {

class ServerContext : public Dispatch {
 public:
  // Opens the storage; throws std::runtime_error when it cannot.
  explicit ServerContext(Config config);
  ~ServerContext() override;

  Config config;
  // Before the workers: it outlives every connection's slot.
  Admission admission;
  std::unique_ptr<Storage> storage;
  TokenVerifier verifier;
  std::vector<std::unique_ptr<Worker>> workers;
  // The storage threads: every request's hub and storage work (lanes.hpp).
  std::unique_ptr<Lanes> lanes;
  // The cluster bus (--bus), or none: before the tenants, whose hubs use it.
  std::unique_ptr<RedisBus> bus;
  // Each app's rooms and users: the default tenant's, and those named by tokens.
  Tenants tenants;

  // Starts the worker threads and the hub's clock.
  void start();
  // Closes every connection with 1012, waits for them (at most `grace`),
  // flushes storage and stops the workers.
  void shutdown(std::chrono::milliseconds grace);

  // Dispatch
  void deliver(std::size_t worker, Delivery delivery) override;

  // What each connection's session uses.
  SessionServices session_services() { return {config, verifier, tenants, *this}; }

  // Round robin over the workers, for new connections.
  Worker& next_worker();

  std::string metrics_text();
  std::string stats_json();
  // /healthz: ok, or degraded while the cluster bus is down (still serving).
  std::string health_json();
  // Sends an announcement to every authenticated connection, or to a tenant's.
  void announce(const std::string& text, const std::string& level, const std::optional<std::string>& tenant);

 private:
  void schedule_tick();
  std::int64_t open_connections();
  std::unique_ptr<RedisBus> open_bus();
  // ,"cluster":{...} for stats_json, or nothing without a bus.
  std::string cluster_json();
  // Bus events run on the storage threads, each room's on one lane (by its
  // channel's hash), in order.
  void post_bus(std::size_t lane, std::function<void()> job);
  void deliver_announcement(const protocol::s2c::Announcement& a, const std::optional<std::string>& tenant);

  std::vector<std::shared_ptr<Lane>> bus_lanes_;
  // Bus events waiting on each bus lane: a message may skip its lane only
  // when nothing of its channel waits there (events keep their order).
  std::array<std::atomic<int>, 4> bus_waiting_{};
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_worker_{0};
  std::unique_ptr<boost::asio::steady_timer> tick_timer_;
  std::atomic<bool> ticking_{false};  // a tick is on the storage threads
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace parley::server
