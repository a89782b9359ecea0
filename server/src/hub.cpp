#include "hub.hpp"

#include <algorithm>
#include <random>

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

Error refuse(ErrorCode code, std::string message) { return Error{code, std::move(message), "/roomId"}; }

// "dm:<a>:<b>" -> {a, b}; nullopt for other rooms.
std::optional<std::pair<std::string, std::string>> direct_pair(const std::string& room_id) {
  if (room_id.rfind("dm:", 0) != 0) return std::nullopt;
  auto colon = room_id.find(':', 3);
  if (colon == std::string::npos) return std::pair<std::string, std::string>{};
  return std::pair{room_id.substr(3, colon - 3), room_id.substr(colon + 1)};
}

bool has_claim(const Identity& user, const std::string& room_id) {
  return std::find(user.rooms.begin(), user.rooms.end(), room_id) != user.rooms.end();
}

bool is_admin(const Identity& user) { return user.role == "admin"; }

}  // namespace

Hub::Hub(Storage& storage, Dispatch& dispatch, const Config& config)
    : storage_(storage),
      dispatch_(dispatch),
      config_(config),
      timings_{config.idle_after_ms, config.offline_grace_ms} {}

Hub::~Hub() = default;

Hub::LockedRoom Hub::lock_room(const std::string& room_id, bool create) {
  RoomShard& shard = room_shards_[shard_of(room_id)];
  for (;;) {
    std::shared_ptr<Room> room;
    {
      std::lock_guard lock(shard.mutex);
      auto it = shard.rooms.find(room_id);
      if (it != shard.rooms.end()) {
        room = it->second;
      } else if (create) {
        room = shard.rooms.emplace(room_id, std::make_shared<Room>(timings_)).first->second;
        room->record.id = room_id;  // the rest of the record comes with open_for
      } else {
        return {};
      }
    }
    std::unique_lock lock(room->mutex);
    // Evicted between the lookup and the lock: the shard has a fresh one, or none.
    if (!room->evicted) return {std::move(room), std::move(lock)};
  }
}

void Hub::evict_if_settled(LockedRoom& room) {
  if (!room->subscribers.empty() || !room->typing_until.empty() || !room->presence.settled()) return;
  room->evicted = true;
  const std::string& room_id = room->record.id;
  RoomShard& shard = room_shards_[shard_of(room_id)];
  std::lock_guard lock(shard.mutex);
  auto it = shard.rooms.find(room_id);
  if (it != shard.rooms.end() && it->second == room.room) shard.rooms.erase(it);
}

std::size_t Hub::rooms_loaded() const {
  std::size_t n = 0;
  for (auto& shard : room_shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.rooms.size();
  }
  return n;
}

Hub::LockedRoom Hub::lock_subscribed(const std::string& room_id, const Peer* peer, Error& refusal) {
  LockedRoom room = lock_room(room_id, false);
  if (room && room->subscribers.count(peer)) return room;
  refusal = refuse(ErrorCode::forbidden, "not in this room: join it first (or you were removed from it)");
  return {};
}

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
  room.record = *stored.value();
  room.loaded = true;
  return true;
}

std::optional<Error> Hub::ensure_loaded(Room& room) {
  auto loaded = load_stored(room);
  if (loaded && loaded.value()) return std::nullopt;
  return unavailable(&room, loaded ? storage_error("the room is missing from storage") : loaded.error(), "load room");
}

