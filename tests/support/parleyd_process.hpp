// Runs the real parleyd binary as a child process for a test.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
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

class ParleydProcess {
 public:
  // Starts parleyd on a free port with `args` added; waits until it listens.
  // Without --data-dir or --storage in `args` it gets a fresh folder of its
  // own (removed with it), so it runs on a real SQLite file.
  explicit ParleydProcess(std::vector<std::string> args = {});
  ~ParleydProcess();
  ParleydProcess(const ParleydProcess&) = delete;
  ParleydProcess& operator=(const ParleydProcess&) = delete;

  std::uint16_t port() const { return port_; }
  void kill_hard();  // SIGKILL, for crash tests
  int stop();        // SIGTERM and wait; returns the exit status

  static constexpr const char* kSecret = "test-secret-0123456789";

 private:
  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  std::uint16_t port_ = 0;
  std::unique_ptr<TempDir> own_data_dir_;
};

// A token signed with kSecret for arbitrary claims (a JSON object).
std::string token_with_claims(const std::string& claims_json);
// An unsigned token (alg "none"), which the server must refuse.
std::string unsigned_token(const std::string& claims_json);

// A signed token for `user` valid for an hour (HS256 with kSecret unless given).
std::string token_for(const std::string& user, const std::string& name,
                      const std::string& secret = ParleydProcess::kSecret, std::int64_t valid_for_s = 3600);

}  // namespace parley::test
