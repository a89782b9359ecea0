// Presence in one room, aggregated over each user's connections, as a pure
// state machine over explicit time:
//   online   a connection is joined (and there was activity recently)
//   idle     no activity from the user for `idle_after`
//   away     set by the user; sticks until they set online
//   offline  the last connection left `offline_grace` ago (a quick reconnect
//            within the grace period never shows offline)
// Callers broadcast the changes it returns.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::server {

struct PresenceTimings {
  std::int64_t idle_after_ms = 300000;
  std::int64_t offline_grace_ms = 5000;
};

// The wire's status words, as a byte: one entry per member of a room.
enum class PresenceStatus : std::uint8_t { offline, online, idle, away };
std::string_view to_string(PresenceStatus status);
std::optional<PresenceStatus> parse_presence_status(std::string_view word);

struct PresenceChange {
  std::string user_id;
  PresenceStatus status = PresenceStatus::offline;
  std::int64_t last_seen = 0;
};

class RoomPresence {
 public:
  explicit RoomPresence(PresenceTimings timings) : timings_(timings) {}

  std::optional<PresenceChange> connected(const std::string& user_id, std::int64_t now);
  void disconnected(const std::string& user_id, std::int64_t now);
  // A request from the user (send, typing, read, ...): idle turns online.
  std::optional<PresenceChange> activity(const std::string& user_id, std::int64_t now);
  // The user's own choice: online, idle or away.
  std::optional<PresenceChange> set_status(const std::string& user_id, PresenceStatus status, std::int64_t now);
  // Transitions that are due at `now` (idle, offline).
  std::vector<PresenceChange> tick(std::int64_t now);

  // offline for users never seen.
  PresenceStatus status_of(const std::string& user_id) const;
  std::optional<std::int64_t> last_seen_of(const std::string& user_id) const;
  // Every user not offline, with their status and last seen.
  std::vector<PresenceChange> present() const;
  // Users with at least one connection in the room.
  std::size_t connected_users() const;
  // Nobody connected and no offline transition pending: nothing left that
  // Storage does not hold (the last seen times are stored when users go offline).
  bool settled() const;

 private:
  using Status = PresenceStatus;
  struct Entry {
    int connections = 0;
    Status status = Status::offline;
    bool away = false;  // chosen by the user
    std::int64_t last_activity = 0;
    std::int64_t last_seen = 0;
    std::optional<std::int64_t> offline_at;  // grace deadline once the last connection left
  };
  std::optional<PresenceChange> change(const std::string& user_id, Entry& e, Status status);

  PresenceTimings timings_;
  std::map<std::string, Entry> users_;
};

}  // namespace parley::server
