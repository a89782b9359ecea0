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
      timings_{config.idle_after_ms, config.offline_grace_ms},
      user_buckets_always_([&config] {
        auto tighter = [](const Rate& user, const Rate& connection) {
          return user.per_second < connection.per_second || user.burst < connection.burst;
        };
        return tighter(config.user_rate_messages, config.rate_messages) ||
               tighter(config.user_rate_typing, config.rate_typing) ||
               tighter(config.user_rate_receipts, config.rate_receipts) ||
               tighter(config.user_rate_other, config.rate_other);
      }()) {}

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

bool Hub::load_stored(Room& room) {
  if (room.loaded) return true;
  auto stored = storage_.load_room(room.record.id);
  if (!stored) return false;
  room.record = *stored;
  room.loaded = true;
  return true;
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

  if (!load_stored(room)) {
    RoomRecord record;
    record.id = room_id;
    record.kind = pair ? "direct" : has_claim(user, room_id) ? "private" : "public";
    record.epoch = random_id("e");
    record.created_at = now;
    if (!storage_.create_room(record)) record = *storage_.load_room(room_id);
    room.record = record;
    if (pair) {
      // Both sides of a direct room are members from the start.
      for (const auto& id : {pair->first, pair->second}) {
        storage_.put_member(MemberRecord{room_id, id, id == user.user_id ? user.name : id, "member", 0, 0, now, 0});
      }
    } else {
      storage_.put_member(MemberRecord{room_id, user.user_id, user.name, "owner", 0, 0, now, now});
    }
    log::info("room created", {{"room", room_id}, {"kind", room.record.kind}, {"by", user.user_id}});
    room.loaded = true;
  }

  auto member = storage_.load_member(room_id, user.user_id);
  if (member) {
    if (member->name != user.name) {
      member->name = user.name;  // display names follow the latest token
      storage_.put_member(*member);
    }
    return std::nullopt;
  }
  if (room.record.kind == "direct") return refuse(ErrorCode::forbidden, "this direct room is not yours");
  if (room.record.kind == "private" && !has_claim(user, room_id) && !is_admin(user)) {
    return refuse(ErrorCode::forbidden, "this room is private: you are not a member");
  }
  if (storage_.members(room_id).size() >= config_.room_max_members) {
    return refuse(ErrorCode::forbidden, "this room is full");
  }
  storage_.put_member(MemberRecord{room_id, user.user_id, user.name, "member", 0, 0, now, now});
  return std::nullopt;
}

std::optional<Error> Hub::join(const Identity& user, const std::shared_ptr<Peer>& peer, const c2s::Join& request,
                               std::int64_t now) {
  LockedRoom locked = lock_room(request.roomId, true);
  Room& room = *locked;
  if (auto refused = open_for(room, request.roomId, user, now)) return refused;  // tick() evicts it

  bool new_subscription = room.subscribers.emplace(peer.get(), Subscriber{peer, user.user_id}).second;
  std::optional<PresenceChange> came = new_subscription ? room.presence.connected(user.user_id, now) : std::nullopt;

  const RoomRecord& r = room.record;
  s2c::Joined joined;
  joined.ref = request.ref;
  joined.room = protocol::Room{r.id, r.kind};
  joined.epoch = r.epoch;
  joined.headSeq = r.head_seq;
  joined.members = members_of(room);
  constexpr std::size_t kPage = 50;
  auto since = request.sinceSeq;
  if (!since) {
    joined.messages = storage_.messages_before(r.id, r.head_seq + 1, kPage);
  } else if (*since > r.head_seq || r.head_seq - *since > static_cast<std::int64_t>(config_.replay_limit)) {
    // Further behind than we replay, or a position in another history.
    joined.reset = true;
    joined.messages = storage_.messages_before(r.id, r.head_seq + 1, kPage);
  } else {
    joined.messages = storage_.messages_after(r.id, *since, config_.replay_limit);
    if (*since < r.head_seq && (joined.messages.empty() || joined.messages.front().seq != *since + 1)) {
      // What was missed is no longer kept (--history-limit).
      joined.reset = true;
      joined.messages = storage_.messages_before(r.id, r.head_seq + 1, kPage);
    }
  }
  fan_out(dispatch_, {peer}, joined);
  if (came) broadcast_presence(room, {*came});
  return std::nullopt;
}

void Hub::leave(const std::string& room_id, const Identity& user, const Peer* peer, std::int64_t now) {
  LockedRoom room = lock_room(room_id, false);
  if (!room) return;
  auto& subs = room->subscribers;
  if (subs.erase(peer) == 0) return;
  bool still_here =
      std::any_of(subs.begin(), subs.end(), [&](const auto& s) { return s.second.user_id == user.user_id; });
  if (!still_here) stop_typing(*room, user.user_id, user.name);
  room->presence.disconnected(user.user_id, now);
}

