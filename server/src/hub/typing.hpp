// Who is typing in one room, as a pure state machine over explicit time.
// Receivers show an indicator for its TTL after the last relayed `typing`
// frame, so a typist's refreshes are relayed again once a third of the TTL
// has passed since the room was last told: the indicator stays up while the
// user types, and a client refreshing every few milliseconds costs the room
// nothing more.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace parley::server {

class RoomTyping {
 public:
  explicit RoomTyping(std::int64_t ttl_ms) : ttl_ms_(ttl_ms) {}

  // The user is typing at `now`: true when the room should be told.
  bool typed(const std::string& user_id, std::int64_t now);
  // The user stopped (sent, left, said so, was removed): true when the room
  // had been told they were typing.
  bool stopped(const std::string& user_id);
  // Forgets indicators past their TTL (receivers expire them on their own).
  void expire(std::int64_t now);
  bool empty() const { return typists_.empty(); }
  std::int64_t ttl_ms() const { return ttl_ms_; }

 private:
  struct Typist {
    std::int64_t until = 0;    // the indicator's end, as receivers see it
    std::int64_t told_at = 0;  // when the room was last told
  };
  std::int64_t ttl_ms_;
  std::unordered_map<std::string, Typist> typists_;
};

}  // namespace parley::server
