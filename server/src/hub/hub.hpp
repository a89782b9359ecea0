// The hub: what happens in rooms. It coordinates the parts in this folder
//   room_registry  the rooms in memory, a lock each, evicted when settled
//   access_policy  who may join, leave for good, remove members, set roles
//   replay         what a join replays, and pages of history
//   presence       online, idle, away and offline per room, over time
//   typing         who is typing, and when the room is told again
// with Storage (what survives a restart) and fan-out (frames to peers, in
// each room's order). It knows nothing of sockets. Per-user limits are
// UserLimits, beside it.
//
// Thread-safe without a global lock: each request takes its room's lock,
// and a room's frames are fanned out while it is held, so every subscriber
// receives them in seq order. Every request about a room is checked against
// the room's subscribers under that lock: a connection that left, or whose
// user was removed, has no access to the room from that moment, whatever it
// asks. Storage failures answer the request that met them with `internal`
// (the client retries); the room is read again from storage on its next
// use, so a write that did land after all is not missed.
//
// In a cluster (a RoomBus, issue 15), several nodes share the storage and
// hold subscribers of the same rooms. Each room's events are published on
// its channel (hub_cluster.cpp): a node delivers another's messages in seq
// order, filling any gap from storage first, so every subscriber on every
// node sees one gap-free order; presence merges every node's word.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth.hpp"
#include "cluster/bus_events.hpp"
#include "cluster/room_bus.hpp"
#include "config.hpp"
#include "hub/presence.hpp"
#include "hub/room_registry.hpp"
#include "parley/protocol/messages.hpp"
#include "parley/protocol/result.hpp"
#include "peer.hpp"
#include "storage/storage.hpp"

namespace parley::server {

class Hub {
 public:
  // `max_rooms`: how many rooms `storage` may hold (0: no limit), read at
  // each creation; a join that would create one more is refused.
  // `bus`: the cluster's, or none for a node on its own; `tenant` names the
  // rooms' channels on it.
  Hub(Storage& storage, Dispatch& dispatch, const Config& config, const std::atomic<std::uint32_t>* max_rooms = nullptr,
      RoomBus* bus = nullptr, std::string tenant = "default");
  ~Hub();

  // Subscribes `peer` to the room (creating it, or adding the user as a
  // member, when allowed) and delivers `joined` to it before any live frame
  // of the room. Returns the refusal otherwise.
  std::optional<protocol::Error> join(const Identity& user, const std::shared_ptr<Peer>& peer,
                                      const protocol::c2s::Join& request, std::int64_t now);
  // Unsubscribes one connection; presence goes offline after the grace period
  // if it was the user's last one in the room. The user stays a member and
  // may join again. With `forget`, the membership ends too (leaving for good):
  // the user's other connections in the room get `removed`, and a private
  // room can only be joined again with a token that names it.
  std::optional<protocol::Error> leave(const std::string& room_id, const Identity& user, const Peer* peer, bool forget,
                                       std::int64_t now);

  // Stores a message and broadcasts it, or returns the original message of a
  // retried (sender, clientMsgId) without storing or broadcasting anything.
  struct Posted {
    protocol::Message message;
    bool duplicate = false;
  };
  protocol::Result<Posted> post(const std::string& room_id, const Identity& sender, const Peer* from,
                                const std::string& client_msg_id, const protocol::Draft& draft, std::int64_t now);

  protocol::Result<protocol::s2c::History> history(const std::string& room_id, const Peer* from,
                                                   std::optional<std::int64_t> before_seq, std::size_t limit);

  // Removes `target` from the room: its connections get `removed` and are
  // unsubscribed (access_policy says who may).
  std::optional<protocol::Error> kick(const std::string& room_id, const Identity& actor, const Peer* from,
                                      const std::string& target, std::int64_t now);

  // Makes a member `admin` or `member` (the admin API); the room's members
  // see the change in a presence diff. The owner's role does not change.
  protocol::Result<MemberRecord> set_role(const std::string& room_id, const std::string& user_id,
                                          const std::string& role, std::int64_t now);

  // Relays a typing indicator to the room's other users (see typing.hpp).
  std::optional<protocol::Error> typing(const std::string& room_id, const Identity& user, const Peer* from, bool active,
                                        std::int64_t now);

  // Moves the user's read or delivered watermark forward and broadcasts it.
  std::optional<protocol::Error> receipt(const std::string& room_id, const Identity& user, const Peer* from,
                                         Watermark which, std::int64_t up_to_seq);

