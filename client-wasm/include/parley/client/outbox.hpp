// The offline queue: the user's messages not yet acknowledged, in send
// order, and when the next one may leave, over explicit time.
//
// Sends leave in queue order, paced to the server's limit (SendPacer).
// After a transient refusal (rate_limited, internal) nothing leaves until
// the server's retryAfterMs, and then one at a time until the queue drains:
// the server refuses every send behind a refused one, so the order holds
// either way. A failed message (refused for good) stays, shown with its
// reason, until the user retries or discards it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/queued_send.hpp"
#include "parley/client/send_pacer.hpp"

namespace parley::client {

class Outbox {
 public:
  const std::vector<QueuedSend>& all() const { return queue_; }
  std::vector<QueuedSend>& all() { return queue_; }
  std::size_t size() const { return queue_.size(); }
  // Messages that will still be sent (not failed).
  std::size_t unsent() const {
    return static_cast<std::size_t>(
        std::count_if(queue_.begin(), queue_.end(), [](const auto& p) { return !p.failed; }));
  }
  QueuedSend* find(const std::string& client_msg_id) {
    auto it =
        std::find_if(queue_.begin(), queue_.end(), [&](const auto& p) { return p.client_msg_id == client_msg_id; });
    return it == queue_.end() ? nullptr : &*it;
  }
  void push(QueuedSend send) { queue_.push_back(std::move(send)); }
  // Takes the message out (acknowledged, or discarded); false if absent.
  bool remove(const std::string& client_msg_id) {
    auto before = queue_.size();
    std::erase_if(queue_, [&](const auto& p) { return p.client_msg_id == client_msg_id; });
    return queue_.size() != before;
  }
  void clear() { queue_.clear(); }

  // A welcome: the server's send limit, and a clean slate for the holds.
  void welcomed(std::int64_t interval_ms, std::int64_t burst, std::int64_t now) {
    pacer_.reset(interval_ms, burst, now);
    hold_until_ = 0;
    one_at_a_time_ = false;
  }
  // A send refused for now: nothing leaves before `retry_after_ms`, then one
  // at a time. Refusals of the sends that were in flight behind it (the
  // server holds them back to keep the order) leave the hold alone.
  void refused_for_now(std::int64_t now, std::int64_t retry_after_ms) {
    if (hold_until_ <= now) hold_until_ = now + retry_after_ms;
    one_at_a_time_ = true;
  }
  bool one_at_a_time() const { return one_at_a_time_; }

  // Sends what may go at `now` on a live connection, in order:
  // `joined(room_id)` says whether its room is joined (a room's messages
  // wait for its join), `transmit(send)` puts one on the wire, and
  // `paced(send)` is told about the one that waits for the pacer.
  //
  // A send that waits (held by the app, or for the server id of an earlier
  // send of ours) holds back the later messages of its room, which keep
  // their order; changes (edit, delete, react, unreact) have no place in the
  // timeline, so they wait only for themselves.
  template <class Joined, class Transmit, class Paced>
  void flush(std::int64_t now, bool live, Joined joined, Transmit transmit, Paced paced) {
    due_ = 0;
    if (std::all_of(queue_.begin(), queue_.end(), [](const auto& p) { return p.failed.has_value(); })) {
      one_at_a_time_ = false;  // drained
    }
    if (!live) return;
    if (now < hold_until_) {
      due_ = hold_until_;
      return;
    }
    for (auto& pending : queue_) {
      if (pending.failed) continue;
      if (pending.in_flight) {
        if (one_at_a_time_) return;
        continue;
      }
      if (!joined(pending.room_id) || waits(pending)) continue;
      if (std::int64_t wait = pacer_.take(now); wait > 0) {
        due_ = now + wait;
        paced(pending);
        return;
      }
      pending.in_flight = true;
      pending.sent_at = now;
      transmit(pending);
      if (one_at_a_time_) return;
    }
  }
  // Whether `send` must wait: it is held, or waits for an id, or (a message)
  // an earlier message of its room does.
  bool waits(const QueuedSend& send) const {
    if (send.held || !send.waits_for.empty()) return true;
    if (is_change(send.draft.type)) return false;
    for (const auto& p : queue_) {
      if (&p == &send) return false;
      if ((p.held || !p.waits_for.empty()) && !p.failed && !is_change(p.draft.type) && p.room_id == send.room_id) {
        return true;
      }
    }
    return false;
  }

  // When flush has something to send again.
  std::optional<std::int64_t> deadline() const { return due_ > 0 ? std::optional(due_) : std::nullopt; }

 private:
  std::vector<QueuedSend> queue_;  // in send order
  SendPacer pacer_;
  std::int64_t hold_until_ = 0;
  bool one_at_a_time_ = false;
  std::int64_t due_ = 0;  // when flush has something to send again (0: nothing waits)
};

}  // namespace parley::client
