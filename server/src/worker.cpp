#include "worker.hpp"

#include <boost/asio/post.hpp>
#include <vector>

#include "ws_connection.hpp"

namespace parley::server {

thread_local Worker* Worker::current_ = nullptr;

Worker::Worker(std::size_t index, std::chrono::milliseconds sweep_every)
    : index_(index), sweep_every_(sweep_every), work_(ioc_.get_executor()), sweep_(ioc_) {}

void Worker::for_each_connection(const std::function<void(WsConnection&)>& fn) {
  // A callback may close (and so remove) connections: walk a copy.
  std::vector<WsConnection*> all(connections_.begin(), connections_.end());
  for (auto* c : all) {
    if (connections_.count(c)) fn(*c);
  }
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
