#include "hub/typing.hpp"

#include <iterator>

namespace parley::server {

bool RoomTyping::typed(const std::string& user_id, std::int64_t now) {
  auto [it, first] = typists_.try_emplace(user_id);
  Typist& t = it->second;
  if (!first && t.until > now && now - t.told_at < ttl_ms_ / 3) return false;
  t.told_at = now;
  t.until = now + ttl_ms_;
  return true;
}

bool RoomTyping::stopped(const std::string& user_id) { return typists_.erase(user_id) > 0; }

void RoomTyping::expire(std::int64_t now) {
  for (auto it = typists_.begin(); it != typists_.end();) {
    it = it->second.until <= now ? typists_.erase(it) : std::next(it);
  }
}

}  // namespace parley::server
