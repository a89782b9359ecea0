// Read and delivered watermarks of one room, on their way to the server,
// over explicit time. Marks only move forward, and are coalesced leading
// edge first: the first after a quiet spell goes at once (the sender sees
// "delivered" promptly), the next ones wait until `delay_ms` after it.
// Marks not sent yet wait for the (re)join and are persisted with the
// outbox, so a reload does not lose them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

namespace parley::client {

class Receipts {
 public:
  enum Mark : std::uint8_t { read, delivered };

  // Moves the mark forward to `seq` (no-op when it is not ahead of what was
  // asked for or sent); true when it moved.
  bool advance(Mark mark, std::int64_t seq, std::int64_t now, std::int64_t delay_ms) {
    Pair& p = marks_[mark];
    if (seq <= std::max(p.pending, p.sent)) return false;
    p.pending = seq;
    if (due_ == 0) due_ = std::max(now, sent_at_ + delay_ms);
    return true;
  }
  // What to send now (0: nothing for that mark), taken as sent.
  struct Unsent {
    std::int64_t read = 0;
    std::int64_t delivered = 0;
  };
  Unsent take(std::int64_t now) {
    due_ = 0;
    Unsent out = unsent();
    for (Pair& p : marks_) {
      if (p.pending > p.sent) {
        p.sent = p.pending;
        sent_at_ = now;
      }
    }
    return out;
  }
  // Marks asked for and not sent yet (0: none).
  Unsent unsent() const {
    auto left = [](const Pair& p) { return p.pending > p.sent ? p.pending : 0; };
    return Unsent{left(marks_[read]), left(marks_[delivered])};
  }
  bool any_unsent() const {
    Unsent u = unsent();
    return u.read > 0 || u.delivered > 0;
  }
  // When the waiting marks go (if the room is joined by then).
  std::optional<std::int64_t> deadline() const { return due_ > 0 ? std::optional(due_) : std::nullopt; }

 private:
  struct Pair {
    std::int64_t pending = 0;  // asked for
    std::int64_t sent = 0;     // sent on this or an earlier connection
  };
  Pair marks_[2];
  std::int64_t due_ = 0;               // when the waiting marks go (0: none wait)
  std::int64_t sent_at_ = -1'000'000;  // the last flush
};

}  // namespace parley::client