Result<Hub::Posted> Hub::post(const std::string& room_id, const Identity& sender, const Peer* from,
                              const std::string& client_msg_id, const Draft& draft, std::int64_t now) {
  LockedRoom room = lock_room(room_id, false);
  if (!room) return refuse(ErrorCode::not_found, "no room " + room_id);
  if (!room->subscribers.count(from)) return refuse(ErrorCode::forbidden, "not joined to this room");
  if (auto original = storage_.find_sent(sender.user_id, client_msg_id)) return Posted{*original, true};

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
  if (stored.duplicate) return Posted{stored.message, true};
  room->record.head_seq = m.seq;
  // Retention in steps of kPruneEvery, so that pruning costs one statement
  // per kPruneEvery messages: a room keeps between the limit and the limit
  // plus kPruneEvery - 1 of them.
  constexpr std::int64_t kPruneEvery = 64;
  if (auto keep = static_cast<std::int64_t>(config_.history_limit);
      keep > 0 && m.seq > keep && m.seq % kPruneEvery == 0) {
    storage_.prune_messages(room_id, m.seq - keep + 1);
  }

  stop_typing(*room, sender.user_id, sender.name);
  fan_out(dispatch_, live_subscribers(*room), s2c::MessageEvent{m});
  if (auto back = room->presence.activity(sender.user_id, now)) broadcast_presence(*room, {*back});
  return Posted{std::move(m), false};
}

Result<s2c::History> Hub::history(const std::string& room_id, std::optional<std::int64_t> before_seq,
                                  std::size_t limit) {
  LockedRoom room = lock_room(room_id, false);
  if (!room) return refuse(ErrorCode::not_found, "no room " + room_id);
  std::int64_t before = before_seq.value_or(room->record.head_seq + 1);
  s2c::History out;
  out.roomId = room_id;
  out.messages = storage_.messages_before(room_id, before, limit);
  std::int64_t oldest = out.messages.empty() ? before : out.messages.front().seq;
  out.hasMore = oldest > 1 && !storage_.messages_before(room_id, oldest, 1).empty();
  return out;
}

std::optional<Error> Hub::kick(const std::string& room_id, const Identity& actor, const std::string& target,
                               std::int64_t now) {
  LockedRoom room = lock_room(room_id, false);
  if (!room) return refuse(ErrorCode::not_found, "no room " + room_id);
  auto actor_record = storage_.load_member(room_id, actor.user_id);
  bool may = is_admin(actor) || (actor_record && (actor_record->role == "owner" || actor_record->role == "admin"));
  if (!may) return refuse(ErrorCode::forbidden, "only the room's owner or admins can remove members");
  auto target_record = storage_.load_member(room_id, target);
  if (!target_record) return Error{ErrorCode::not_found, target + " is not a member of this room", "/userId"};
  if (target_record->role == "owner") return Error{ErrorCode::forbidden, "the owner cannot be removed", "/userId"};
  storage_.remove_member(room_id, target);

  std::vector<std::shared_ptr<Peer>> removed;
  for (auto it = room->subscribers.begin(); it != room->subscribers.end();) {
    if (it->second.user_id != target) {
      ++it;
      continue;
    }
    if (auto p = it->second.peer.lock()) removed.push_back(std::move(p));
    room->presence.disconnected(target, now);
    it = room->subscribers.erase(it);
  }
  stop_typing(*room, target, target_record->name);
  fan_out(dispatch_, removed, s2c::Removed{room_id, actor.user_id, std::string("removed by ") + actor.name});
  PresenceChange gone{target, "offline", now};
  broadcast_presence(*room, {gone});
  log::info("member removed", {{"room", room_id}, {"user", target}, {"by", actor.user_id}});
  return std::nullopt;
}

Result<MemberRecord> Hub::set_role(const std::string& room_id, const std::string& user_id, const std::string& role,
                                   std::int64_t now) {
  if (role != "admin" && role != "member") return Error{ErrorCode::bad_request, "role is admin or member", "/role"};
  LockedRoom room = lock_room(room_id, true);  // a room not in memory is evicted again by tick()
  if (!load_stored(*room)) return refuse(ErrorCode::not_found, "no room " + room_id);
  auto member = storage_.load_member(room_id, user_id);
  if (!member) return Error{ErrorCode::not_found, user_id + " is not a member of " + room_id, "/userId"};
  if (member->role == "owner") return Error{ErrorCode::forbidden, "the owner's role does not change", "/userId"};
  if (member->role != role) {
    member->role = role;
    storage_.put_member(*member);
    auto seen = room->presence.last_seen_of(user_id);
    broadcast_presence(*room, {PresenceChange{user_id, room->presence.status_of(user_id), seen.value_or(now)}});
    log::info("role changed", {{"room", room_id}, {"user", user_id}, {"role", role}});
  }
  return *member;
}

