#include "hub.hpp"

#include <algorithm>

namespace parley::server {

using namespace protocol;

Hub::Hub(HubLimits limits) : limits_(limits), rng_(std::random_device{}()) {}

std::string Hub::random_id(const char* prefix) {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = prefix;
  std::uint64_t r = rng_();
  for (int i = 0; i < 12; ++i) {
    id.push_back(kAlphabet[r % 36]);
    r /= 36;
  }
  return id;
}

s2c::Joined Hub::join(const std::string& room_id, const Identity& user, const std::shared_ptr<Peer>& peer,
                      std::optional<std::int64_t> since_seq) {
  std::lock_guard lock(mutex_);
  auto [it, created] = rooms_.try_emplace(room_id);
  Room& room = it->second;
  if (created) room.epoch = random_id("e");
  auto member =
      std::find_if(room.members.begin(), room.members.end(), [&](const Member& m) { return m.key == peer.get(); });
  if (member == room.members.end()) {
    room.members.push_back(Member{peer.get(), peer, user.user_id, user.name});
  } else {
    member->peer = peer;  // a rejoin on the same connection
  }

  s2c::Joined joined;
  joined.room = protocol::Room{room_id, "public"};
  joined.epoch = room.epoch;
  joined.headSeq = room.head_seq;
  joined.members = members_of(room);
  std::int64_t oldest = room.history.empty() ? room.head_seq + 1 : room.history.front().seq;
  auto latest_page = [&] {
    std::size_t n = std::min(limits_.join_page, room.history.size());
    joined.messages.assign(room.history.end() - static_cast<std::ptrdiff_t>(n), room.history.end());
  };
  if (!since_seq) {
    latest_page();
  } else if (*since_seq + 1 < oldest || *since_seq > room.head_seq) {
    // The client's position is older than what is retained, or from another
    // history: it must drop its timeline.
    joined.reset = true;
    latest_page();
  } else {
    for (const auto& m : room.history) {
      if (m.seq > *since_seq) joined.messages.push_back(m);
    }
  }
  return joined;
}

void Hub::leave(const std::string& room_id, const Peer* peer) {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return;
  auto& members = it->second.members;
  members.erase(std::remove_if(members.begin(), members.end(), [&](const Member& m) { return m.key == peer; }),
                members.end());
}

std::vector<Member> Hub::members_of(const Room& room) {
  std::vector<protocol::Member> out;
  for (const auto& m : room.members) {
    bool seen = std::any_of(out.begin(), out.end(), [&](const protocol::Member& o) { return o.userId == m.user_id; });
    if (!seen && !m.peer.expired()) out.push_back(protocol::Member{m.user_id, m.name, {}, "online", {}, {}, {}});
  }
  return out;
}

s2c::History Hub::history(const std::string& room_id, std::optional<std::int64_t> before_seq, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  s2c::History out;
  out.roomId = room_id;
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return out;
  const auto& history = it->second.history;
  auto end = history.end();
  if (before_seq) {
    end = std::lower_bound(history.begin(), history.end(), *before_seq,
                           [](const protocol::Message& m, std::int64_t seq) { return m.seq < seq; });
  }
  auto count = std::min<std::size_t>(limit, static_cast<std::size_t>(end - history.begin()));
  out.messages.assign(end - static_cast<std::ptrdiff_t>(count), end);
  out.hasMore =
      end - static_cast<std::ptrdiff_t>(count) != history.begin() || (!history.empty() && history.front().seq > 1);
  return out;
}

void Hub::relay_typing(const s2c::Typing& frame) {
  std::vector<std::shared_ptr<Peer>> recipients;
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(frame.roomId);
    if (it == rooms_.end()) return;
    for (auto& m : it->second.members) {
      if (m.user_id == frame.userId) continue;
      if (auto p = m.peer.lock()) recipients.push_back(std::move(p));
    }
  }
  broadcast(recipients, frame);
}

bool Hub::is_member(const std::string& room_id, const Peer* peer) const {
  std::lock_guard lock(mutex_);
  auto it = rooms_.find(room_id);
  if (it == rooms_.end()) return false;
  const auto& members = it->second.members;
  return std::any_of(members.begin(), members.end(), [&](const Member& m) { return m.key == peer; });
}

Result<Hub::Posted> Hub::post(const std::string& room_id, const Identity& sender, const std::string& client_msg_id,
                              const Draft& draft, std::int64_t now_ms) {
  std::vector<std::shared_ptr<Peer>> recipients;
  Message message;
  {
    std::lock_guard lock(mutex_);
    std::string dedup_key = sender.user_id + '\n' + client_msg_id;
    if (auto it = sent_.find(dedup_key); it != sent_.end()) return Posted{it->second, true};
    auto room_it = rooms_.find(room_id);
    if (room_it == rooms_.end()) return Error{ErrorCode::not_found, "no room " + room_id, "/roomId"};
    Room& room = room_it->second;

    message.id = random_id("m_");
    message.roomId = room_id;
    message.senderId = sender.user_id;
    message.senderName = sender.name;
    message.clientMsgId = client_msg_id;
    message.seq = ++room.head_seq;
    message.type = draft.type;
    message.content = draft.content;
    message.metadata = draft.metadata;
    message.replyTo = draft.replyTo;
    message.createdAt = now_ms;

    room.history.push_back(message);
    if (room.history.size() > limits_.history_kept) room.history.pop_front();
    sent_.emplace(std::move(dedup_key), message);

    recipients.reserve(room.members.size());
    for (auto& m : room.members) {
      if (auto p = m.peer.lock()) recipients.push_back(std::move(p));
    }
  }
  broadcast(recipients, s2c::MessageEvent{message});
  return Posted{std::move(message), false};
}

void Hub::broadcast(const std::vector<std::shared_ptr<Peer>>& peers, const s2c::Frame& frame) {
  SharedFrame encoded[2];  // serialised once per codec, shared by all recipients
  for (const auto& peer : peers) {
    auto index = static_cast<std::size_t>(peer->codec());
    if (!encoded[index]) encoded[index] = std::make_shared<const std::string>(encode(frame, peer->codec()));
    peer->deliver(encoded[index]);
  }
}

}  // namespace parley::server
