// Typing indicators of one room, both ways, over explicit time.
//
// OwnTyping: ours. While the user types, a `typing` frame goes at most once
// per throttle; without input for the idle time the indicator stops by
// itself. Typing is volatile: nothing is queued while the socket is down.
//
// Typists: the others'. Each is shown until the TTL of their last `typing`
// frame, or until they stop, send, go offline, or the connection is lost.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace parley::client {

class OwnTyping {
 public:
  // The user typed at `now`. True when a `typing` frame should go now:
  // `can_send` (joined on a live connection) and not sent within the throttle.
  bool typed(std::int64_t now, std::int64_t throttle_ms, std::int64_t idle_ms, bool can_send) {
    stop_at_ = now + idle_ms;
    bool due = !typing_ || sent_at_ < 0 || now - sent_at_ >= throttle_ms;
    typing_ = true;
    if (!due || !can_send) return false;
    sent_at_ = now;
    return true;
  }
  // The user stopped (sent, left, said so, or went idle). True when the
  // server had been told they were typing, so it should hear they stopped.
  bool stop() {
    if (!typing_) return false;
    typing_ = false;
    bool was_sent = sent_at_ >= 0;
    sent_at_ = -1;
    return was_sent;
  }
  // The connection is gone: the next keystroke on a new one is told at once.
  void connection_lost() { sent_at_ = -1; }
  // When the indicator stops for want of input.
  std::optional<std::int64_t> deadline() const { return typing_ ? std::optional(stop_at_) : std::nullopt; }

 private:
  bool typing_ = false;
  std::int64_t sent_at_ = -1;  // the last frame sent (-1: none on this connection)
  std::int64_t stop_at_ = 0;
};

class Typists {
 public:
  struct Typist {
    std::string name;
    std::int64_t until = 0;
  };
  void started(const std::string& user_id, std::string name, std::int64_t until) {
    typists_[user_id] = Typist{std::move(name), until};
  }
  // True when the user was shown typing.
  bool stopped(const std::string& user_id) { return typists_.erase(user_id) > 0; }
  void clear() { typists_.clear(); }
  // Drops those whose TTL ended; true when any did.
  bool expire(std::int64_t now) {
    bool changed = false;
    for (auto it = typists_.begin(); it != typists_.end();) {
      if (it->second.until <= now) {
        it = typists_.erase(it);
        changed = true;
      } else {
        ++it;
      }
    }
    return changed;
  }
  std::optional<std::int64_t> deadline() const {
    std::optional<std::int64_t> at;
    for (const auto& [user, t] : typists_) {
      if (!at || t.until < *at) at = t.until;
    }
    return at;
  }
  const std::map<std::string, Typist>& all() const { return typists_; }

 private:
  std::map<std::string, Typist> typists_;  // by user id
};

}  // namespace parley::client
