#include "parley/client/core.hpp"

#include <algorithm>

#include "backoff.hpp"

namespace parley::client {

using namespace protocol;

Core::Core(Config config) : config_(std::move(config)), rng_(config_.seed) {}

// ------------------------------------------------------------------- app

void Core::connect(std::int64_t now) {
  if (connection_.state == ConnectionState::idle || connection_.state == ConnectionState::closed) {
    connection_.attempt = 0;
  }
  if (connection_.state != ConnectionState::connecting && connection_.state != ConnectionState::authenticating &&
      connection_.state != ConnectionState::connected) {
    start_attempt(now);
  }
}

void Core::disconnect(std::int64_t now) {
  if (connection_.state == ConnectionState::closed) return;
  if (socket_open_ || connection_.state == ConnectionState::connecting) {
    effects_.push_back(CloseSocket{socket_, close_code::normal, "client disconnect"});
  }
  effects_.push_back(CancelTimer{reconnect_timer});
  set_state(ConnectionState::closed);
  lost_connection(now);
}

void Core::set_token(std::string token, std::int64_t) {
  token_ = std::move(token);
  if (socket_open_ && connection_.state == ConnectionState::connecting) send_hello();
}

void Core::join(const std::string& room_id, std::int64_t) {
  Room& room = room_state(room_id);
  if (room.wanted) return;
  room.wanted = true;
  if (connection_.state == ConnectionState::connected) send_join(room_id, room);
  notify_room(room_id);
}

std::string Core::send(const std::string& room_id, const std::string& content, std::int64_t now) {
  Room& room = room_state(room_id);
  Pending pending;
  pending.room_id = room_id;
  pending.client_msg_id = new_client_msg_id();
  pending.draft.type = "text";
  pending.draft.content = content;

  Message shown;
  shown.roomId = room_id;
  shown.clientMsgId = pending.client_msg_id;
  shown.type = pending.draft.type;
  shown.content = content;
  shown.createdAt = now;
  if (connection_.user) {
    shown.senderId = connection_.user->id;
    shown.senderName = connection_.user->name;
  }
  room.timeline.add_pending(shown, MessageStatus::queued);
  outbox_.push_back(std::move(pending));
  if (connection_.state == ConnectionState::connected && room.joined) transmit(outbox_.back());
  notify_room(room_id);
  return shown.clientMsgId;
}

// ------------------------------------------------------ transport events

void Core::socket_opened(std::uint32_t socket, std::int64_t) {
  if (socket != socket_ || connection_.state != ConnectionState::connecting) return;
  socket_open_ = true;
  if (token_) send_hello();
}

void Core::socket_closed(std::uint32_t socket, std::uint16_t code, std::int64_t now) {
  if (socket != socket_) return;  // a socket we already gave up on
  if (code == close_code::unauthorized) {
    connection_.last_error = protocol::Error{ErrorCode::unauthorized, "the server refused the token", ""};
  }
  lost_connection(now);
}

void Core::received(std::uint32_t socket, std::string_view bytes, std::int64_t now) {
  if (socket != socket_ || !socket_open_) return;
  auto decoded = decode_server_frame(bytes, config_.codec);
  if (!decoded) {
    // A server that speaks garbage cannot be trusted with the rest of the stream.
    connection_.last_error = decoded.error();
    effects_.push_back(CloseSocket{socket_, close_code::protocol_error, "invalid frame from server"});
    lost_connection(now);
    return;
  }
  std::visit([&](auto& frame) { on_frame(frame, now); }, decoded.value());
}

void Core::timer_fired(std::uint32_t timer, std::int64_t now) {
  if (timer == reconnect_timer && connection_.state == ConnectionState::backoff) start_attempt(now);
}

void Core::network_online(std::int64_t now) {
  if (connection_.state != ConnectionState::offline) return;
  connection_.attempt = 0;
  start_attempt(now);
}

void Core::network_offline(std::int64_t now) {
  if (connection_.state == ConnectionState::closed || connection_.state == ConnectionState::idle ||
      connection_.state == ConnectionState::offline) {
    return;
  }
  // An open socket may survive a network change; treat it as lost anyway.
  if (connection_.state == ConnectionState::backoff) {
    effects_.push_back(CancelTimer{reconnect_timer});
  } else {
    effects_.push_back(CloseSocket{socket_, close_code::normal, "network offline"});
  }
  set_state(ConnectionState::offline);
  lost_connection(now);
}

// ---------------------------------------------------------------- frames

void Core::on_frame(s2c::Welcome& f, std::int64_t) {
  if (connection_.state != ConnectionState::authenticating) return;
  connection_.user = f.user;
  connection_.attempt = 0;
  connection_.last_error.reset();
  set_state(ConnectionState::connected);
  for (auto& [room_id, room] : rooms_) {
    if (room.wanted) send_join(room_id, room);
  }
}

void Core::on_frame(s2c::Joined& f, std::int64_t) {
  if (f.ref) requests_.erase(*f.ref);
  Room& room = room_state(f.room.id);
  room.joined = true;
  if (f.reset.value_or(false) || (!room.epoch.empty() && room.epoch != f.epoch)) room.timeline.clear_confirmed();
  room.epoch = f.epoch;
  for (const auto& m : f.messages) confirm(room, m);
  flush_outbox(f.room.id);
  notify_room(f.room.id);
}

void Core::on_frame(s2c::Ack& f, std::int64_t) {
  auto it = requests_.find(f.ref);
  if (it == requests_.end()) return;
  Request request = std::move(it->second);
  requests_.erase(it);
  if (request.kind == Request::send_request && f.message) {
    confirm(room_state(request.room_id), *f.message);
    notify_room(request.room_id);
  }
}

void Core::on_frame(s2c::Error& f, std::int64_t) {
  protocol::Error error{error_code_from_string(f.code).value_or(ErrorCode::internal), f.message, f.path.value_or("")};
  auto it = f.ref ? requests_.find(*f.ref) : requests_.end();
  if (it == requests_.end()) {
    connection_.last_error = error;
    notify("connection");
    return;
  }
  Request request = std::move(it->second);
  requests_.erase(it);
  if (request.kind == Request::send_request) {
    // The server refused this message: show why; the rest of the queue goes on.
    outbox_.erase(std::remove_if(outbox_.begin(), outbox_.end(),
                                 [&](const Pending& p) { return p.client_msg_id == request.client_msg_id; }),
                  outbox_.end());
    room_state(request.room_id).timeline.set_pending_status(request.client_msg_id, MessageStatus::failed, error);
    notify_room(request.room_id);
  } else {
    connection_.last_error = error;
    notify("connection");
  }
}

void Core::on_frame(s2c::MessageEvent& f, std::int64_t) {
  Room& room = room_state(f.message.roomId);
  confirm(room, f.message);
  notify_room(f.message.roomId);
}

void Core::confirm(Room& room, const Message& message) {
  const std::string me = connection_.user ? connection_.user->id : std::string();
  room.timeline.confirm(message, me);
  if (message.senderId == me) {
    outbox_.erase(std::remove_if(outbox_.begin(), outbox_.end(),
                                 [&](const Pending& p) { return p.client_msg_id == message.clientMsgId; }),
                  outbox_.end());
  }
}

// -------------------------------------------------------------- internals

void Core::start_attempt(std::int64_t) {
  effects_.push_back(CancelTimer{reconnect_timer});
  ++socket_;
  socket_open_ = false;
  token_.reset();
  connection_.next_attempt_at.reset();
  set_state(ConnectionState::connecting);
  effects_.push_back(OpenSocket{socket_, config_.url, std::string(subprotocol(config_.codec))});
  effects_.push_back(RequestToken{});
}

void Core::send_hello() {
  std::string ref = next_ref();
  requests_[ref] = Request{Request::hello_request, {}, {}};
  c2s::Hello hello;
  hello.ref = ref;
  hello.token = *token_;
  hello.client = ClientInfo{config_.client_name, config_.client_version};
  send_frame(hello);
  set_state(ConnectionState::authenticating);
}

// Joins (or rejoins, resuming after the last seq seen) a room.
void Core::send_join(const std::string& room_id, const Room& room) {
  std::string ref = next_ref();
  requests_[ref] = Request{Request::join_request, room_id, {}};
  c2s::Join join;
  join.ref = ref;
  join.roomId = room_id;
  if (room.timeline.last_seq() > 0) join.sinceSeq = room.timeline.last_seq();
  send_frame(join);
}

void Core::lost_connection(std::int64_t now) {
  ++socket_;  // later events from the lost socket are stale
  socket_open_ = false;
  requests_.clear();
  for (auto& pending : outbox_) {
    pending.ref.reset();
    room_state(pending.room_id).timeline.set_pending_status(pending.client_msg_id, MessageStatus::queued);
  }
  for (auto& [room_id, room] : rooms_) {
    room.joined = false;
    notify_room(room_id);
  }
  if (connection_.state != ConnectionState::closed && connection_.state != ConnectionState::offline) {
    schedule_retry(now);
  }
  notify("connection");
}

void Core::schedule_retry(std::int64_t now) {
  double unit = static_cast<double>(random() >> 11) / 9007199254740992.0;  // [0, 1)
  std::int64_t delay = backoff_delay(connection_.attempt, config_.backoff_base_ms, config_.backoff_cap_ms, unit);
  ++connection_.attempt;
  connection_.next_attempt_at = now + delay;
  set_state(ConnectionState::backoff);
  effects_.push_back(StartTimer{reconnect_timer, delay});
}

void Core::flush_outbox(const std::string& room_id) {
  for (auto& pending : outbox_) {
    if (pending.room_id == room_id && !pending.ref) transmit(pending);
  }
}

void Core::transmit(Pending& pending) {
  std::string ref = next_ref();
  requests_[ref] = Request{Request::send_request, pending.room_id, pending.client_msg_id};
  pending.ref = ref;
  c2s::Send frame;
  frame.ref = ref;
  frame.roomId = pending.room_id;
  frame.clientMsgId = pending.client_msg_id;
  frame.message = pending.draft;
  send_frame(frame);
  room_state(pending.room_id).timeline.set_pending_status(pending.client_msg_id, MessageStatus::sending);
}

void Core::send_frame(const c2s::Frame& frame) {
  effects_.push_back(SendFrame{socket_, encode(frame, config_.codec), config_.codec == Codec::binary});
}

std::string Core::next_ref() { return std::to_string(next_ref_++); }

std::uint64_t Core::random() {  // splitmix64
  std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::string Core::new_client_msg_id() {
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = "c";
  for (int word = 0; word < 2; ++word) {
    std::uint64_t r = random();
    for (int i = 0; i < 12; ++i) {
      id.push_back(kAlphabet[r % 36]);
      r /= 36;
    }
  }
  return id;  // 24 random base-36 digits: ~124 bits
}

void Core::set_state(ConnectionState state) {
  if (connection_.state == state) return;
  connection_.state = state;
  if (state != ConnectionState::backoff) connection_.next_attempt_at.reset();
  notify("connection");
}

void Core::notify(std::string topic) {
  for (const auto& e : effects_) {
    if (const auto* n = std::get_if<Notify>(&e); n && n->topic == topic) return;
  }
  effects_.push_back(Notify{std::move(topic)});
}

Core::Room& Core::room_state(const std::string& room_id) { return rooms_[room_id]; }

std::vector<Effect> Core::take_effects() { return std::exchange(effects_, {}); }

RoomView Core::room(const std::string& room_id) const {
  RoomView view;
  view.room_id = room_id;
  auto it = rooms_.find(room_id);
  if (it != rooms_.end()) {
    view.joined = it->second.joined;
    view.items = it->second.timeline.items();
  }
  return view;
}

}  // namespace parley::client
