// Where the sessions' requests run. Everything a request does in the hub
// (and so in storage) runs on the storage threads, never on an I/O thread:
// a slow database or disk stalls the requests waiting for it, not the
// sockets of a worker (their reads, writes, pings and closes go on).
//
// Each session has a lane: its jobs run in the order they were posted, one
// at a time, so requests are answered in order and a session's state needs
// no lock. Lanes of different sessions run in parallel on the threads.
#pragma once

#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>

namespace parley::server {

class Lane {
 public:
  virtual ~Lane() = default;
  virtual void post(std::function<void()> job) = 0;
};

class Lanes {
 public:
  virtual ~Lanes() = default;
  virtual std::shared_ptr<Lane> make_lane() = 0;
  // A job in no lane (the hubs' clock).
  virtual void post(std::function<void()> job) = 0;
  // Waits until every job posted so far, and every job they posted, has run.
  virtual void wait_idle() = 0;
};

// The storage threads: a thread pool; a lane is a strand on it.
class StorageThreads final : public Lanes {
 public:
  explicit StorageThreads(unsigned threads);
  ~StorageThreads() override;  // runs what is queued, then joins

  std::shared_ptr<Lane> make_lane() override;
  void post(std::function<void()> job) override;
  void wait_idle() override;

 private:
  class Strand;
  std::function<void()> counted(std::function<void()> job);

  boost::asio::thread_pool pool_;
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t in_flight_ = 0;
};

// Every job at once, on the thread that posts it: `--storage-threads 0`
// (requests on the I/O threads, as a single-threaded harness needs), and the
// in-process tests.
class InlineLanes final : public Lanes {
 public:
  std::shared_ptr<Lane> make_lane() override;
  void post(std::function<void()> job) override { job(); }
  void wait_idle() override {}
};

std::unique_ptr<Lanes> make_lanes(unsigned storage_threads);

}  // namespace parley::server
