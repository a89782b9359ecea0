#include "hub/remote_presence.hpp"

namespace parley::server {

int presence_rank(PresenceStatus status) {
  switch (status) {
    case PresenceStatus::online:
      return 3;
    case PresenceStatus::idle:
      return 2;
    case PresenceStatus::away:
      return 1;
    case PresenceStatus::offline:
      return 0;
  }
  return 0;
}

void RemotePresence::set(const std::string& node, const std::string& user_id, Word word) {
  if (word.status != PresenceStatus::offline) {
    users_[user_id][node] = word;
    return;
  }
  auto it = users_.find(user_id);
  if (it == users_.end()) return;
  it->second.erase(node);
  if (it->second.empty()) users_.erase(it);
}

std::vector<std::string> RemotePresence::forget_dead(const std::function<bool(const std::string&)>& alive) {
  std::vector<std::string> affected;
  for (auto user = users_.begin(); user != users_.end();) {
    bool touched = std::erase_if(user->second, [&](const auto& entry) { return !alive(entry.first); }) > 0;
    if (touched) affected.push_back(user->first);
    user = user->second.empty() ? users_.erase(user) : std::next(user);
  }
  return affected;
}

std::vector<std::string> RemotePresence::clear() {
  std::vector<std::string> affected;
  for (const auto& [user_id, words] : users_) affected.push_back(user_id);
  users_.clear();
  return affected;
}

std::optional<RemotePresence::Word> RemotePresence::best(const std::string& user_id) const {
  auto it = users_.find(user_id);
  if (it == users_.end()) return std::nullopt;
  std::optional<Word> out;
  for (const auto& [node, word] : it->second) {
    if (!out || presence_rank(word.status) > presence_rank(out->status)) {
      std::int64_t seen = out ? std::max(out->last_seen, word.last_seen) : word.last_seen;
      out = Word{word.status, seen};
    } else {
      out->last_seen = std::max(out->last_seen, word.last_seen);
    }
  }
  return out;
}

}  // namespace parley::server
