// A throw-away PostgreSQL cluster for the tests of one binary, and a fresh
// database per test. The cluster is made on first use (initdb, then pg_ctl
// start; as the `postgres` user through runuser when the tests run as root,
// since PostgreSQL refuses to run as root) in a temporary folder, listens on
// a Unix socket there and on no TCP port, and runs with fsync off. It is
// stopped and its folder deleted when the binary exits, also when a test
// fails, and also when the binary dies (a crash, a sanitizer abort, a
// timeout's SIGKILL): a detached watcher notices that the binary is gone and
// cleans up.
//
// Where PostgreSQL cannot run (its server binaries are missing, or root has
// no `postgres` user), making the cluster throws std::runtime_error saying
// what is missing and how to get it; the tests report that as a failure,
// never as a skip. PARLEY_PG_BIN may name the folder of initdb and pg_ctl
// (default: the newest /usr/lib/postgresql/<version>/bin).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace parley::test {

class PostgresCluster {
 public:
  // The binary's cluster, started on first use. Throws std::runtime_error
  // when it cannot be started (the same error again on every later call).
  static PostgresCluster& instance();

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // A libpq URL for `database` as the superuser `parley` (no password:
  // local connections are trusted).
  std::string url(const std::string& database) const;
  // A libpq URL for `database` as `user` with `password` in it.
  std::string url(const std::string& database, const std::string& user, const std::string& password) const;

  // A role that must give its password (SCRAM), for tests of what a
  // refused password prints.
  static constexpr const char* kPasswordUser = "parley_pw";
  static constexpr const char* kPassword = "correct-horse-battery-staple";

  // pg_ctl stop -m fast (every connection is closed) and start again.
  void stop();
  void start();

  // Runs SQL in `database` as the superuser; throws std::runtime_error on
  // failure. query() returns the first column of the first row ("" if none).
  void exec(const std::string& database, const std::string& sql) const;
  std::string query(const std::string& database, const std::string& sql) const;

 private:
  PostgresCluster();
  void run(const std::string& what, const std::string& tool, const std::vector<std::string>& args) const;
  std::string server_log_tail() const;

  std::string bin_;           // folder of initdb and pg_ctl
  std::string dir_;           // everything: data, socket, logs
  std::string data_;          // the data directory
  int port_ = 0;              // only names the socket file
  bool as_postgres_ = false;  // tools run through runuser -u postgres
  int watcher_fd_ = -1;       // the write end the watcher waits on
};

// A fresh database in the binary's cluster, dropped when it goes.
class PostgresDatabase {
 public:
  // Throws std::runtime_error when the cluster cannot run.
  PostgresDatabase();
  ~PostgresDatabase();
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  const std::string& name() const { return name_; }
  std::string url() const { return PostgresCluster::instance().url(name_); }
  void exec(const std::string& sql) const { PostgresCluster::instance().exec(name_, sql); }
  std::string query(const std::string& sql) const { return PostgresCluster::instance().query(name_, sql); }

 private:
  std::string name_;
};

// A fixture with a fresh database per test; a cluster that cannot run fails
// the test with the reason (never a skip).
class WithPostgresDatabase : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      database_.emplace();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }
  std::optional<PostgresDatabase> database_;
};

}  // namespace parley::test
