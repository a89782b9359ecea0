#include "hub/hub.hpp"

#include <algorithm>
#include <random>

#include "hub/access_policy.hpp"
#include "hub/replay.hpp"
#include "log.hpp"

namespace parley::server {

using namespace protocol;

namespace {

std::string random_id(const char* prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = prefix;
  for (int word = 0; word < 2; ++word) {
    std::uint64_t r = rng();
    for (int i = 0; i < 8; ++i) {
      id.push_back(kAlphabet[r % 36]);
      r /= 36;
    }
  }
  return id;
}

std::optional<Role> role_of(const std::optional<MemberRecord>& member) {
  if (!member) return std::nullopt;
  return member->role;
}

}  // namespace

Hub::Hub(Storage& storage, Dispatch& dispatch, const Config& config, const std::atomic<std::uint32_t>* max_rooms,
         RoomBus* bus, std::string tenant)
    : storage_(storage),
      dispatch_(dispatch),
      config_(config),
      rooms_(PresenceTimings{config.idle_after_ms, config.offline_grace_ms}, config.typing_ttl_ms),
      max_rooms_(max_rooms),
      bus_(bus),
      tenant_(std::move(tenant)) {}

Hub::~Hub() = default;

Error Hub::unavailable(Room* room, const Error& failure, const char* operation) {
  log::error("storage failed", {{"operation", operation}, {"error", failure.message}});
  // The stored state may differ from ours (a commit that reported failure
  // may have landed): read it again before the room's next write.
  if (room) room->loaded = false;
  return Error{ErrorCode::internal, "the server could not reach its storage; try again", ""};
}

Result<bool> Hub::load_stored(Room& room) {
  if (room.loaded) return true;
  auto stored = storage_.load_room(room.record.id);
  if (!stored) return stored.error();
  if (!stored.value()) return false;
  std::int64_t delivered = room.record.head_seq;
  room.record = *stored.value();
  room.loaded = true;
  if (room.known && delivered < room.record.head_seq) {
    // Read again after a failure: the subscribers still wait for what was
    // stored past what they were sent (a write that landed after all, or
    // another node's messages).
    room.record.head_seq = delivered;
    if (auto failed = catch_up(room)) {
      room.loaded = false;
      return *failed;
    }
  }
  room.known = true;
  return true;
}

std::optional<Error> Hub::ensure_loaded(Room& room) {
  auto loaded = load_stored(room);
  if (loaded && loaded.value()) return std::nullopt;
  return unavailable(&room, loaded ? storage_error("the room is missing from storage") : loaded.error(), "load room");
}

std::optional<Error> Hub::open_for(Room& room, const std::string& room_id, const Identity& user, std::int64_t now) {
  auto direct = access::direct_room(room_id, user);
  if (!direct) return direct.error();
  const std::optional<access::DirectPair>& pair = direct.value();

  auto loaded = load_stored(room);
  if (!loaded) return unavailable(&room, loaded.error(), "load room");
  if (!loaded.value()) {
    if (std::uint32_t max = max_rooms_ ? max_rooms_->load(std::memory_order_relaxed) : 0;
        max > 0 && storage_.room_count() >= static_cast<std::int64_t>(max)) {
      rooms_refused_.fetch_add(1, std::memory_order_relaxed);
      return Error{
          ErrorCode::forbidden,
          "no room " + room_id + ", and this app may not create more (its limit is " + std::to_string(max) + " rooms)",
          "/roomId"};
    }
    RoomRecord record;
    record.id = room_id;
    record.kind = access::kind_of_new_room(room_id, pair.has_value(), user);
    record.epoch = random_id("e");
    record.created_at = now;
    std::vector<MemberRecord> first;
    if (pair) {
      // Both sides of a direct room are members from the start.
      for (const auto& id : {pair->first, pair->second}) {
        first.push_back(MemberRecord{room_id, id, id == user.user_id ? user.name : id, Role::member, 0, 0, now, 0});
      }
    } else {
      first.push_back(MemberRecord{room_id, user.user_id, user.name, Role::owner, 0, 0, now, now});
    }
    auto created = storage_.create_room(record, first);
    if (!created) return unavailable(&room, created.error(), "create room");
    if (created.value()) {
      log::info("room created",
                {{"room", room_id}, {"kind", std::string(to_string(record.kind))}, {"by", user.user_id}});
      room.record = record;
      room.loaded = true;
      room.known = true;
    } else if (auto failed = ensure_loaded(room)) {  // created meanwhile by another process on the same storage
      return failed;
    }
  }

  auto member = storage_.load_member(room_id, user.user_id);
  if (!member) return unavailable(&room, member.error(), "load member");
  if (member.value()) {
    if (member.value()->name != user.name) {
      member.value()->name = user.name;  // display names follow the latest token
      if (auto failed = storage_.put_member(*member.value())) return unavailable(&room, *failed, "rename member");
    }
    return std::nullopt;
  }
  if (auto refused = access::may_become_member(room.record.kind, room_id, user)) return refused;
  auto members = storage_.members(room_id);
  if (!members) return unavailable(&room, members.error(), "count members");
  if (auto full = access::has_space(members.value().size(), config_.room_max_members)) return full;
  if (auto failed = storage_.put_member(MemberRecord{room_id, user.user_id, user.name, Role::member, 0, 0, now, now})) {
    return unavailable(&room, *failed, "add member");
  }
  return std::nullopt;
}

std::optional<Error> Hub::join(const Identity& user, const std::shared_ptr<Peer>& peer, const c2s::Join& request,
                               std::int64_t now) {
  LockedRoom locked = rooms_.lock(request.roomId, true);
  Room& room = *locked;
  watch(room);
  bool was_loaded = room.loaded;
  if (auto refused = open_for(room, request.roomId, user, now)) return refused;  // tick() evicts it
  if (bus_) {
    // Other nodes' messages this one has not delivered yet go to the room's
    // subscribers first: the joiner's replay ends where they are.
    if (auto failed = catch_up(room)) return unavailable(&room, *failed, "read messages");
    if (!was_loaded) load_remote_presence(room);
  }

  // Everything read from storage first: a failure leaves no subscription.
  const RoomRecord& r = room.record;
  auto replay = replay_since(storage_, r, request.sinceSeq, config_.replay_limit);
  if (!replay) return unavailable(&room, replay.error(), "read messages");
  auto records = storage_.members(r.id);
  if (!records) return unavailable(&room, records.error(), "read members");

  s2c::Joined joined;
  joined.ref = request.ref;
  joined.room = protocol::Room{r.id, std::string(to_string(r.kind))};
  joined.epoch = r.epoch;
  joined.headSeq = r.head_seq;
  if (replay.value().reset) joined.reset = true;
  joined.messages = std::move(replay.value().messages);
  bool new_subscription = room.subscribers.emplace(peer.get(), Subscriber{peer, user.user_id}).second;
  std::optional<PresenceChange> came = new_subscription ? room.presence.connected(user.user_id, now) : std::nullopt;
  joined.members = members_of(room, records.value());
  fan_out(dispatch_, {peer}, joined);
  if (came) local_presence(room, {*came});
  return std::nullopt;
}

std::optional<Error> Hub::leave(const std::string& room_id, const Identity& user, const Peer* peer, bool forget,
                                std::int64_t now) {
  LockedRoom room = rooms_.lock(room_id, false);
  if (!forget) {
    if (!room) return std::nullopt;
    auto& subs = room->subscribers;
    if (subs.erase(peer) == 0) return std::nullopt;
    bool still_here =
        std::any_of(subs.begin(), subs.end(), [&](const auto& s) { return s.second.user_id == user.user_id; });
    if (!still_here) stop_typing(*room, user.user_id, user.name);
    room->presence.disconnected(user.user_id, now);
    return std::nullopt;
  }
  if (!room || !room->subscribers.count(peer)) {
    return Error{ErrorCode::forbidden, "join the room before leaving it for good", "/roomId"};
  }
  if (auto refused = access::may_leave_for_good(room->record.kind)) return refused;
  auto removed = storage_.remove_member(room_id, user.user_id);
  if (!removed) return unavailable(room.room.get(), removed.error(), "remove member");
  auto others = unsubscribe_user(*room, user.user_id, user.name, now);
  std::erase_if(others, [&](const std::shared_ptr<Peer>& p) { return p.get() == peer; });
  s2c::Frame frame = s2c::Removed{room_id, user.user_id, "you left this room"};
  fan_out(dispatch_, others, frame);
  publish(*room, RoomEvent::Kind::removed, user.user_id, &frame);
  announce_gone(*room, user.user_id, now);
  log::info("member left for good", {{"room", room_id}, {"user", user.user_id}});
  return std::nullopt;
}

Result<Hub::Posted> Hub::post(const std::string& room_id, const Identity& sender, const Peer* from,
                              const std::string& client_msg_id, const Draft& draft, std::int64_t now) {
  Error refusal;
  LockedRoom room = rooms_.lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  auto original = storage_.find_sent(room_id, sender.user_id, client_msg_id);
  if (!original) return unavailable(room.room.get(), original.error(), "find sent message");
  if (original.value()) return Posted{*original.value(), true};
  if (auto failed = ensure_loaded(*room)) return *failed;
  if (draft.target) {
    // Rights depend on who sent the target, which never changes; whether it
    // may still be changed (not deleted, room for one more emoji) is checked
    // by the storage, in the transaction that stores the change.
    auto target = storage_.load_message(room_id, *draft.target);
    if (!target) return unavailable(room.room.get(), target.error(), "load message");
    if (!target.value())
      return Error{ErrorCode::not_found, "no message '" + *draft.target + "' in this room", "/message/target"};
    std::optional<Role> role;
    if (draft.type == "delete" && target.value()->senderId != sender.user_id) {
      auto actor = storage_.load_member(room_id, sender.user_id);
      if (!actor) return unavailable(room.room.get(), actor.error(), "load member");
      role = role_of(actor.value());
    }
    if (auto refused = access::may_change(draft.type, sender, target.value()->senderId, role)) return *refused;
  }

  Message m;
  m.id = random_id("m_");
  m.roomId = room_id;
  m.senderId = sender.user_id;
  m.senderName = sender.name;
  m.clientMsgId = client_msg_id;
  m.seq = room->record.head_seq + 1;
  m.type = draft.type;
  m.content = draft.content;
  m.metadata = draft.metadata;
  m.replyTo = draft.replyTo;
  m.target = draft.target;
  m.createdAt = now;
  auto stored = storage_.append_message(m);
  // Another parleyd sharing the database took this seq: the database decides
  // the order. Its messages go to our subscribers first (they may not have
  // come over the bus yet), then this one takes the next seq. Every conflict
  // means another message was stored, so the room moves on; under several
  // nodes writing into one room at once a send may lose a few races in a row
  // (8 was too few for three nodes sending at full speed: cluster_test).
  constexpr int kConflictRetries = 64;
  for (int attempt = 0; !stored && stored.error().code == ErrorCode::conflict && attempt < kConflictRetries;
       ++attempt) {
    if (auto failed = catch_up(*room)) return unavailable(room.room.get(), *failed, "read messages");
    m.seq = room->record.head_seq + 1;
    stored = storage_.append_message(m);
  }
  // What the stored messages refuse (a deleted target, a reply to nothing)
  // names the field; anything else is a failure of the storage.
  if (!stored && !stored.error().path.empty()) return stored.error();
  if (!stored) return unavailable(room.room.get(), stored.error(), "append message");
  if (stored.value().duplicate) return Posted{stored.value().message, true};
  m = std::move(stored.value().message);
  room->record.head_seq = m.seq;
  // Retention in steps of kPruneEvery, so that pruning costs one statement
  // per kPruneEvery messages: a room keeps between the limit and the limit
  // plus kPruneEvery - 1 of them (a failed prune is done by the next step).
  constexpr std::int64_t kPruneEvery = 64;
  if (auto keep = static_cast<std::int64_t>(config_.history_limit);
      keep > 0 && m.seq > keep && m.seq % kPruneEvery == 0) {
    if (auto pruned = storage_.prune_messages(room_id, m.seq - keep + 1); !pruned) {
      log::error("storage failed", {{"operation", "prune messages"}, {"error", pruned.error().message}});
    }
  }

  if (!m.target) stop_typing(*room, sender.user_id, sender.name);
  s2c::Frame event = s2c::MessageEvent{m};
  fan_out(dispatch_, room->live_subscribers(), event);
  publish(*room, RoomEvent::Kind::message, sender.user_id, &event);
  if (auto back = room->presence.activity(sender.user_id, now)) local_presence(*room, {*back});
  return Posted{std::move(m), false};
}

Result<s2c::History> Hub::history(const std::string& room_id, const Peer* from, std::optional<std::int64_t> before_seq,
                                  std::size_t limit) {
  Error refusal;
  LockedRoom room = rooms_.lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  if (auto failed = ensure_loaded(*room)) return *failed;
  auto page = history_page(storage_, room->record, before_seq, limit);
  if (!page) return unavailable(room.room.get(), page.error(), "read history");
  return page;
}

std::optional<Error> Hub::kick(const std::string& room_id, const Identity& actor, const Peer* from,
                               const std::string& target, std::int64_t now) {
  Error refusal;
  LockedRoom room = rooms_.lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  auto actor_record = storage_.load_member(room_id, actor.user_id);
  if (!actor_record) return unavailable(room.room.get(), actor_record.error(), "load member");
  if (auto refused = access::may_remove_members(actor, role_of(actor_record.value()))) return refused;
  auto target_record = storage_.load_member(room_id, target);
  if (!target_record) return unavailable(room.room.get(), target_record.error(), "load member");
  if (auto refused = access::removable(target, role_of(target_record.value()))) return refused;
  auto removed_member = storage_.remove_member(room_id, target);
  if (!removed_member) return unavailable(room.room.get(), removed_member.error(), "remove member");

  auto removed = unsubscribe_user(*room, target, target_record.value()->name, now);
  s2c::Frame frame = s2c::Removed{room_id, actor.user_id, std::string("removed by ") + actor.name};
  fan_out(dispatch_, removed, frame);
  publish(*room, RoomEvent::Kind::removed, target, &frame);
  announce_gone(*room, target, now);
  log::info("member removed", {{"room", room_id}, {"user", target}, {"by", actor.user_id}});
  return std::nullopt;
}

std::vector<std::shared_ptr<Peer>> Hub::unsubscribe_user(Room& room, const std::string& user_id,
                                                         const std::string& name, std::int64_t now) {
  std::vector<std::shared_ptr<Peer>> gone;
  for (auto it = room.subscribers.begin(); it != room.subscribers.end();) {
    if (it->second.user_id != user_id) {
      ++it;
      continue;
    }
    if (auto p = it->second.peer.lock()) gone.push_back(std::move(p));
    room.presence.disconnected(user_id, now);
    it = room.subscribers.erase(it);
  }
  stop_typing(room, user_id, name);
  return gone;
}

Result<MemberRecord> Hub::set_role(const std::string& room_id, const std::string& user_id, const std::string& role,
                                   std::int64_t now) {
  auto wanted = access::settable_role(role);
  if (!wanted) return wanted.error();
  LockedRoom room = rooms_.lock(room_id, true);  // a room not in memory is evicted again by tick()
  auto loaded = load_stored(*room);
  if (!loaded) return unavailable(room.room.get(), loaded.error(), "load room");
  if (!loaded.value()) return Error{ErrorCode::not_found, "no room " + room_id, "/roomId"};
  auto stored = storage_.load_member(room_id, user_id);
  if (!stored) return unavailable(room.room.get(), stored.error(), "load member");
  if (!stored.value()) return Error{ErrorCode::not_found, user_id + " is not a member of " + room_id, "/userId"};
  MemberRecord member = *stored.value();
  if (auto refused = access::may_set_role(member.role, wanted.value())) return *refused;
  if (member.role != wanted.value()) {
    member.role = wanted.value();
    if (auto failed = storage_.put_member(member)) return unavailable(room.room.get(), *failed, "set role");
    PresenceChange now_is = merged_presence(*room, user_id);
    if (now_is.last_seen == 0) now_is.last_seen = now;
    s2c::Frame frame = presence_frame(*room, {now_is});
    fan_out(dispatch_, room->live_subscribers(), frame);
    publish(*room, RoomEvent::Kind::frame, user_id, &frame);
    log::info("role changed", {{"room", room_id}, {"user", user_id}, {"role", role}});
  }
  return member;
}

std::optional<Error> Hub::typing(const std::string& room_id, const Identity& user, const Peer* from, bool active,
                                 std::int64_t now) {
  Error refusal;
  LockedRoom room = rooms_.lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  if (!active) {
    stop_typing(*room, user.user_id, user.name);
    return std::nullopt;
  }
  if (room->typing.typed(user.user_id, now)) {
    s2c::Frame frame = s2c::Typing{room_id, user.user_id, user.name, true, room->typing.ttl_ms()};
    fan_out(dispatch_, room->live_subscribers(user.user_id), frame);
    publish(*room, RoomEvent::Kind::typing, user.user_id, &frame);
  }
  if (auto back = room->presence.activity(user.user_id, now)) local_presence(*room, {*back});
  return std::nullopt;
}

void Hub::stop_typing(Room& room, const std::string& user_id, const std::string& name) {
  if (!room.typing.stopped(user_id)) return;
  s2c::Frame frame = s2c::Typing{room.record.id, user_id, name, false, 0};
  fan_out(dispatch_, room.live_subscribers(user_id), frame);
  publish(room, RoomEvent::Kind::typing, user_id, &frame);
}

void Hub::announce_gone(Room& room, const std::string& user_id, std::int64_t now) {
  room.shown.erase(user_id);
  broadcast_presence(room, {PresenceChange{user_id, PresenceStatus::offline, now}});
}

std::optional<Error> Hub::receipt(const std::string& room_id, const Identity& user, const Peer* from, Watermark which,
                                  std::int64_t up_to_seq) {
  Error refusal;
  LockedRoom room = rooms_.lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  if (auto failed = ensure_loaded(*room)) return *failed;
  if (up_to_seq > room->record.head_seq) {
    return Error{ErrorCode::bad_request, "`/upToSeq` is beyond the room's newest message", "/upToSeq"};
  }
  auto before = storage_.load_member(room_id, user.user_id);
  if (!before) return unavailable(room.room.get(), before.error(), "load member");
  if (!before.value()) return Error{ErrorCode::forbidden, "not a member of this room", "/roomId"};
  std::int64_t old = which == Watermark::read ? before.value()->read_seq : before.value()->delivered_seq;
  auto now_at = storage_.advance_watermark(room_id, user.user_id, which, up_to_seq);
  if (!now_at) return unavailable(room.room.get(), now_at.error(), "advance watermark");
  if (now_at.value() && *now_at.value() > old) {
    s2c::Frame frame = s2c::Receipt{room_id, user.user_id, std::string(to_string(which)), *now_at.value()};
    fan_out(dispatch_, room->live_subscribers(), frame);
    publish(*room, RoomEvent::Kind::frame, user.user_id, &frame);
  }
  return std::nullopt;
}

void Hub::set_status(const std::vector<std::string>& room_ids, const Identity& user, const Peer* from,
                     PresenceStatus status, std::int64_t now) {
  for (const auto& id : room_ids) {
    Error ignored;
    LockedRoom room = rooms_.lock_subscribed(id, from, ignored);
    if (!room) continue;
    if (auto c = room->presence.set_status(user.user_id, status, now)) local_presence(*room, {*c});
    // The user's connections on other nodes take the same status.
    if (bus_) {
      RoomEvent e{RoomEvent::Kind::status, bus_->node(), user.user_id, status, now, {}};
      bus_->publish(room_channel(tenant_, id), encode(e));
    }
  }
}

void Hub::activity(const std::vector<std::string>& room_ids, const Identity& user, const Peer* from, std::int64_t now) {
  for (const auto& id : room_ids) {
    Error ignored;
    LockedRoom room = rooms_.lock_subscribed(id, from, ignored);
    if (!room) continue;
    if (auto c = room->presence.activity(user.user_id, now)) local_presence(*room, {*c});
  }
}

void Hub::tick(std::int64_t now) {
  rooms_.for_each([&](LockedRoom& room) {
    // Drop subscribers whose connection is gone without a leave.
    std::erase_if(room->subscribers, [](const auto& s) { return s.second.peer.expired(); });
    room->typing.expire(now);
    if (room->loaded) {
      auto changes = room->presence.tick(now);
      for (const auto& c : changes) {
        if (c.status != PresenceStatus::offline) continue;
        // lastSeen is a courtesy: a failed write is logged, not retried.
        if (auto failed = storage_.touch_member(room->record.id, c.user_id, c.last_seen)) {
          log::warn("storage failed", {{"operation", "touch member"}, {"error", failed->message}});
        }
      }
      local_presence(*room, changes);
    }
    if (bus_) {
      auto gone = room->remote.forget_dead([&](const std::string& node) { return bus_->alive(node); });
      settle_presence(*room, gone);
      // Without the bus, other nodes' messages are read from storage, once a
      // second per room with subscribers, until it is back.
      constexpr std::int64_t kPollMs = 1000;
      if (!bus_->up() && room->loaded && !room->subscribers.empty() && now - room->polled_at >= kPollMs) {
        room->polled_at = now;
        if (auto failed = catch_up(*room)) unavailable(room.room.get(), *failed, "read messages");
      }
      if (room->watched && room->settled()) {
        bus_->unwatch(room_channel(tenant_, room->record.id));
        room->watched = false;
      }
    }
    rooms_.evict_if_settled(room);
  });
}

std::vector<Member> Hub::members_of(Room& room, const std::vector<MemberRecord>& records) {
  std::vector<Member> out;
  for (const auto& m : records) {
    Member member;
    member.userId = m.user_id;
    member.name = m.name;
    member.role = std::string(to_string(m.role));
    PresenceChange now_is = merged_presence(room, m.user_id);
    member.status = std::string(to_string(now_is.status));
    if (now_is.last_seen > 0 || m.last_seen > 0) member.lastSeen = std::max(now_is.last_seen, m.last_seen);
    if (m.read_seq > 0) member.readSeq = m.read_seq;
    if (m.delivered_seq > 0) member.deliveredSeq = m.delivered_seq;
    out.push_back(std::move(member));
  }
  return out;
}

void Hub::broadcast_presence(Room& room, const std::vector<PresenceChange>& changes) {
  auto subscribers = room.live_subscribers();
  if (subscribers.empty() || changes.empty()) return;
  fan_out(dispatch_, subscribers, presence_frame(room, changes));
}

s2c::Presence Hub::presence_frame(Room& room, const std::vector<PresenceChange>& changes) {
  s2c::Presence frame;
  frame.roomId = room.record.id;
  for (const auto& c : changes) {
    // Names and roles from storage; without it, the diff still goes out.
    auto loaded = storage_.load_member(room.record.id, c.user_id);
    const std::optional<MemberRecord>* record = loaded ? &loaded.value() : nullptr;
    Member m;
    m.userId = c.user_id;
    m.name = record && *record ? (*record)->name : c.user_id;
    if (record && *record) m.role = std::string(to_string((*record)->role));
    m.status = std::string(to_string(c.status));
    m.lastSeen = c.last_seen;
    frame.members.push_back(std::move(m));
  }
  return frame;
}

}  // namespace parley::server
