#include "hub/presence.hpp"

namespace parley::server {

namespace {
constexpr std::string_view kWords[] = {"offline", "online", "idle", "away"};
}  // namespace

std::string_view to_string(PresenceStatus status) { return kWords[static_cast<std::size_t>(status)]; }

std::optional<PresenceStatus> parse_presence_status(std::string_view word) {
  for (std::size_t i = 0; i < std::size(kWords); ++i) {
    if (kWords[i] == word) return static_cast<PresenceStatus>(i);
  }
  return std::nullopt;
}

std::optional<PresenceChange> RoomPresence::change(const std::string& user_id, Entry& e, Status status) {
  if (e.status == status) return std::nullopt;
  e.status = status;
  return PresenceChange{user_id, status, e.last_seen};
}

std::optional<PresenceChange> RoomPresence::connected(const std::string& user_id, std::int64_t now) {
  Entry& e = users_[user_id];
  ++e.connections;
  e.offline_at.reset();
  e.last_activity = now;
  e.last_seen = now;
  if (e.status == Status::offline || e.status == Status::idle) {
    return change(user_id, e, e.away ? Status::away : Status::online);
  }
  return std::nullopt;
}

void RoomPresence::disconnected(const std::string& user_id, std::int64_t now) {
  auto it = users_.find(user_id);
  if (it == users_.end() || it->second.connections == 0) return;
  Entry& e = it->second;
  e.last_seen = now;
  if (--e.connections == 0) e.offline_at = now + timings_.offline_grace_ms;
}

std::optional<PresenceChange> RoomPresence::activity(const std::string& user_id, std::int64_t now) {
  auto it = users_.find(user_id);
  if (it == users_.end() || it->second.connections == 0) return std::nullopt;
  Entry& e = it->second;
  e.last_activity = now;
  e.last_seen = now;
  if (e.status == Status::idle && !e.away) return change(user_id, e, Status::online);
  return std::nullopt;
}

std::optional<PresenceChange> RoomPresence::set_status(const std::string& user_id, PresenceStatus chosen,
                                                       std::int64_t now) {
  auto it = users_.find(user_id);
  if (it == users_.end() || it->second.connections == 0) return std::nullopt;
  if (chosen == Status::offline) chosen = Status::online;  // a connected user is not offline
  Entry& e = it->second;
  e.away = chosen == Status::away;
  e.last_seen = now;
  if (chosen == Status::online) e.last_activity = now;
  return change(user_id, e, chosen);
}

std::vector<PresenceChange> RoomPresence::tick(std::int64_t now) {
  std::vector<PresenceChange> out;
  for (auto& [user_id, e] : users_) {
    if (e.connections == 0 && e.offline_at && *e.offline_at <= now) {
      e.offline_at.reset();
      e.away = false;
      if (auto c = change(user_id, e, Status::offline)) out.push_back(*c);
    } else if (e.connections > 0 && e.status == Status::online && now - e.last_activity >= timings_.idle_after_ms) {
      if (auto c = change(user_id, e, Status::idle)) out.push_back(*c);
    }
  }
  return out;
}

PresenceStatus RoomPresence::status_of(const std::string& user_id) const {
  auto it = users_.find(user_id);
  return it == users_.end() ? Status::offline : it->second.status;
}

std::optional<std::int64_t> RoomPresence::last_seen_of(const std::string& user_id) const {
  auto it = users_.find(user_id);
  if (it == users_.end()) return std::nullopt;
  return it->second.last_seen;
}

std::vector<PresenceChange> RoomPresence::present() const {
  std::vector<PresenceChange> out;
  for (const auto& [user_id, e] : users_) {
    if (e.status != Status::offline) out.push_back(PresenceChange{user_id, e.status, e.last_seen});
  }
  return out;
}

std::size_t RoomPresence::connected_users() const {
  std::size_t n = 0;
  for (const auto& [user_id, e] : users_) n += e.connections > 0 ? 1 : 0;
  return n;
}

bool RoomPresence::settled() const {
  for (const auto& [user_id, e] : users_) {
    if (e.connections > 0 || e.offline_at) return false;
  }
  return true;
}

}  // namespace parley::server