std::optional<Error> Hub::open_for(Room& room, const std::string& room_id, const Identity& user, std::int64_t now) {
  auto pair = direct_pair(room_id);
  if (pair) {
    const auto& [a, b] = *pair;
    if (a.empty() || b.empty() || a == b || b.find(':') != std::string::npos) {
      return refuse(ErrorCode::bad_request, "a direct room is dm:<userA>:<userB> with two different user ids");
    }
    if (a > b) return refuse(ErrorCode::bad_request, "a direct room lists its two user ids in ascending order");
    if (user.user_id != a && user.user_id != b) return refuse(ErrorCode::forbidden, "this direct room is not yours");
  }

  auto loaded = load_stored(room);
  if (!loaded) return unavailable(&room, loaded.error(), "load room");
  if (!loaded.value()) {
    RoomRecord record;
    record.id = room_id;
    record.kind = pair ? "direct" : has_claim(user, room_id) ? "private" : "public";
    record.epoch = random_id("e");
    record.created_at = now;
    std::vector<MemberRecord> first;
    if (pair) {
      // Both sides of a direct room are members from the start.
      for (const auto& id : {pair->first, pair->second}) {
        first.push_back(MemberRecord{room_id, id, id == user.user_id ? user.name : id, "member", 0, 0, now, 0});
      }
    } else {
      first.push_back(MemberRecord{room_id, user.user_id, user.name, "owner", 0, 0, now, now});
    }
    auto created = storage_.create_room(record, first);
    if (!created) return unavailable(&room, created.error(), "create room");
    if (created.value()) {
      log::info("room created", {{"room", room_id}, {"kind", record.kind}, {"by", user.user_id}});
      room.record = record;
      room.loaded = true;
    } else {
      // Created meanwhile by another process on the same storage.
      if (auto failed = ensure_loaded(room)) return failed;
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
  if (room.record.kind == "direct") return refuse(ErrorCode::forbidden, "this direct room is not yours");
  if (room.record.kind == "private" && !has_claim(user, room_id) && !is_admin(user)) {
    return refuse(ErrorCode::forbidden, "this room is private: you are not a member");
  }
  auto members = storage_.members(room_id);
  if (!members) return unavailable(&room, members.error(), "count members");
  if (members.value().size() >= config_.room_max_members) return refuse(ErrorCode::forbidden, "this room is full");
  if (auto failed = storage_.put_member(MemberRecord{room_id, user.user_id, user.name, "member", 0, 0, now, now})) {
    return unavailable(&room, *failed, "add member");
  }
  return std::nullopt;
}

std::optional<Error> Hub::join(const Identity& user, const std::shared_ptr<Peer>& peer, const c2s::Join& request,
                               std::int64_t now) {
  LockedRoom locked = lock_room(request.roomId, true);
  Room& room = *locked;
  if (auto refused = open_for(room, request.roomId, user, now)) return refused;  // tick() evicts it

  // Everything read from storage first: a failure leaves no subscription.
  const RoomRecord& r = room.record;
  s2c::Joined joined;
  joined.ref = request.ref;
  joined.room = protocol::Room{r.id, r.kind};
  joined.epoch = r.epoch;
  joined.headSeq = r.head_seq;
  constexpr std::size_t kPage = 50;
  auto newest_page = [&] { return storage_.messages_before(r.id, r.head_seq + 1, kPage); };
  auto since = request.sinceSeq;
  StorageResult<std::vector<Message>> messages = std::vector<Message>();
  if (!since) {
    messages = newest_page();
  } else if (*since > r.head_seq || r.head_seq - *since > static_cast<std::int64_t>(config_.replay_limit)) {
    // Further behind than we replay, or a position in another history.
    joined.reset = true;
    messages = newest_page();
  } else {
    messages = storage_.messages_after(r.id, *since, config_.replay_limit);
    if (messages && *since < r.head_seq && (messages.value().empty() || messages.value().front().seq != *since + 1)) {
      // What was missed is no longer kept (--history-limit).
      joined.reset = true;
      messages = newest_page();
    }
  }
  if (!messages) return unavailable(&room, messages.error(), "read messages");
  joined.messages = std::move(messages).value();
  auto records = storage_.members(r.id);
  if (!records) return unavailable(&room, records.error(), "read members");

  bool new_subscription = room.subscribers.emplace(peer.get(), Subscriber{peer, user.user_id}).second;
  std::optional<PresenceChange> came = new_subscription ? room.presence.connected(user.user_id, now) : std::nullopt;
  joined.members = members_of(room, records.value());
  fan_out(dispatch_, {peer}, joined);
  if (came) broadcast_presence(room, {*came});
  return std::nullopt;
}

std::optional<Error> Hub::leave(const std::string& room_id, const Identity& user, const Peer* peer, bool forget,
                                std::int64_t now) {
  LockedRoom room = lock_room(room_id, false);
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
    return refuse(ErrorCode::forbidden, "join the room before leaving it for good");
  }
  if (room->record.kind == "direct") return refuse(ErrorCode::forbidden, "a direct room cannot be left for good");
  auto removed = storage_.remove_member(room_id, user.user_id);
  if (!removed) return unavailable(room.room.get(), removed.error(), "remove member");
  auto others = unsubscribe_user(*room, user.user_id, user.name, now);
  std::erase_if(others, [&](const std::shared_ptr<Peer>& p) { return p.get() == peer; });
  fan_out(dispatch_, others, s2c::Removed{room_id, user.user_id, "you left this room"});
  broadcast_presence(*room, {PresenceChange{user.user_id, "offline", now}});
  log::info("member left for good", {{"room", room_id}, {"user", user.user_id}});
  return std::nullopt;
}

Result<Hub::Posted> Hub::post(const std::string& room_id, const Identity& sender, const Peer* from,
                              const std::string& client_msg_id, const Draft& draft, std::int64_t now) {
  Error refusal;
  LockedRoom room = lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  auto original = storage_.find_sent(room_id, sender.user_id, client_msg_id);
  if (!original) return unavailable(room.room.get(), original.error(), "find sent message");
  if (original.value()) return Posted{*original.value(), true};
  if (auto failed = ensure_loaded(*room)) return *failed;

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
  m.createdAt = now;
  auto stored = storage_.append_message(m);
  if (!stored) return unavailable(room.room.get(), stored.error(), "append message");
  if (stored.value().duplicate) return Posted{stored.value().message, true};
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

  stop_typing(*room, sender.user_id, sender.name);
  fan_out(dispatch_, live_subscribers(*room), s2c::MessageEvent{m});
  if (auto back = room->presence.activity(sender.user_id, now)) broadcast_presence(*room, {*back});
  return Posted{std::move(m), false};
}

Result<s2c::History> Hub::history(const std::string& room_id, const Peer* from, std::optional<std::int64_t> before_seq,
                                  std::size_t limit) {
  Error refusal;
  LockedRoom room = lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  if (auto failed = ensure_loaded(*room)) return *failed;
  std::int64_t before = before_seq.value_or(room->record.head_seq + 1);
  s2c::History out;
  out.roomId = room_id;
  auto page = storage_.messages_before(room_id, before, limit);
  if (!page) return unavailable(room.room.get(), page.error(), "read history");
  out.messages = std::move(page).value();
  std::int64_t oldest = out.messages.empty() ? before : out.messages.front().seq;
  out.hasMore = false;
  if (oldest > 1) {
    auto older = storage_.messages_before(room_id, oldest, 1);
    if (!older) return unavailable(room.room.get(), older.error(), "read history");
    out.hasMore = !older.value().empty();
  }
  return out;
}

std::optional<Error> Hub::kick(const std::string& room_id, const Identity& actor, const Peer* from,
                               const std::string& target, std::int64_t now) {
  Error refusal;
  LockedRoom room = lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  auto actor_record = storage_.load_member(room_id, actor.user_id);
  if (!actor_record) return unavailable(room.room.get(), actor_record.error(), "load member");
  const auto& a = actor_record.value();
  bool may = is_admin(actor) || (a && (a->role == "owner" || a->role == "admin"));
  if (!may) return refuse(ErrorCode::forbidden, "only the room's owner or admins can remove members");
  auto target_record = storage_.load_member(room_id, target);
  if (!target_record) return unavailable(room.room.get(), target_record.error(), "load member");
  if (!target_record.value()) return Error{ErrorCode::not_found, target + " is not a member of this room", "/userId"};
  if (target_record.value()->role == "owner") {
    return Error{ErrorCode::forbidden, "the owner cannot be removed", "/userId"};
  }
  auto removed_member = storage_.remove_member(room_id, target);
  if (!removed_member) return unavailable(room.room.get(), removed_member.error(), "remove member");

  auto removed = unsubscribe_user(*room, target, target_record.value()->name, now);
  fan_out(dispatch_, removed, s2c::Removed{room_id, actor.user_id, std::string("removed by ") + actor.name});
  broadcast_presence(*room, {PresenceChange{target, "offline", now}});
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
  if (role != "admin" && role != "member") return Error{ErrorCode::bad_request, "role is admin or member", "/role"};
  LockedRoom room = lock_room(room_id, true);  // a room not in memory is evicted again by tick()
  auto loaded = load_stored(*room);
  if (!loaded) return unavailable(room.room.get(), loaded.error(), "load room");
  if (!loaded.value()) return refuse(ErrorCode::not_found, "no room " + room_id);
  auto stored = storage_.load_member(room_id, user_id);
  if (!stored) return unavailable(room.room.get(), stored.error(), "load member");
  if (!stored.value()) return Error{ErrorCode::not_found, user_id + " is not a member of " + room_id, "/userId"};
  MemberRecord member = *stored.value();
  if (member.role == "owner") return Error{ErrorCode::forbidden, "the owner's role does not change", "/userId"};
  if (member.role != role) {
    member.role = role;
    if (auto failed = storage_.put_member(member)) return unavailable(room.room.get(), *failed, "set role");
    auto seen = room->presence.last_seen_of(user_id);
    broadcast_presence(*room, {PresenceChange{user_id, room->presence.status_of(user_id), seen.value_or(now)}});
    log::info("role changed", {{"room", room_id}, {"user", user_id}, {"role", role}});
  }
  return member;
}

std::optional<Error> Hub::typing(const std::string& room_id, const Identity& user, const Peer* from, bool active,
                                 std::int64_t now) {
  Error refusal;
  LockedRoom room = lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  if (!active) {
    stop_typing(*room, user.user_id, user.name);
    return std::nullopt;
  }
  auto& until = room->typing_until[user.user_id];
  // A refresh inside the first third of the indicator's life adds nothing.
  bool fresh = until > now && until - now > 2 * static_cast<std::int64_t>(config_.typing_ttl_ms) / 3;
  until = now + config_.typing_ttl_ms;
  if (!fresh) {
    fan_out(dispatch_, live_subscribers(*room, user.user_id),
            s2c::Typing{room_id, user.user_id, user.name, true, config_.typing_ttl_ms});
  }
  if (auto back = room->presence.activity(user.user_id, now)) broadcast_presence(*room, {*back});
  return std::nullopt;
}

void Hub::stop_typing(Room& room, const std::string& user_id, const std::string& name) {
  if (room.typing_until.erase(user_id) == 0) return;
  fan_out(dispatch_, live_subscribers(room, user_id), s2c::Typing{room.record.id, user_id, name, false, 0});
}

std::optional<Error> Hub::receipt(const std::string& room_id, const Identity& user, const Peer* from, Watermark which,
                                  std::int64_t up_to_seq) {
  Error refusal;
  LockedRoom room = lock_subscribed(room_id, from, refusal);
  if (!room) return refusal;
  if (auto failed = ensure_loaded(*room)) return *failed;
  if (up_to_seq > room->record.head_seq) {
    return Error{ErrorCode::bad_request, "`/upToSeq` is beyond the room's newest message", "/upToSeq"};
  }
  auto before = storage_.load_member(room_id, user.user_id);
  if (!before) return unavailable(room.room.get(), before.error(), "load member");
  if (!before.value()) return refuse(ErrorCode::forbidden, "not a member of this room");
  std::int64_t old = which == Watermark::read ? before.value()->read_seq : before.value()->delivered_seq;
  auto now_at = storage_.advance_watermark(room_id, user.user_id, which, up_to_seq);
  if (!now_at) return unavailable(room.room.get(), now_at.error(), "advance watermark");
  if (now_at.value() && *now_at.value() > old) {
    fan_out(dispatch_, live_subscribers(*room),
            s2c::Receipt{room_id, user.user_id, which == Watermark::read ? "read" : "delivered", *now_at.value()});
  }
  return std::nullopt;
}

void Hub::set_status(const std::vector<std::string>& room_ids, const Identity& user, const Peer* from,
                     const std::string& status, std::int64_t now) {
  for (const auto& id : room_ids) {
    Error ignored;
    LockedRoom room = lock_subscribed(id, from, ignored);
    if (!room) continue;
    if (auto c = room->presence.set_status(user.user_id, status, now)) broadcast_presence(*room, {*c});
  }
}

void Hub::activity(const std::vector<std::string>& room_ids, const Identity& user, const Peer* from, std::int64_t now) {
  for (const auto& id : room_ids) {
    Error ignored;
    LockedRoom room = lock_subscribed(id, from, ignored);
    if (!room) continue;
    if (auto c = room->presence.activity(user.user_id, now)) broadcast_presence(*room, {*c});
  }
}

void Hub::tick(std::int64_t now) {
  for (auto& shard : room_shards_) {
    std::vector<std::shared_ptr<Room>> rooms;
    {
      std::lock_guard lock(shard.mutex);
      rooms.reserve(shard.rooms.size());
      for (const auto& entry : shard.rooms) rooms.push_back(entry.second);
    }
    for (auto& shared : rooms) {
      LockedRoom room{shared, std::unique_lock(shared->mutex)};
      if (room->evicted) continue;
      // Drop subscribers whose connection is gone without a leave.
      for (auto it = room->subscribers.begin(); it != room->subscribers.end();) {
        it = it->second.peer.expired() ? room->subscribers.erase(it) : std::next(it);
      }
      for (auto it = room->typing_until.begin(); it != room->typing_until.end();) {
        it = it->second <= now ? room->typing_until.erase(it) : std::next(it);  // receivers expire it themselves
      }
      if (room->loaded) {
        auto changes = room->presence.tick(now);
        for (const auto& c : changes) {
          if (c.status != "offline") continue;
          // lastSeen is a courtesy: a failed write is logged, not retried.
          if (auto failed = storage_.touch_member(room->record.id, c.user_id, c.last_seen)) {
            log::warn("storage failed", {{"operation", "touch member"}, {"error", failed->message}});
          }
        }
        if (!changes.empty()) broadcast_presence(*room, changes);
      }
      evict_if_settled(room);
    }
  }
}

std::vector<std::shared_ptr<Peer>> Hub::live_subscribers(Room& room, const std::string& except_user) {
  std::vector<std::shared_ptr<Peer>> out;
  out.reserve(room.subscribers.size());
  for (const auto& [key, s] : room.subscribers) {
    if (!except_user.empty() && s.user_id == except_user) continue;
    if (auto p = s.peer.lock()) out.push_back(std::move(p));
  }
  return out;
}

std::vector<Member> Hub::members_of(Room& room, const std::vector<MemberRecord>& records) {
  std::vector<Member> out;
  for (const auto& m : records) {
    Member member;
    member.userId = m.user_id;
    member.name = m.name;
    member.role = m.role;
    member.status = room.presence.status_of(m.user_id);
    auto seen = room.presence.last_seen_of(m.user_id);
    if (seen || m.last_seen > 0) member.lastSeen = seen.value_or(m.last_seen);
    if (m.read_seq > 0) member.readSeq = m.read_seq;
    if (m.delivered_seq > 0) member.deliveredSeq = m.delivered_seq;
    out.push_back(std::move(member));
  }
  return out;
}

void Hub::broadcast_presence(Room& room, const std::vector<PresenceChange>& changes) {
  s2c::Presence frame;
  frame.roomId = room.record.id;
  for (const auto& c : changes) {
    // Names and roles from storage; without it, the diff still goes out.
    auto loaded = storage_.load_member(room.record.id, c.user_id);
    const std::optional<MemberRecord>* record = loaded ? &loaded.value() : nullptr;
    Member m;
    m.userId = c.user_id;
    m.name = record && *record ? (*record)->name : c.user_id;
    if (record && *record) m.role = (*record)->role;
    m.status = c.status;
    m.lastSeen = c.last_seen;
    frame.members.push_back(std::move(m));
  }
  fan_out(dispatch_, live_subscribers(room), frame);
}

}  // namespace parley::server
