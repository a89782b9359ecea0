// A real redis-server owned by a test: started in a fresh temporary folder
// with no persistence, listening on a Unix socket there (and, for tcp(), on a
// free port of 127.0.0.1), stopped and its folder removed when the object
// goes. The child is killed if the thread that started it dies (a crash, a
// sanitizer abort, a timeout's SIGKILL), so no Redis outlives its test.
//
// Where Redis cannot run (no redis-server), the constructor throws
// std::runtime_error saying what is missing and how to get it; the tests
// report that as a failure, never as a skip. PARLEY_REDIS_SERVER may name
// the binary (default /usr/bin/redis-server).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace parley::test {

class RedisServer {
 public:
  struct Options {
    bool tcp = false;      // also listen on 127.0.0.1:<a free port>; url() is then the TCP one
    std::string password;  // requirepass; url() carries it
  };

  // Starts Redis and waits until it answers PING. Throws std::runtime_error.
  RedisServer();
  explicit RedisServer(Options options);
  static std::unique_ptr<RedisServer> tcp();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // redis+unix://<dir>/redis.sock, or redis://127.0.0.1:<port> for tcp; with
  // the password when there is one.
  std::string url() const;
  const std::string& socket_path() const { return socket_; }
  std::uint16_t port() const { return port_; }  // 0 without tcp
  pid_t pid() const { return pid_; }

  // After stop() or kill(): the same socket path and port, an empty dataset.
  void start();
  void stop();    // SIGTERM, and waits for the exit
  void kill();    // SIGKILL, and waits
  void pause();   // SIGSTOP: Redis hangs, its sockets stay open
  void resume();  // SIGCONT
  bool running() const { return pid_ > 0; }

  // The end of Redis's own output, for failure messages.
  std::string log_tail() const;

 private:
  void spawn();
  void wait_ready(std::chrono::milliseconds timeout);
  void signal_and_wait(int signal);

  Options options_;
  std::string binary_;
  std::string dir_;
  std::string socket_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace parley::test
