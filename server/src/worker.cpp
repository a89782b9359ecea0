#include "worker.hpp"

#include <boost/asio/post.hpp>
#include <vector>

#include "ws_connection.hpp"

namespace parley::server {

thread_local Worker* Worker::current_ = nullptr;

Worker::Worker(std::size_t index, std::chrono::milliseconds sweep_every)
    : index_(index), sweep_every_(sweep_every), work_(ioc_.get_executor()), sweep_(ioc_) {}

Worker::~Worker() {
  // Connections first, while the io_context their sockets use is alive.
  connections_.clear();
}

void Worker::adopt(std::shared_ptr<WsConnection> connection) {
  connection->registry_index_ = static_cast<std::uint32_t>(connections_.size());
  connections_.push_back(std::move(connection));
}

std::shared_ptr<WsConnection> Worker::release(WsConnection& connection) {
  std::size_t i = connection.registry_index_;
  if (i >= connections_.size() || connections_[i].get() != &connection) return nullptr;
  connection.registry_index_ = WsConnection::kNotRegistered;
  std::shared_ptr<WsConnection> released = std::move(connections_[i]);
  if (i + 1 != connections_.size()) {
    connections_[i] = std::move(connections_.back());
    connections_[i]->registry_index_ = static_cast<std::uint32_t>(i);
  }
  connections_.pop_back();
  return released;
}

void Worker::for_each_connection(const std::function<void(WsConnection&)>& fn) {
  // A callback may close (and so release) connections: walk a copy, which
  // also keeps each one alive through its callback.
  std::vector<std::shared_ptr<WsConnection>> all(connections_);
  for (auto& c : all) fn(*c);
}

void Worker::deliver(Delivery delivery) {
  bool schedule = false;
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(std::move(delivery));
    schedule = !drain_scheduled_;
    drain_scheduled_ = true;
  }
  if (schedule) boost::asio::post(ioc_, [this] { drain_inbox(); });
}

void Worker::drain_inbox() {
  std::vector<Delivery> batch;
  {
    std::lock_guard lock(inbox_mutex_);
    batch.swap(inbox_);
    drain_scheduled_ = false;
  }
  for (const auto& d : batch) {
    for (const auto& peer : d.peers) peer->deliver_local(d.frames[static_cast<std::size_t>(peer->codec())]);
  }
}

void Worker::run() {
  current_ = this;
  schedule_sweep();
  ioc_.run();
  current_ = nullptr;
}

void Worker::stop() {
  work_.reset();
  ioc_.stop();
}

void Worker::schedule_sweep() {
  sweep_.expires_after(sweep_every_);
  sweep_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    for_each_connection([](WsConnection& c) { c.sweep(); });
    schedule_sweep();
  });
}

}  // namespace parley::server
