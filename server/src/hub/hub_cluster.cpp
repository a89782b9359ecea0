// The hub's side of the cluster bus (hub.hpp): what this node tells the
// others about its rooms, and what it does with what they tell it.
#include <algorithm>

#include "hub/hub.hpp"
#include "log.hpp"

namespace parley::server {

using namespace protocol;

void Hub::watch(Room& room) {
  if (!bus_ || room.watched) return;
  bus_->watch(room_channel(tenant_, room.record.id));
  room.watched = true;
}

void Hub::publish(Room& room, RoomEvent::Kind kind, const std::string& user_id, const s2c::Frame* frame) {
  if (!bus_) return;
  RoomEvent e;
  e.kind = kind;
  e.origin = bus_->node();
  e.user_id = user_id;
  if (frame) e.frame = encode(*frame, Codec::binary);
  bus_->publish(room_channel(tenant_, room.record.id), encode(e));
}

std::optional<Error> Hub::catch_up(Room& room) {
  constexpr std::size_t kPage = 256;
  for (;;) {
    auto more = storage_.messages_after(room.record.id, room.record.head_seq, kPage);
    if (!more) return more.error();
    auto subscribers = room.live_subscribers();
    for (auto& m : more.value()) {
      if (m.seq <= room.record.head_seq) continue;
      room.record.head_seq = m.seq;
      if (!subscribers.empty()) fan_out(dispatch_, subscribers, s2c::MessageEvent{std::move(m)});
    }
    if (more.value().size() < kPage) return std::nullopt;
  }
}

PresenceChange Hub::merged_presence(const Room& room, const std::string& user_id) const {
  PresenceChange out{user_id, room.presence.status_of(user_id), room.presence.last_seen_of(user_id).value_or(0)};
  if (auto word = room.remote.best(user_id)) {
    if (presence_rank(word->status) > presence_rank(out.status)) out.status = word->status;
    out.last_seen = std::max(out.last_seen, word->last_seen);
  }
  return out;
}

void Hub::settle_presence(Room& room, const std::vector<std::string>& user_ids) {
  std::vector<PresenceChange> told;
  for (const auto& user_id : user_ids) {
    PresenceChange now_is = merged_presence(room, user_id);
    auto shown = room.shown.find(user_id);
    PresenceStatus was = shown == room.shown.end() ? PresenceStatus::offline : shown->second;
    if (now_is.status == was) continue;
    if (now_is.status == PresenceStatus::offline) {
      room.shown.erase(shown);
    } else {
      room.shown[user_id] = now_is.status;
    }
    told.push_back(std::move(now_is));
  }
  broadcast_presence(room, told);
}

void Hub::tell_presence(Room& room, const PresenceChange& c) {
  std::string channel = room_channel(tenant_, room.record.id);
  bus_->publish(channel,
                encode(RoomEvent{RoomEvent::Kind::presence, bus_->node(), c.user_id, c.status, c.last_seen, {}}));
  bus_->store_presence(channel, Contribution{bus_->node(), c.user_id, c.status, c.last_seen});
}

void Hub::local_presence(Room& room, const std::vector<PresenceChange>& changes) {
  if (changes.empty()) return;
  std::vector<std::string> user_ids;
  for (const auto& c : changes) {
    user_ids.push_back(c.user_id);
    if (bus_) tell_presence(room, c);
  }
  settle_presence(room, user_ids);
}

void Hub::load_remote_presence(Room& room) {
  std::vector<std::string> affected = room.remote.clear();
  for (auto& c : bus_->stored_presence(room_channel(tenant_, room.record.id))) {
    if (c.node == bus_->node()) continue;
    affected.push_back(c.user_id);
    room.remote.set(c.node, c.user_id, RemotePresence::Word{c.status, c.last_seen});
  }
  settle_presence(room, affected);
}

void Hub::resync(const std::string& room_id) {
  if (!bus_) return;
  LockedRoom room = rooms_.lock(room_id, false);
  if (!room || !room.room->loaded) return;
  if (auto failed = catch_up(*room)) unavailable(room.room.get(), *failed, "read messages");
  // Our words may have been lost while the bus was down: said again.
  for (const auto& c : room->presence.present()) tell_presence(*room, c);
  load_remote_presence(*room);
}

bool Hub::deliver_now(const std::string& room_id, const RoomEvent& event) {
  if (!bus_ || event.kind != RoomEvent::Kind::message) return false;
  if (event.origin == bus_->node()) return true;
  LockedRoom room = rooms_.try_lock(room_id);
  if (!room || !room.room->loaded) return false;
  auto decoded = decode_server_frame(event.frame, Codec::binary);
  auto* m = decoded ? std::get_if<s2c::MessageEvent>(&decoded.value()) : nullptr;
  if (!m || m->message.roomId != room_id) return false;
  if (m->message.seq <= room->record.head_seq) return true;  // delivered already (read from storage)
  if (m->message.seq != room->record.head_seq + 1) return false;
  room->record.head_seq = m->message.seq;
  fan_out(dispatch_, room->live_subscribers(), decoded.value());
  return true;
}

void Hub::on_bus_event(const std::string& room_id, const RoomEvent& event, std::int64_t now) {
  if (!bus_ || event.origin == bus_->node()) return;
  LockedRoom room = rooms_.lock(room_id, false);
  // A room not in memory has nobody to tell; it reads storage when loaded.
  if (!room || !room.room->loaded) return;
  deliver_remote(*room, event, now);
}

void Hub::deliver_remote(Room& room, const RoomEvent& event, std::int64_t now) {
  using Kind = RoomEvent::Kind;
  if (event.kind == Kind::presence) {
    room.remote.set(event.origin, event.user_id, RemotePresence::Word{event.status, event.last_seen});
    settle_presence(room, {event.user_id});
    return;
  }
  if (event.kind == Kind::status) {
    if (auto c = room.presence.set_status(event.user_id, event.status, now)) local_presence(room, {*c});
    return;
  }
  auto decoded = decode_server_frame(event.frame, Codec::binary);
  if (!decoded) {
    log::warn("bus event refused", {{"room", room.record.id}, {"error", decoded.error().message}});
    return;
  }
  s2c::Frame& frame = decoded.value();
  switch (event.kind) {
    case Kind::message: {
      auto* m = std::get_if<s2c::MessageEvent>(&frame);
      if (!m || m->message.roomId != room.record.id) break;
      if (m->message.seq <= room.record.head_seq) return;  // delivered already (caught up from storage)
      if (m->message.seq == room.record.head_seq + 1) {
        room.record.head_seq = m->message.seq;
        fan_out(dispatch_, room.live_subscribers(), frame);
        return;
      }
      // A gap: the bus lost or reordered messages; storage has them all.
      if (auto failed = catch_up(room)) unavailable(&room, *failed, "read messages");
      return;
    }
    case Kind::frame:
      fan_out(dispatch_, room.live_subscribers(), frame);
      return;
    case Kind::typing:
      fan_out(dispatch_, room.live_subscribers(event.user_id), frame);
      return;
    case Kind::removed: {
      if (!std::holds_alternative<s2c::Removed>(frame)) break;
      auto gone = unsubscribe_user(room, event.user_id, event.user_id, now);
      fan_out(dispatch_, gone, frame);
      announce_gone(room, event.user_id, now);
      return;
    }
    default:
      break;
  }
  log::warn("bus event refused", {{"room", room.record.id}, {"error", "the frame does not fit the event"}});
}

}  // namespace parley::server
