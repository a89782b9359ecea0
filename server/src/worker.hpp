// One I/O thread: its own io_context, the connections pinned to it, their
// periodic sweep (pings, timeouts), and its metrics. Connections never move
// between workers, so a connection's state needs no lock.
#pragma once

#include <boost/asio/basic_stream_socket.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "metrics.hpp"
#include "peer.hpp"

namespace parley::server {

class WsConnection;

// A connection's socket: it runs on its worker's io_context. The concrete
// executor type (not any_io_executor) saves 48 bytes in every socket and in
// every pending operation on it, which idle connections pay for.
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

class Worker {
 public:
  Worker(std::size_t index, std::chrono::milliseconds sweep_every);
  ~Worker();

  std::size_t index() const { return index_; }
  boost::asio::io_context& ioc() { return ioc_; }
  WorkerMetrics& metrics() { return metrics_; }
  const WorkerMetrics& metrics() const { return metrics_; }

  // The worker running the calling thread, if any.
  static Worker* current() { return current_; }

  // The registry of this worker's connections owns them: a connection is in
  // it from its upgrade until its socket is closed (WsConnection::finish, to
  // which every path leads: the sweep ends closing, idle and silent
  // connections), so the sweep never sees a destroyed one. Worker thread only.
  void adopt(std::shared_ptr<WsConnection> connection);
  // Returns the registry's reference: the caller destroys the connection
  // by dropping it, once it is done with it.
  std::shared_ptr<WsConnection> release(WsConnection& connection);
  std::size_t connection_count() const { return connections_.size(); }
  void for_each_connection(const std::function<void(WsConnection&)>& fn);

  // From any thread: queues a delivery; the worker hands them to their peers
  // in the order they were queued.
  void deliver(Delivery delivery);

  void run();  // until stop()
  void stop();

 private:
  void schedule_sweep();
  void drain_inbox();

  std::size_t index_;
  std::chrono::milliseconds sweep_every_;
  // Declared before ioc_ so they outlive it: destroying ioc_ destroys the
  // connections its pending handlers hold, and they report to metrics_.
  WorkerMetrics metrics_;
  std::mutex inbox_mutex_;
  std::vector<Delivery> inbox_;
  bool drain_scheduled_ = false;
  boost::asio::io_context ioc_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::steady_timer sweep_;
  // After ioc_: the connections' sockets need it while they are destroyed.
  // Each knows its index here (swap-remove: no node per connection).
  std::vector<std::shared_ptr<WsConnection>> connections_;
  static thread_local Worker* current_;
};

}  // namespace parley::server
