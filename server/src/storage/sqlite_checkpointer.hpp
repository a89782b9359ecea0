// WAL checkpoints on a thread of their own, with a database connection of
// their own. A checkpoint copies the WAL into the database file and fsyncs
// it, which on a VM's disk takes milliseconds; run by the committing thread
// (SQLite's automatic checkpoint), it stalls every message queued behind that
// commit. Here the writer only counts: its commit hook (sqlite3_wal_hook) wakes
// this thread once the WAL holds `checkpoint_pages`, and PASSIVE checkpoints
// run beside the writer.
//
// Under a write load that never pauses, a checkpoint beside the writer never
// catches up with it, and the WAL only starts over when a transaction begins
// with every frame copied (measured: 6000 commits in a row, 36 MB of WAL and
// no restart). So past `restart_pages` the commit hook copies the few frames
// left itself, as SQLite's automatic checkpoint would, and the writer's next
// transaction starts the WAL over: one short stall per `restart_pages`
// instead of a long one per `checkpoint_pages`. Meanwhile the thread starts
// no checkpoint of its own: SQLite answers a checkpoint that finds another
// under way SQLITE_BUSY at once, and a thread woken by every commit could
// otherwise keep the hook's out until the WAL is many times the bound
// (measured: 18 MB instead of about 2 in a third of the runs). Should the
// one under way still keep it out at twice `restart_pages` (the thread was
// descheduled on a busy machine), the hook waits for it: the writer stalls
// then, and the WAL stays bounded.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace parley::server {

class SqliteCheckpointer {
 public:
  // Opens its own connection to `path` (a database in WAL mode) and installs
  // the commit hook on `writer`; throws std::runtime_error when it cannot.
  SqliteCheckpointer(sqlite3* writer, const std::string& path, int checkpoint_pages = 1000, int restart_pages = 8000);
  // Removes the hook and stops the thread (a checkpoint under way finishes).
  ~SqliteCheckpointer();
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Checkpoints that ran, for tests and logs.
  struct Stats {
    long beside = 0;   // on the thread, beside the writer
    long inline_ = 0;  // by the writer's commit hook, to start the WAL over
    long failed = 0;
  };
  Stats stats() const;

 private:
  static int on_commit(void* self, sqlite3* db, const char* name, int wal_pages);
  void run();

  sqlite3* writer_;
  sqlite3* db_ = nullptr;
  const int checkpoint_pages_;
  const int restart_pages_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  int wal_pages_ = 0;             // as the last commit left it
  bool restart_wanted_ = false;   // the commit hook's checkpoint should go first
  bool checkpointing_ = false;    // the thread is in a checkpoint
  std::condition_variable idle_;  // ... and is no longer
  bool stop_ = false;
  Stats stats_;
  std::thread thread_;  // last: started once everything above is set
};

}  // namespace parley::server
