#include "lanes.hpp"

#include <boost/asio/post.hpp>

#include "log.hpp"

namespace parley::server {

class StorageThreads::Strand final : public Lane {
 public:
  explicit Strand(StorageThreads& owner) : owner_(owner), strand_(boost::asio::make_strand(owner.pool_)) {}
  void post(std::function<void()> job) override { boost::asio::post(strand_, owner_.counted(std::move(job))); }

 private:
  StorageThreads& owner_;
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
};

StorageThreads::StorageThreads(unsigned threads) : pool_(threads) {}

StorageThreads::~StorageThreads() { pool_.join(); }

std::function<void()> StorageThreads::counted(std::function<void()> job) {
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

std::shared_ptr<Lane> StorageThreads::make_lane() { return std::make_shared<Strand>(*this); }

void StorageThreads::post(std::function<void()> job) { boost::asio::post(pool_, counted(std::move(job))); }

void StorageThreads::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [&] { return in_flight_ == 0; });
}

namespace {

class InlineLane final : public Lane {
 public:
  void post(std::function<void()> job) override { job(); }
};

}  // namespace

std::shared_ptr<Lane> InlineLanes::make_lane() { return std::make_shared<InlineLane>(); }

std::unique_ptr<Lanes> make_lanes(unsigned storage_threads) {
  if (storage_threads == 0) return std::make_unique<InlineLanes>();
  return std::make_unique<StorageThreads>(storage_threads);
}

}  // namespace parley::server
