// What one user may do over all their connections, wherever they landed:
// how many connections they hold, and a token bucket per rate class. In a
// cluster, both are the cluster's (shared_limits.hpp), with this node's own
// as the fallback while Redis cannot answer.
// Thread-safe: users are split into shards with a lock each.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "cluster/shared_limits.hpp"
#include "rate_limit.hpp"

namespace parley::server {

class UserLimits {
 public:
  // `shared`: the cluster's (its keys start with `scope`, the tenant), or none.
  UserLimits(std::uint32_t max_connections_per_user, const Rates& per_connection, const Rates& per_user,
             SharedLimits* shared = nullptr, std::string scope = {});

  // Counts a connection of the user; false (and not counted) when the user
  // already has the most allowed.
  bool add_connection(const std::string& user_id);
  void remove_connection(const std::string& user_id);
  // Takes a token of the user's budget for the class: 0, or milliseconds
  // until the next request of the class is allowed.
  std::int64_t take(const std::string& user_id, RateClass which, std::int64_t now);

  // Users with at least one connection.
  std::size_t users() const;

 private:
  struct User {
    int connections = 0;
    // Only once they can refuse what the connection's own buckets allow: a
    // user with one connection whose user rates are at least its connection
    // rates (the defaults) never drains them first. They start full when a
    // second connection comes, which is generous by one burst.
    std::unique_ptr<RateBuckets> buckets;
  };
  static constexpr std::size_t kShards = 32;
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, User> users;
  };
  Shard& shard_of(const std::string& user_id) { return shards_[std::hash<std::string>{}(user_id) % kShards]; }

  std::string key_of(const std::string& user_id) const { return scope_ + "/" + user_id; }

  std::uint32_t max_connections_;
  Rates rates_;
  SharedLimits* shared_;
  std::string scope_;
  bool buckets_always_;  // some user rate is tighter than its per-connection rate
  std::array<Shard, kShards> shards_;
};

}  // namespace parley::server
