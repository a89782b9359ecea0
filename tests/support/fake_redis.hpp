// A "Redis" that says what the test tells it to: a listening Unix socket in
// a temporary folder and one thread that takes connections one at a time and
// runs a script on each. For what a real Redis never does: garbage, replies
// to nothing, a connection closed in the middle of a reply, no answer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace parley::test {

// One accepted connection, as the script sees it.
class FakeRedisPeer {
 public:
  // Reads until what the client sent (from the start) contains `text`
  // `count` times; false on EOF, on the deadline or when the fake stops.
  bool wait_for(const std::string& text, int count = 1, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void send(const std::string& bytes);
  // What the client has sent so far.
  const std::string& received() const { return received_; }

 private:
  friend class FakeRedis;
  FakeRedisPeer(int fd, int wake_fd) : fd_(fd), wake_fd_(wake_fd) {}
  bool read_some(std::chrono::steady_clock::time_point deadline);  // false: EOF, deadline or stop

  int fd_;
  int wake_fd_;
  std::string received_;
};

class FakeRedis {
 public:
  // `script` runs for each connection, on the fake's thread. When it returns
  // true the connection is then held open (the client's input read and
  // dropped) until the client closes it; false closes it at once.
  using Script = std::function<bool(FakeRedisPeer&)>;
  explicit FakeRedis(Script script);
  ~FakeRedis();
  FakeRedis(const FakeRedis&) = delete;
  FakeRedis& operator=(const FakeRedis&) = delete;

  std::string url() const { return "redis+unix://" + path_; }
  // Connections accepted so far; waits until there are at least `count`.
  int accepted() const;
  bool wait_accepted(int count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  void run();

  Script script_;
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: closing its write end wakes the thread to stop
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  int accepted_ = 0;
  std::thread thread_;
};

}  // namespace parley::test
