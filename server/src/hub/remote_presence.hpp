// Presence in one room as the other nodes of the cluster report it: each
// node's contribution per user (its aggregate over the user's connections
// to it). The hub merges them with its own RoomPresence: a user is as
// present as the most present word on them, online before idle before away.
// A pure structure; the hub forgets the nodes the bus says are gone.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hub/presence.hpp"

namespace parley::server {

// online > idle > away > offline.
int presence_rank(PresenceStatus status);

class RemotePresence {
 public:
  struct Word {
    PresenceStatus status = PresenceStatus::offline;
    std::int64_t last_seen = 0;
  };
  // A node's word on a user; offline forgets it.
  void set(const std::string& node, const std::string& user_id, Word word);
  // Forgets every word of the nodes `alive` says are gone; returns the users
  // they spoke for.
  std::vector<std::string> forget_dead(const std::function<bool(const std::string&)>& alive);
  // Forgets everything; returns the users it spoke for.
  std::vector<std::string> clear();
  // The most present status any node gives the user, with the latest last seen.
  std::optional<Word> best(const std::string& user_id) const;
  bool empty() const { return users_.empty(); }

 private:
  std::map<std::string, std::map<std::string, Word>> users_;  // user -> node -> word
};

}  // namespace parley::server
