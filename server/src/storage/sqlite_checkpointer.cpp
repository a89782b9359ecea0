#include "storage/sqlite_checkpointer.hpp"

#include <stdexcept>

namespace parley::server {

SqliteCheckpointer::SqliteCheckpointer(sqlite3* writer, const std::string& path, int checkpoint_pages,
                                       int restart_pages)
    : writer_(writer), checkpoint_pages_(checkpoint_pages), restart_pages_(restart_pages) {
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    throw std::runtime_error("sqlite storage: cannot open '" + path + "' for checkpoints: " + reason);
  }
  // A connection learns that the database is in WAL mode on its first read;
  // until then a checkpoint through it does nothing (and says SQLITE_OK).
  rc = sqlite3_exec(db_, "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = sqlite3_errmsg(db_);
    sqlite3_close_v2(db_);
    throw std::runtime_error("sqlite storage: cannot read '" + path + "' for checkpoints: " + reason);
  }
  // Replaces SQLite's automatic checkpoint, which is the same hook.
  sqlite3_wal_hook(writer_, &SqliteCheckpointer::on_commit, this);
  thread_ = std::thread([this] { run(); });
}

SqliteCheckpointer::~SqliteCheckpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  sqlite3_close_v2(db_);
}

SqliteCheckpointer::Stats SqliteCheckpointer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

int SqliteCheckpointer::on_commit(void* self, sqlite3* db, const char*, int wal_pages) {
  auto* c = static_cast<SqliteCheckpointer*>(self);
  if (wal_pages >= c->restart_pages_) {
    // The thread starts no checkpoint while this one is wanted: one under
    // way makes this one SQLITE_BUSY (SQLite never waits for the checkpoint
    // lock), and the next commit tries again once it is over. Without that,
    // a thread woken by every commit could hold the lock at each of them.
    {
      std::lock_guard lock(c->mutex_);
      c->restart_wanted_ = true;
    }
    int frames = -1;
    int copied = -1;
    int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
    std::unique_lock lock(c->mutex_);
    if (rc == SQLITE_BUSY && wal_pages >= 2 * c->restart_pages_) {
      // Still under way after a restart's worth of commits (the thread was
      // descheduled, or its fsync is slow): wait for it, so the WAL stays
      // bounded whatever the scheduling. The writer pays only then.
      c->idle_.wait(lock, [c] { return !c->checkpointing_; });
      lock.unlock();
      rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
      lock.lock();
    }
    if (rc == SQLITE_OK && frames >= 0 && copied == frames) {
      ++c->stats_.inline_;
      c->restart_wanted_ = false;  // the next transaction starts the WAL over
    }
    return SQLITE_OK;
  }
  bool due = false;
  {
    std::lock_guard lock(c->mutex_);
    c->wal_pages_ = wal_pages;
    due = wal_pages >= c->checkpoint_pages_;
  }
  if (due) c->wake_.notify_one();
  return SQLITE_OK;
}

void SqliteCheckpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || (wal_pages_ >= checkpoint_pages_ && !restart_wanted_); });
    if (stop_) return;
    wal_pages_ = 0;  // the next commit says how far the WAL is
    checkpointing_ = true;
    lock.unlock();
    int frames = -1;  // in the WAL, and copied: -1 when not in WAL mode
    int copied = -1;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
    lock.lock();
    checkpointing_ = false;
    idle_.notify_all();
    // A failure is tried again after the next commit; the WAL only grows
    // meanwhile, nothing is lost.
    if (rc == SQLITE_OK && frames >= 0) {
      ++stats_.beside;
    } else {
      ++stats_.failed;
    }
  }
}

}  // namespace parley::server
