#include "support/fake_redis.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace parley::test {

namespace {

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++count;
  return count;
}

// Waits until `fd` is readable: false once the fake stops or at the deadline.
bool readable(int fd, int wake_fd, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if ((n < 0 && errno == EINTR) || n == 0) continue;
    return n > 0 && fds[1].revents == 0;
  }
}

}  // namespace

bool FakeRedisPeer::read_some(std::chrono::steady_clock::time_point deadline) {
  if (!readable(fd_, wake_fd_, deadline)) return false;
  char buffer[65536];
  ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) return false;
  received_.append(buffer, static_cast<std::size_t>(n));
  return true;
}

bool FakeRedisPeer::wait_for(const std::string& text, int count, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (occurrences(received_, text) < static_cast<std::size_t>(count)) {
    if (!read_some(deadline)) return false;
  }
  return true;
}

void FakeRedisPeer::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the client is gone: what it does about it is the test
    sent += static_cast<std::size_t>(n);
  }
}

FakeRedis::FakeRedis(Script script) : script_(std::move(script)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "parley-fake-redis-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = pattern;
  path_ = dir_ + "/fake.sock";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path_.c_str(), sizeof address.sun_path - 1);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
    std::string why = std::strerror(errno);
    if (listen_fd_ >= 0) ::close(listen_fd_);
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("fake redis: cannot listen on " + path_ + ": " + why);
  }
  thread_ = std::thread([this] { run(); });
}

FakeRedis::~FakeRedis() {
  ::close(wake_[1]);  // wakes every poll of the thread
  thread_.join();
  ::close(wake_[0]);
  ::close(listen_fd_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

int FakeRedis::accepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

bool FakeRedis::wait_accepted(int count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return accepted_ >= count; });
}

void FakeRedis::run() {
  auto forever = std::chrono::steady_clock::time_point::max();
  for (;;) {
    if (!readable(listen_fd_, wake_[0], forever)) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard lock(mutex_);
      ++accepted_;
    }
    changed_.notify_all();
    FakeRedisPeer peer(fd, wake_[0]);
    if (script_(peer)) {
      while (peer.read_some(forever)) peer.received_.clear();
    }
    ::close(fd);
  }
}

}  // namespace parley::test
