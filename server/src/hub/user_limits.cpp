#include "hub/user_limits.hpp"

namespace parley::server {

UserLimits::UserLimits(std::uint32_t max_connections_per_user, const Rates& per_connection, const Rates& per_user,
                       SharedLimits* shared, std::string scope)
    : max_connections_(max_connections_per_user),
      rates_(per_user),
      shared_(shared),
      scope_(std::move(scope)),
      buckets_always_([&] {
        for (const auto& c : kRateClasses) {
          const Rate& user = per_user[c.which];
          const Rate& connection = per_connection[c.which];
          if (user.per_second < connection.per_second || user.burst < connection.burst) return true;
        }
        return false;
      }()) {}

bool UserLimits::add_connection(const std::string& user_id) {
  Shard& shard = shard_of(user_id);
  {
    std::lock_guard lock(shard.mutex);
    User& user = shard.users[user_id];
    if (user.connections >= static_cast<int>(max_connections_)) {
      if (user.connections == 0) shard.users.erase(user_id);
      return false;
    }
    ++user.connections;
    if (!user.buckets && (user.connections > 1 || buckets_always_)) {
      user.buckets = std::make_unique<RateBuckets>(rates_);
    }
  }
  // The cluster's count, without holding the shard while Redis answers.
  if (!shared_) return true;
  std::optional<bool> counted = shared_->add_connection(key_of(user_id), max_connections_);
  if (!counted || *counted) return true;
  std::lock_guard lock(shard.mutex);
  auto it = shard.users.find(user_id);
  if (it != shard.users.end() && --it->second.connections <= 0) shard.users.erase(it);
  return false;
}

void UserLimits::remove_connection(const std::string& user_id) {
  Shard& shard = shard_of(user_id);
  std::lock_guard lock(shard.mutex);
  auto it = shard.users.find(user_id);
  if (it == shard.users.end()) return;
  if (--it->second.connections <= 0) shard.users.erase(it);
  if (shared_) shared_->remove_connection(key_of(user_id));
}

std::int64_t UserLimits::take(const std::string& user_id, RateClass which, std::int64_t now) {
  if (shared_) {
    const Rate& rate = rates_[which];
    std::string key = key_of(user_id) + "/" + std::to_string(static_cast<int>(which));
    if (std::optional<std::int64_t> wait = shared_->take(key, rate.per_second, rate.burst)) return *wait;
  }
  Shard& shard = shard_of(user_id);
  std::lock_guard lock(shard.mutex);
  auto it = shard.users.find(user_id);
  if (it == shard.users.end() || !it->second.buckets) return 0;
  return (*it->second.buckets)[which].take(rates_[which], now);
}

std::size_t UserLimits::users() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.users.size();
  }
  return n;
}

}  // namespace parley::server
