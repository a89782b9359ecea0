// Group commit: appends that arrive while a commit is under way wait, and
// the next commit takes them all, in one transaction. The first caller that
// finds no commit under way commits its own append and whatever queued
// meanwhile; the others sleep until their result is there. Nothing waits on
// a timer: a lone append commits at once, and batches form only when appends
// overlap (several rooms posting at the same moment), which is when the
// saving matters. Each caller still returns only once the transaction with
// its message has committed, and each append is decided on its own (its dedup
// and seq checks), so one refused append does not fail the others.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "storage/storage.hpp"

namespace parley::server {

class GroupCommit {
 public:
  // Stores the batch in one transaction: one result per message, in order.
  using Commit =
      std::function<std::vector<StorageResult<Storage::Appended>>(const std::vector<const protocol::Message*>&)>;
  explicit GroupCommit(Commit commit) : commit_(std::move(commit)) {}

  StorageResult<Storage::Appended> append(const protocol::Message& message);

  struct Stats {
    std::uint64_t commits = 0;
    std::uint64_t appends = 0;
    std::size_t largest = 0;  // the most appends one commit took
  };
  Stats stats() const;
  // Appends waiting for the next commit (tests).
  std::size_t queued() const;

 private:
  struct Waiter {
    const protocol::Message* message;
    std::optional<StorageResult<Storage::Appended>> result;
  };

  Commit commit_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::vector<Waiter*> queue_;
  bool committing_ = false;
  Stats stats_;
};

}  // namespace parley::server
