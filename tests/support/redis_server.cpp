#include "support/redis_server.hpp"

#include "support/child_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace parley::test {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void cannot_run(const std::string& why) { throw std::runtime_error("the Redis tests cannot run: " + why); }

// Closes a descriptor however the scope ends.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Whether something answering RESP listens at `address`: PING, then one
// line back (+PONG, or -NOAUTH with a password).
bool answers_ping(const sockaddr* address, socklen_t length) {
  Fd socket{::socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (socket.fd < 0) return false;
  timeval timeout{0, 500'000};
  ::setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(socket.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(socket.fd, address, length) != 0) return false;
  const char ping[] = "*1\r\n$4\r\nPING\r\n";
  if (::send(socket.fd, ping, sizeof ping - 1, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof ping - 1)) return false;
  std::string line;
  char buffer[256];
  while (line.find("\r\n") == std::string::npos) {
    ssize_t n = ::recv(socket.fd, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    line.append(buffer, static_cast<std::size_t>(n));
  }
  return line[0] == '+' || line[0] == '-';
}

}  // namespace

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options) : options_(std::move(options)) {
  const char* chosen = std::getenv("PARLEY_REDIS_SERVER");
  binary_ = chosen != nullptr && *chosen != '\0' ? chosen : "/usr/bin/redis-server";
  if (::access(binary_.c_str(), X_OK) != 0) {
    cannot_run("no redis-server at " + binary_ +
               ". Install it with make setup (apt-get install redis-server), or set PARLEY_REDIS_SERVER to it");
  }
  std::string pattern = (fs::temp_directory_path() / "parley-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) cannot_run("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = pattern;
  socket_ = dir_ + "/redis.sock";
  // A port taken between free_port() and Redis's bind makes Redis exit at
  // once: another port then.
  for (int attempt = 0;; ++attempt) {
    if (options_.tcp) {
      try {
        port_ = free_loopback_port();  // Redis may still lose it to another process: retried
      } catch (const std::runtime_error& e) {
        cannot_run(e.what());
      }
    }
    try {
      start();
      return;
    } catch (const std::exception&) {
      if (!options_.tcp || attempt == 4) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
        throw;
      }
    }
  }
}

std::unique_ptr<RedisServer> RedisServer::tcp() {
  Options options;
  options.tcp = true;
  return std::make_unique<RedisServer>(options);
}

RedisServer::~RedisServer() {
  if (running()) kill();
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

std::string RedisServer::url() const {
  std::string auth;
  if (!options_.password.empty()) {
    auth = ":";
    for (char ch : options_.password) {
      auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
        auth.push_back(static_cast<char>(c));
      } else {
        const char* hex = "0123456789ABCDEF";
        auth += {'%', hex[c >> 4], hex[c & 15]};
      }
    }
    auth += "@";
  }
  if (options_.tcp) return "redis://" + auth + "127.0.0.1:" + std::to_string(port_);
  return "redis+unix://" + auth + socket_;
}

void RedisServer::start() {
  if (running()) return;
  spawn();
  wait_ready(std::chrono::seconds(10));
}

void RedisServer::spawn() {
  std::vector<std::string> args = {binary_,
                                   "--port",
                                   std::to_string(port_),
                                   "--unixsocket",
                                   socket_,
                                   "--unixsocketperm",
                                   "700",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_};
  if (options_.tcp) args.insert(args.end(), {"--bind", "127.0.0.1"});
  if (!options_.password.empty()) args.insert(args.end(), {"--requirepass", options_.password});
  try {
    pid_ = spawn_child(args, dir_ + "/redis.log");
  } catch (const std::runtime_error& e) {
    cannot_run(e.what());
  }
}

void RedisServer::wait_ready(std::chrono::milliseconds timeout) {
  sockaddr_un local{};
  local.sun_family = AF_UNIX;
  std::strncpy(local.sun_path, socket_.c_str(), sizeof local.sun_path - 1);
  sockaddr_in tcp{};
  tcp.sin_family = AF_INET;
  tcp.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  tcp.sin_port = htons(port_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      cannot_run("redis-server (" + binary_ + ") exited at start (status " + std::to_string(status) + "):\n" +
                 log_tail());
    }
    if (answers_ping(reinterpret_cast<sockaddr*>(&local), sizeof local) &&
        (!options_.tcp || answers_ping(reinterpret_cast<sockaddr*>(&tcp), sizeof tcp))) {
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      kill();
      cannot_run("redis-server did not answer PING within " + std::to_string(timeout.count()) + " ms:\n" + log_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void RedisServer::signal_and_wait(int signal) {
  if (!running()) return;
  ::kill(pid_, signal);
  ::kill(pid_, SIGCONT);  // a paused Redis acts on SIGTERM only once it runs
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

void RedisServer::stop() { signal_and_wait(SIGTERM); }
void RedisServer::kill() { signal_and_wait(SIGKILL); }

void RedisServer::pause() {
  if (running()) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  if (running()) ::kill(pid_, SIGCONT);
}

std::string RedisServer::log_tail() const {
  std::ifstream in(dir_ + "/redis.log", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 3000 ? "..." + all.substr(all.size() - 3000) : all;
}

}  // namespace parley::test
