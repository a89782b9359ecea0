// Per-user limits held for the whole cluster (issue 15): a user's
// connections counted over every node, and token buckets shared by them, kept
// in Redis and changed atomically there (a Lua script per operation). Every
// call may wait for Redis: storage threads only. When Redis cannot answer
// (down, slow), the calls say so and UserLimits falls back to this node's own
// count and buckets, which is generous by the other nodes' share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace parley::server {

class SharedLimits {
 public:
  virtual ~SharedLimits() = default;
  // Counts one more connection of `key` unless live nodes already hold
  // `max`: true if counted, false if refused, nullopt if Redis did not answer.
  virtual std::optional<bool> add_connection(const std::string& key, std::uint32_t max) = 0;
  virtual void remove_connection(const std::string& key) = 0;
  // Takes a token from the bucket `key` (refilled at `per_second`, holding
  // `burst`): 0, or milliseconds until one is due; nullopt if Redis did not answer.
  virtual std::optional<std::int64_t> take(const std::string& key, double per_second, double burst) = 0;
};

}  // namespace parley::server
