// Runs the real parleyd binary as a child process for a test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace parley::test {

// A fresh empty folder, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// How to start parleyd beyond its flags.
struct SpawnOptions {
  std::vector<std::string> env;     // "NAME=value" added to the environment
  std::vector<std::string> prefix;  // a wrapper command, e.g. {"prlimit", "--nofile=64"}
};

class ParleydProcess {
 public:
  // Starts parleyd on a free port with `args` added; waits until it listens.
  // Tokens are signed with kSecret unless `args` choose the secret.
  // Without --data-dir or --storage in `args` it gets a fresh folder of its
  // own (removed with it), so it runs on a real SQLite file. Its log is read
  // all along (parleyd never blocks on a full pipe) and kept for log().
  explicit ParleydProcess(std::vector<std::string> args = {}, SpawnOptions options = {});
  // Stops parleyd with SIGTERM unless a test already stopped or killed it. A
  // parleyd that died on its own (a crash, a sanitizer report) or does not
  // exit cleanly fails the test, with the end of its log.
  ~ParleydProcess();
  ParleydProcess(const ParleydProcess&) = delete;
  ParleydProcess& operator=(const ParleydProcess&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  void kill_hard();  // SIGKILL, for crash tests
  int stop();        // SIGTERM and wait; returns the wait status
  // Whether the process is still running (a crash shows here at once).
  bool running();

  // Everything parleyd has logged so far.
  std::string log() const;
  // Waits until the log contains `text` (at or after `from`); true if it did.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout, std::size_t from = 0) const;

  static constexpr const char* kSecret = "test-secret-0123456789";

 private:
  void read_log();
  // Reaps the child if it exited (without waiting); true if it did.
  bool reap(bool wait);

  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  int status_ = 0;         // wait status once reaped
  bool exited_ = false;    // reaped
  bool expected_ = false;  // the test stopped or killed it
  std::uint16_t port_ = 0;
  std::unique_ptr<TempDir> own_data_dir_;
  mutable std::mutex log_mutex_;
  mutable std::condition_variable log_changed_;
  std::string log_;
  bool log_closed_ = false;
  std::thread reader_;
};

// A description of a wait status ("exit 0", "signal 11").
std::string describe_status(int status);

// A parleyd run to its end: for command lines that must not start it, and
// for its subcommands (migrate).
struct ParleydOutcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
// Runs `env parleyd args` through the shell (args are a command line's words,
// quoted by the caller) with no stdin.
ParleydOutcome run_parleyd(const std::string& env, const std::string& args);

// A token signed with kSecret for arbitrary claims (a JSON object).
std::string token_with_claims(const std::string& claims_json);
// An unsigned token (alg "none"), which the server must refuse.
std::string unsigned_token(const std::string& claims_json);

// A signed token for `user` valid for an hour (HS256 with kSecret unless given).
std::string token_for(const std::string& user, const std::string& name,
                      const std::string& secret = ParleydProcess::kSecret, std::int64_t valid_for_s = 3600);

}  // namespace parley::test
