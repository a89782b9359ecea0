#include "storage/group_commit.hpp"

#include <algorithm>

namespace parley::server {

StorageResult<Storage::Appended> GroupCommit::append(const protocol::Message& message) {
  Waiter self{&message, std::nullopt};
  std::unique_lock lock(mutex_);
  queue_.push_back(&self);
  while (!self.result) {
    if (committing_) {
      done_.wait(lock);
      continue;
    }
    // Nobody is committing: this caller commits everything queued, its own
    // append included.
    committing_ = true;
    std::vector<Waiter*> batch;
    batch.swap(queue_);
    lock.unlock();
    std::vector<const protocol::Message*> messages;
    messages.reserve(batch.size());
    for (Waiter* w : batch) messages.push_back(w->message);
    std::vector<StorageResult<Storage::Appended>> results = commit_(messages);
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i]->result.emplace(i < results.size() ? std::move(results[i])
                                                  : StorageResult<Storage::Appended>(
                                                        storage_error("group commit: no result for an append")));
    }
    ++stats_.commits;
    stats_.appends += batch.size();
    stats_.largest = std::max(stats_.largest, batch.size());
    committing_ = false;
    done_.notify_all();  // the results, and the next in the queue commits
  }
  return std::move(*self.result);
}

GroupCommit::Stats GroupCommit::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::size_t GroupCommit::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

}  // namespace parley::server
