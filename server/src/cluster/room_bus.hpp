// What a hub needs from the cluster bus (issue 15): the other parleyd nodes
// sharing its storage hear of what happens in its rooms, and it of theirs.
// The hub publishes each room's events on the room's channel and watches
// the channels of the rooms it holds in memory; presence contributions are
// also stored, so that a node loading a room learns who is online elsewhere.
// RedisBus implements it; tests may pass their own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hub/presence.hpp"

namespace parley::server {

// One node's word on one user's presence in a room: its aggregate over the
// user's connections to that node.
struct Contribution {
  std::string node;
  std::string user_id;
  PresenceStatus status = PresenceStatus::offline;
  std::int64_t last_seen = 0;
};

class RoomBus {
 public:
  virtual ~RoomBus() = default;

  // This node's id, unique in the cluster for the life of the process.
  virtual const std::string& node() const = 0;
  // Connected to the bus: publishes go out, watched channels are heard.
  virtual bool up() const = 0;
  // Whether `node` still runs: heard from lately (or before the bus went
  // down, when nothing can be known).
  virtual bool alive(const std::string& node) const = 0;

  // Never blocks; dropped (and counted) while the bus is down. Events of
  // one channel published from one thread, or under one lock, keep their order.
  virtual void publish(const std::string& channel, std::string event) = 0;
  // The node hears the channel's events until unwatch; once the bus has
  // confirmed it (again after every reconnection), the owner is told so
  // that it can catch up with what it may have missed.
  virtual void watch(const std::string& channel) = 0;
  virtual void unwatch(const std::string& channel) = 0;

  // Stores this node's contribution for joiners on other nodes (offline
  // removes it). Never blocks.
  virtual void store_presence(const std::string& channel, const Contribution& c) = 0;
  // The contributions of live nodes stored for the channel. Blocks for at
  // most a few hundred milliseconds: storage threads only. Empty when down.
  virtual std::vector<Contribution> stored_presence(const std::string& channel) = 0;
};

}  // namespace parley::server
