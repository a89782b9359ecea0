#include "parleyd_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "auth.hpp"

extern char** environ;

namespace parley::test {

ParleydProcess::ParleydProcess(std::vector<std::string> args) {
  std::vector<std::string> argv_storage = {PARLEYD_PATH, "--port", "0", "--jwt-secret", kSecret, "--log-level", "info"};
  bool has_storage = false;
  for (const auto& a : args) has_storage = has_storage || a == "--data-dir" || a == "--storage";
  if (!has_storage) {
    // The default store, on a real SQLite file in a folder of the test's own.
    own_data_dir_ = std::make_unique<TempDir>();
    argv_storage.insert(argv_storage.end(), {"--data-dir", own_data_dir_->path()});
  }
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  int rc = posix_spawn(&pid_, PARLEYD_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (rc != 0) throw std::runtime_error("cannot start parleyd");
  stderr_fd_ = pipe_fds[0];

  // Read parleyd's log until it says where it listens.
  std::string log;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{stderr_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = read(stderr_fd_, buf, sizeof buf);
    if (n <= 0) break;
    log.append(buf, static_cast<std::size_t>(n));
    auto at = log.find("msg=listening");
    auto port_at = at == std::string::npos ? at : log.find(" port=", at);
    auto eol = port_at == std::string::npos ? port_at : log.find_first_of(" \n", port_at + 6);
    if (eol != std::string::npos) {
      port_ = static_cast<std::uint16_t>(std::stoi(log.substr(port_at + 6, eol - port_at - 6)));
      // Keep draining its log so parleyd never blocks on a full pipe.
      fcntl(stderr_fd_, F_SETFL, O_NONBLOCK);
      return;
    }
  }
  kill_hard();
  throw std::runtime_error("parleyd did not start listening:\n" + log);
}

ParleydProcess::~ParleydProcess() {
  if (pid_ > 0) kill_hard();
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

void ParleydProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int ParleydProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
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

}  // namespace parley::test
