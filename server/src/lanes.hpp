// Where the sessions' requests run. Everything a request does in the hub
// (and so in storage) runs on the storage threads, never on an I/O thread:
// a slow database or disk stalls the requests waiting for it, not the
// sockets of a worker (their reads, writes, pings and closes go on).
//
// Each session has a lane: its jobs run in the order they were posted, one
// at a time, so requests are answered in order and a session's state needs
// no lock. Lanes of different sessions run in parallel on the threads.
//
// With no storage threads (`--storage-threads 0`: a single-threaded harness
// such as the fuzz target, and the in-process tests) every job runs at once
// on the thread that posts it.
#pragma once

#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

namespace parley::server {

class Lanes;

class Lane {
 public:
  void post(std::function<void()> job);

 private:
  friend class Lanes;
  using Strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;
  Lane(Lanes& owner, std::optional<Strand> strand) : owner_(owner), strand_(std::move(strand)) {}

  Lanes& owner_;
  std::optional<Strand> strand_;  // none: at once
};

class Lanes {
 public:
  // `threads` storage threads; 0: every job at once, on the posting thread.
  explicit Lanes(unsigned threads);
  ~Lanes();  // runs what is queued, then joins

  std::shared_ptr<Lane> make_lane();
  // A job in no lane (the hubs' clock).
  void post(std::function<void()> job);
  // Waits until every job posted so far, and every job they posted, has run.
  void wait_idle();

 private:
  friend class Lane;
  std::function<void()> counted(std::function<void()> job);

  std::optional<boost::asio::thread_pool> pool_;  // none with 0 threads
  std::mutex mutex_;
  std::condition_variable idle_;
  std::size_t in_flight_ = 0;
};

}  // namespace parley::server
