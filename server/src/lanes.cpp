#include "lanes.hpp"

#include <boost/asio/post.hpp>

#include "log.hpp"

namespace parley::server {

void Lane::post(std::function<void()> job) {
  if (!strand_) return job();
  boost::asio::post(*strand_, owner_.counted(std::move(job)));
}

Lanes::Lanes(unsigned threads) {
  if (threads > 0) pool_.emplace(threads);
}

Lanes::~Lanes() {
  if (pool_) pool_->join();
}

std::function<void()> Lanes::counted(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    ++in_flight_;
  }
  return [this, job = std::move(job)]() mutable {
    try {
      job();
    } catch (const std::exception& e) {  // jobs report failures as values: a bug, but not one that ends a thread
      log::error("storage thread job failed", {{"error", e.what()}});
    }
    // What the job holds (a connection, say) goes before it counts as done:
    // wait_idle() must mean that nothing of it is left.
    job = nullptr;
    std::lock_guard lock(mutex_);
    if (--in_flight_ == 0) idle_.notify_all();
  };
}

std::shared_ptr<Lane> Lanes::make_lane() {
  std::optional<Lane::Strand> strand;
  if (pool_) strand.emplace(boost::asio::make_strand(*pool_));
  return std::shared_ptr<Lane>(new Lane(*this, std::move(strand)));
}

void Lanes::post(std::function<void()> job) {
  if (!pool_) return job();
  boost::asio::post(*pool_, counted(std::move(job)));
}

void Lanes::wait_idle() {
  if (!pool_) return;
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return in_flight_ == 0; });
}

}  // namespace parley::server
