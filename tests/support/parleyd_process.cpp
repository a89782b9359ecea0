#include "parleyd_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "auth.hpp"

extern char** environ;

namespace parley::test {

ParleydProcess::ParleydProcess(std::vector<std::string> args, SpawnOptions options) {
  std::vector<std::string> argv_storage = options.prefix;
  argv_storage.insert(argv_storage.end(), {PARLEYD_PATH, "--port", "0", "--log-level", "info"});
  bool has_storage = false;
  bool has_secret = false;
  for (const auto& a : args) {
    has_storage = has_storage || a == "--data-dir" || a == "--storage";
    has_secret = has_secret || a.rfind("--jwt-secret", 0) == 0 || a.rfind("--allow-dev-secret", 0) == 0;
  }
  if (!has_secret) argv_storage.insert(argv_storage.end(), {"--jwt-secret", kSecret});
  if (!has_storage) {
    // The default store, on a real SQLite file in a folder of the test's own.
    own_data_dir_ = std::make_unique<TempDir>();
    argv_storage.insert(argv_storage.end(), {"--data-dir", own_data_dir_->path()});
  }
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
  env_storage.insert(env_storage.end(), options.env.begin(), options.env.end());
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  int rc = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    throw std::runtime_error("cannot start parleyd");
  }
  stderr_fd_ = pipe_fds[0];
  reader_ = std::thread([this] { read_log(); });

  // Wait until parleyd says where it listens.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::unique_lock lock(log_mutex_);
  for (;;) {
    auto at = log_.find("msg=listening");
    auto port_at = at == std::string::npos ? at : log_.find(" port=", at);
    auto eol = port_at == std::string::npos ? port_at : log_.find_first_of(" \n", port_at + 6);
    if (eol != std::string::npos) {
      port_ = static_cast<std::uint16_t>(std::stoi(log_.substr(port_at + 6, eol - port_at - 6)));
      return;
    }
    if (log_closed_ || log_changed_.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  std::string seen = log_;
  lock.unlock();
  kill_hard();
  if (reader_.joinable()) reader_.join();
  close(stderr_fd_);
  throw std::runtime_error("parleyd did not start listening:\n" + seen);
}

ParleydProcess::~ParleydProcess() {
  if (pid_ > 0 && !expected_) {
    if (reap(false)) {
      ADD_FAILURE() << "parleyd died on its own (" << describe_status(status_) << "); its log ends:\n"
                    << log().substr(log().size() > 6000 ? log().size() - 6000 : 0);
    } else {
      int status = stop();
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        ADD_FAILURE() << "parleyd did not exit cleanly on SIGTERM (" << describe_status(status) << "); its log ends:\n"
                      << log().substr(log().size() > 6000 ? log().size() - 6000 : 0);
      }
    }
  }
  if (pid_ > 0 && !exited_) kill_hard();
  if (reader_.joinable()) reader_.join();
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

void ParleydProcess::read_log() {
  char buf[8192];
  for (;;) {
    ssize_t n = read(stderr_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(log_mutex_);
    if (n <= 0) {
      log_closed_ = true;
      log_changed_.notify_all();
      return;
    }
    log_.append(buf, static_cast<std::size_t>(n));
    log_changed_.notify_all();
  }
}

std::string ParleydProcess::log() const {
  std::lock_guard lock(log_mutex_);
  return log_;
}

bool ParleydProcess::wait_for_log(const std::string& text, std::chrono::milliseconds timeout, std::size_t from) const {
  std::unique_lock lock(log_mutex_);
  return log_changed_.wait_for(lock, timeout, [&] {
    return log_.find(text, std::min(from, log_.size())) != std::string::npos || log_closed_;
  }) && log_.find(text, std::min(from, log_.size())) != std::string::npos;
}

bool ParleydProcess::reap(bool wait) {
  if (pid_ <= 0 || exited_) return exited_;
  int status = 0;
  pid_t r = waitpid(pid_, &status, wait ? 0 : WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = status;
  }
  return exited_;
}

bool ParleydProcess::running() { return pid_ > 0 && !reap(false); }

void ParleydProcess::kill_hard() {
  if (pid_ <= 0) return;
  expected_ = true;
  if (!reap(false)) ::kill(pid_, SIGKILL);
  reap(true);
}

int ParleydProcess::stop() {
  if (pid_ <= 0) return -1;
  expected_ = true;
  if (reap(false)) return status_;
  ::kill(pid_, SIGTERM);
  // A shutdown waits at most 3 s for connections to close; sanitizer
  // reports at exit take a few seconds more.
  for (int i = 0; i < 600 && !reap(false); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling a child's exit, not a race
  }
  if (!exited_) {
    ::kill(pid_, SIGKILL);
    reap(true);
    return -1;
  }
  return status_;
}

std::string describe_status(int status) {
  if (status == -1) return "did not exit within 30 s of SIGTERM";
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = (std::filesystem::temp_directory_path() /
           ("parley-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter)))
              .string();
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string token_with_claims(const std::string& claims_json) {
  return server::sign_hs256(claims_json, ParleydProcess::kSecret);
}

std::string unsigned_token(const std::string& claims_json) {
  std::string signed_token = server::sign_hs256(claims_json, "x");
  // Same header shape with alg none, and no signature.
  std::string header = R"({"alg":"none","typ":"JWT"})";
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string encoded;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : header) {
    acc = (acc << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      encoded.push_back(alphabet[(acc >> bits) & 0x3F]);
    }
  }
  if (bits > 0) encoded.push_back(alphabet[(acc << (6 - bits)) & 0x3F]);
  auto dot = signed_token.find('.');
  auto dot2 = signed_token.find('.', dot + 1);
  return encoded + signed_token.substr(dot, dot2 - dot) + ".";
}

std::string token_for(const std::string& user, const std::string& name, const std::string& secret,
                      std::int64_t valid_for_s) {
  std::int64_t exp = static_cast<std::int64_t>(std::time(nullptr)) + valid_for_s;
  std::string claims = R"({"sub":")" + user + R"(","name":")" + name + R"(","exp":)" + std::to_string(exp) + "}";
  return server::sign_hs256(claims, secret);
}

ParleydOutcome run_parleyd(const std::string& env, const std::string& args) {
  std::string command = env + " " + PARLEYD_PATH + " " + args + " 2>&1 </dev/null";
  ParleydOutcome r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace parley::test
