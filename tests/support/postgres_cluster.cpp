#include "support/postgres_cluster.hpp"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace parley::test {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void cannot_run(const std::string& why) {
  throw std::runtime_error("the PostgreSQL tests cannot run: " + why);
}

// The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl,
// unless PARLEY_PG_BIN names one.
std::string find_binaries() {
  if (const char* chosen = std::getenv("PARLEY_PG_BIN"); chosen != nullptr && *chosen != '\0') {
    if (!fs::exists(fs::path(chosen) / "initdb") || !fs::exists(fs::path(chosen) / "pg_ctl")) {
      cannot_run(std::string("PARLEY_PG_BIN=") + chosen + " holds no initdb and pg_ctl");
    }
    return chosen;
  }
  std::optional<std::pair<int, std::string>> best;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", error)) {
    fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb") || !fs::exists(bin / "pg_ctl")) continue;
    int version = std::atoi(entry.path().filename().c_str());
    if (!best || version > best->first) best.emplace(version, bin.string());
  }
  if (!best) {
    cannot_run(
        "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/<version>/bin. Install them "
        "with make setup (apt-get install postgresql), or set PARLEY_PG_BIN to their folder");
  }
  return best->second;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string tail(const std::string& text, std::size_t bytes = 3000) {
  return text.size() > bytes ? "..." + text.substr(text.size() - bytes) : text;
}