void Hub::typing(const std::string& room_id, const Identity& user, bool active, std::int64_t now) {
  LockedRoom room = lock_room(room_id, false);
  if (!room) return;
  if (!active) return stop_typing(*room, user.user_id, user.name);
  auto& until = room->typing_until[user.user_id];
  // A refresh inside the first third of the indicator's life adds nothing.
  bool fresh = until > now && until - now > 2 * static_cast<std::int64_t>(config_.typing_ttl_ms) / 3;
  until = now + config_.typing_ttl_ms;
  if (!fresh) {
    fan_out(dispatch_, live_subscribers(*room, user.user_id),
            s2c::Typing{room_id, user.user_id, user.name, true, config_.typing_ttl_ms});
  }
  if (auto back = room->presence.activity(user.user_id, now)) broadcast_presence(*room, {*back});
}

void Hub::stop_typing(Room& room, const std::string& user_id, const std::string& name) {
  if (room.typing_until.erase(user_id) == 0) return;
  fan_out(dispatch_, live_subscribers(room, user_id), s2c::Typing{room.record.id, user_id, name, false, 0});
}

std::optional<Error> Hub::receipt(const std::string& room_id, const Identity& user, Watermark which,
                                  std::int64_t up_to_seq) {
  LockedRoom room = lock_room(room_id, false);
  if (!room) return refuse(ErrorCode::not_found, "no room " + room_id);
  if (up_to_seq > room->record.head_seq) {
    return Error{ErrorCode::bad_request, "`/upToSeq` is beyond the room's newest message", "/upToSeq"};
  }
  auto before = storage_.load_member(room_id, user.user_id);
  if (!before) return refuse(ErrorCode::forbidden, "not a member of this room");
  std::int64_t old = which == Watermark::read ? before->read_seq : before->delivered_seq;
  auto now_at = storage_.advance_watermark(room_id, user.user_id, which, up_to_seq);
  if (now_at && *now_at > old) {
    fan_out(dispatch_, live_subscribers(*room),
            s2c::Receipt{room_id, user.user_id, which == Watermark::read ? "read" : "delivered", *now_at});
  }
  return std::nullopt;
}

void Hub::set_status(const std::vector<std::string>& room_ids, const Identity& user, const std::string& status,
                     std::int64_t now) {
  for (const auto& id : room_ids) {
    LockedRoom room = lock_room(id, false);
    if (!room) continue;
    if (auto c = room->presence.set_status(user.user_id, status, now)) broadcast_presence(*room, {*c});
  }
}

void Hub::activity(const std::vector<std::string>& room_ids, const Identity& user, std::int64_t now) {
  for (const auto& id : room_ids) {
    LockedRoom room = lock_room(id, false);
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
          if (c.status == "offline") storage_.touch_member(room->record.id, c.user_id, c.last_seen);
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

std::vector<Member> Hub::members_of(Room& room) {
  std::vector<Member> out;
  for (const auto& m : storage_.members(room.record.id)) {
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
    auto record = storage_.load_member(room.record.id, c.user_id);
    Member m;
    m.userId = c.user_id;
    m.name = record ? record->name : c.user_id;
    if (record) m.role = record->role;
    m.status = c.status;
    m.lastSeen = c.last_seen;
    frame.members.push_back(std::move(m));
  }
  fan_out(dispatch_, live_subscribers(room), frame);
}

bool Hub::add_user_connection(const std::string& user_id) {
  UserShard& shard = user_shards_[shard_of(user_id)];
  std::lock_guard lock(shard.mutex);
  UserState& user = shard.users[user_id];
  if (user.connections >= static_cast<int>(config_.max_connections_per_user)) {
    if (user.connections == 0) shard.users.erase(user_id);
    return false;
  }
  ++user.connections;
  if (!user.buckets && (user.connections > 1 || user_buckets_always_)) {
    user.buckets = std::make_unique<std::array<TokenBucket, 4>>(
        std::array<TokenBucket, 4>{TokenBucket(config_.user_rate_messages), TokenBucket(config_.user_rate_typing),
                                   TokenBucket(config_.user_rate_receipts), TokenBucket(config_.user_rate_other)});
  }
  return true;
}

void Hub::remove_user_connection(const std::string& user_id) {
  UserShard& shard = user_shards_[shard_of(user_id)];
  std::lock_guard lock(shard.mutex);
  auto it = shard.users.find(user_id);
  if (it != shard.users.end() && --it->second.connections <= 0) shard.users.erase(it);
}

std::int64_t Hub::take_user_token(const std::string& user_id, RateClass which, std::int64_t now) {
  static constexpr Rate Config::*kRates[] = {&Config::user_rate_messages, &Config::user_rate_typing,
                                             &Config::user_rate_receipts, &Config::user_rate_other};
  auto index = static_cast<std::size_t>(which);
  UserShard& shard = user_shards_[shard_of(user_id)];
  std::lock_guard lock(shard.mutex);
  auto it = shard.users.find(user_id);
  if (it == shard.users.end() || !it->second.buckets) return 0;
  return (*it->second.buckets)[index].take(config_.*kRates[index], now);
}

}  // namespace parley::server