  // Presence: the user's own status, and activity that ends `idle`, in the
  // rooms `from` is subscribed to among `room_ids`.
  void set_status(const std::vector<std::string>& room_ids, const Identity& user, const Peer* from,
                  PresenceStatus status, std::int64_t now);
  void activity(const std::vector<std::string>& room_ids, const Identity& user, const Peer* from, std::int64_t now);

  // Presence transitions that are due (idle, offline), typing expiry, and
  // eviction of settled rooms.
  void tick(std::int64_t now);

  // Cluster: an event another node published on the room's channel.
  void on_bus_event(const std::string& room_id, const RoomEvent& event, std::int64_t now);
  // Cluster, on the bus's thread: delivers another node's message at once
  // when that needs nothing that may wait (it is the next seq of a room in
  // memory whose lock is free); true if it was handled, false if it must go
  // through on_bus_event on a storage thread.
  bool deliver_now(const std::string& room_id, const RoomEvent& event);
  // Cluster: the bus confirmed the room's channel is heard (again, after a
  // reconnection): catches up with the messages and presence missed meanwhile.
  void resync(const std::string& room_id);

  // Rooms in memory (subscribed, or settling presence).
  std::size_t rooms_loaded() const { return rooms_.size(); }
  // Joins refused because they would have created a room past max_rooms.
  std::size_t rooms_refused() const { return rooms_refused_.load(std::memory_order_relaxed); }

 private:
  // With the room locked: true when it is loaded, from storage if need be;
  // false when storage has no such room.
  protocol::Result<bool> load_stored(Room& room);
  // With the room locked: its record is in memory (read again after a storage
  // failure), or the error that answers the request.
  std::optional<protocol::Error> ensure_loaded(Room& room);
  // A storage failure met while serving a request: logged, the room is read
  // again on its next use, and the request is answered `internal`.
  protocol::Error unavailable(Room* room, const protocol::Error& failure, const char* operation);
  // With the room locked: loads or creates it if `user` may, and makes the
  // user a member if they may join; else the refusal.
  std::optional<protocol::Error> open_for(Room& room, const std::string& room_id, const Identity& user,
                                          std::int64_t now);
  // The members with their presence, from their stored records.
  std::vector<protocol::Member> members_of(Room& room, const std::vector<MemberRecord>& records);
  // Unsubscribes every connection of `user_id` in the room; returns them.
  std::vector<std::shared_ptr<Peer>> unsubscribe_user(Room& room, const std::string& user_id, const std::string& name,
                                                      std::int64_t now);
  protocol::s2c::Presence presence_frame(Room& room, const std::vector<PresenceChange>& changes);
  void broadcast_presence(Room& room, const std::vector<PresenceChange>& changes);
  void stop_typing(Room& room, const std::string& user_id, const std::string& name);
  // Tells the subscribers that `user_id` is offline, now (removed, or left).
  void announce_gone(Room& room, const std::string& user_id, std::int64_t now);

  // ---- presence over the cluster (hub_cluster.cpp)
  // This node's word on users changed: told to the other nodes, and to the
  // subscribers where the merged status changed.
  void local_presence(Room& room, const std::vector<PresenceChange>& changes);
  // Publishes and stores this node's word on a user (the bus is set).
  void tell_presence(Room& room, const PresenceChange& change);
  // Tells the subscribers of each user whose merged status is not what they
  // were last shown.
  void settle_presence(Room& room, const std::vector<std::string>& user_ids);
  // The user's status merged over this node and the others.
  PresenceChange merged_presence(const Room& room, const std::string& user_id) const;
  // Reads the other nodes' words stored on the bus (a room just loaded, or
  // the bus back).
  void load_remote_presence(Room& room);

  // ---- messages over the cluster
  // With the room locked and loaded: delivers to the subscribers whatever
  // storage holds past record.head_seq, in order.
  std::optional<protocol::Error> catch_up(Room& room);
  // Starts hearing the room's channel.
  void watch(Room& room);
  void publish(Room& room, RoomEvent::Kind kind, const std::string& user_id, const protocol::s2c::Frame* frame);
  void deliver_remote(Room& room, const RoomEvent& event, std::int64_t now);

  Storage& storage_;
  Dispatch& dispatch_;
  const Config& config_;
  RoomRegistry rooms_;
  const std::atomic<std::uint32_t>* max_rooms_;
  std::atomic<std::size_t> rooms_refused_{0};
  RoomBus* bus_;
  std::string tenant_;
};

}  // namespace parley::server