// Runs argv to its end with stdout and stderr appended to `log`, in `cwd`
// (the postgres user may not enter the tests' own folder). Returns the wait
// status, or -1 when it could not start.
int spawn_and_wait(const std::vector<std::string>& argv, const std::string& log, const std::string& cwd) {
  std::vector<char*> args;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// One superuser connection for one call, closed however the call ends.
struct Finish {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct Clear {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};

std::unique_ptr<PGresult, Clear> run_sql(const std::string& url, const std::string& sql) {
  std::unique_ptr<PGconn, Finish> conn(PQconnectdb(url.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("postgres test cluster: cannot connect: " + std::string(PQerrorMessage(conn.get())));
  }
  std::unique_ptr<PGresult, Clear> result(PQexec(conn.get(), sql.c_str()));
  auto status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("postgres test cluster: " + sql + ": " + PQerrorMessage(conn.get()));
  }
  return result;
}

std::string shell_quoted(const std::string& path) { return "'" + path + "'"; }  // mkdtemp paths hold no quote

std::mutex instance_mutex;
std::unique_ptr<PostgresCluster> the_cluster;
std::optional<std::string> the_failure;
std::atomic<int> databases_made{0};

// Stops the cluster when the binary exits normally (the watcher is there
// for the other ways out).
struct AtExit {
  ~AtExit() {
    std::lock_guard lock(instance_mutex);
    the_cluster.reset();
  }
} at_exit;

}  // namespace

PostgresCluster& PostgresCluster::instance() {
  std::lock_guard lock(instance_mutex);
  if (the_failure) throw std::runtime_error(*the_failure);
  if (!the_cluster) {
    try {
      the_cluster.reset(new PostgresCluster());
    } catch (const std::exception& e) {
      the_failure = e.what();
      throw;
    }
  }
  return *the_cluster;
}

PostgresCluster::PostgresCluster() {
  bin_ = find_binaries();
  uid_t uid = 0;
  gid_t gid = 0;
  as_postgres_ = ::geteuid() == 0;
  if (as_postgres_) {
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr) {
      cannot_run(
          "the tests run as root, and PostgreSQL will not; there is no postgres user to run it as "
          "(apt-get install postgresql creates it)");
    }
    uid = user->pw_uid;
    gid = user->pw_gid;
  }
  std::string pattern = (fs::temp_directory_path() / "parley-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) cannot_run("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = pattern;
  data_ = dir_ + "/data";
  port_ = 40000 + static_cast<int>(::getpid() % 20000);  // names the socket file only: no TCP
  if (as_postgres_ && ::chown(dir_.c_str(), uid, gid) != 0) {
    std::string why = std::strerror(errno);
    fs::remove_all(dir_);
    cannot_run("chown " + dir_ + " to postgres: " + why);
  }

  // The watcher: a detached shell that waits for this process's end (the
  // pipe's write end closes with it, however it ends) and then stops the
  // cluster and removes the folder. Backgrounded, so that it is reparented
  // away from this process and survives a kill of its tree.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) cannot_run("pipe: " + std::string(std::strerror(errno)));
  std::string stop = (as_postgres_ ? "runuser -u postgres -- " : "") + shell_quoted(bin_ + "/pg_ctl") + " -D " +
                     shell_quoted(data_) + " -m immediate -w stop";
  std::string script = "( read x <&3; " + stop + "; rm -rf " + shell_quoted(dir_) + " ) </dev/null >/dev/null 2>&1 &";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  pid_t shell = -1;
  std::vector<std::string> argv = {"/bin/sh", "-c", script};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int rc = posix_spawn(&shell, "/bin/sh", &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    fs::remove_all(dir_);
    cannot_run("cannot start the cleanup watcher: " + std::string(std::strerror(rc)));
  }
  watcher_fd_ = fds[1];
  int status = 0;
  ::waitpid(shell, &status, 0);  // the shell leaves at once, its background job stays

  run("initdb", "initdb",
      {"-D", data_, "-A", "trust", "-U", "parley", "--no-sync", "-E", "UTF8", "--locale=C", "--no-instructions"});
  {
    std::ofstream conf(data_ + "/postgresql.conf", std::ios::app);
    conf << "\n# parley tests\nlisten_addresses = ''\nunix_socket_directories = '" << dir_ << "'\nport = " << port_
         << "\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
    std::ofstream hba(data_ + "/pg_hba.conf", std::ios::trunc);
    hba << "local all " << kPasswordUser << " scram-sha-256\nlocal all all trust\n";
    if (!conf || !hba) cannot_run("cannot write the configuration in " + data_);
  }
  start();
  exec("postgres", std::string("CREATE ROLE ") + kPasswordUser + " LOGIN PASSWORD '" + kPassword + "'");
}

PostgresCluster::~PostgresCluster() {
  // Stopped and removed here; the watcher then finds nothing left to do.
  std::vector<std::string> argv;
  if (as_postgres_) argv = {"runuser", "-u", "postgres", "--"};
  argv.insert(argv.end(), {bin_ + "/pg_ctl", "-D", data_, "-m", "fast", "-w", "stop"});
  spawn_and_wait(argv, "/dev/null", dir_);
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
  if (watcher_fd_ >= 0) ::close(watcher_fd_);
}

void PostgresCluster::run(const std::string& what, const std::string& tool,
                          const std::vector<std::string>& args) const {
  std::vector<std::string> argv;
  if (as_postgres_) argv = {"runuser", "-u", "postgres", "--"};
  argv.push_back(bin_ + "/" + tool);
  argv.insert(argv.end(), args.begin(), args.end());
  std::string log = dir_ + "/" + tool + ".log";
  int status = spawn_and_wait(argv, log, dir_);
  if (status == -1) {
    throw std::runtime_error("the PostgreSQL tests cannot run: " + what + ": cannot start " + argv[0] +
                             (as_postgres_ ? " (runuser, from util-linux, runs PostgreSQL as postgres)" : ""));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("the PostgreSQL tests cannot run: " + what + " failed (" + bin_ + "/" + tool + "):\n" +
                             tail(read_file(log)) + server_log_tail());
  }
}

std::string PostgresCluster::server_log_tail() const {
  std::string log = read_file(dir_ + "/server.log");
  return log.empty() ? "" : "\nserver log:\n" + tail(log);
}

void PostgresCluster::start() {
  run("pg_ctl start", "pg_ctl", {"-D", data_, "-l", dir_ + "/server.log", "-w", "-t", "60", "start"});
}

void PostgresCluster::stop() { run("pg_ctl stop", "pg_ctl", {"-D", data_, "-m", "fast", "-w", "stop"}); }

std::string PostgresCluster::url(const std::string& database) const {
  return "postgresql://parley@/" + database + "?host=" + dir_ + "&port=" + std::to_string(port_);
}

std::string PostgresCluster::url(const std::string& database, const std::string& user,
                                 const std::string& password) const {
  return "postgresql://" + user + ":" + password + "@/" + database + "?host=" + dir_ + "&port=" + std::to_string(port_);
}

void PostgresCluster::exec(const std::string& database, const std::string& sql) const { run_sql(url(database), sql); }

std::string PostgresCluster::query(const std::string& database, const std::string& sql) const {
  auto result = run_sql(url(database), sql);
  if (PQntuples(result.get()) == 0 || PQnfields(result.get()) == 0) return "";
  return PQgetvalue(result.get(), 0, 0);
}

PostgresDatabase::PostgresDatabase()
    : name_("t" + std::to_string(::getpid()) + "_" + std::to_string(++databases_made)) {
  // FILE_COPY: with fsync off, copying template1's files beats writing them
  // through the WAL.
  PostgresCluster::instance().exec("postgres", "CREATE DATABASE " + name_ + " STRATEGY FILE_COPY");
}

PostgresDatabase::~PostgresDatabase() {
  try {
    // FORCE: a connection a test left open (a storage it leaked) does not
    // keep the database.
    PostgresCluster::instance().exec("postgres", "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The cluster is gone (or stopped by the test): it is removed at exit anyway.
  }
}

}  // namespace parley::test
