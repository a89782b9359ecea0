#include "parley/client/core.hpp"

#include <algorithm>

#include "backoff.hpp"
#include "changes.hpp"
#include "parley/protocol/drafts.hpp"
#include "parley/protocol/limits.hpp"
#include "parley/protocol/version.hpp"
#include "state_blob.hpp"

namespace parley::client {

using namespace protocol;

namespace {

// Refusals that will not change by retrying the same message.
bool permanent(ErrorCode code) {
  return code != ErrorCode::rate_limited && code != ErrorCode::internal && code != ErrorCode::unauthorized;
}

constexpr auto kHistoryMax = static_cast<std::int64_t>(limits::c2s_history_limit_maximum);

}  // namespace

std::string_view to_string(SendRefusal refusal) {
  constexpr std::string_view kWords[] = {"queue_full", "not_found", "forbidden", "bad_request", "too_large"};
  return kWords[static_cast<std::size_t>(refusal)];
}

namespace {

SendResult refused(SendRefusal why) { return SendResult{{}, why}; }

// The message as the server has it: what its changes apply to.
Message& base(TimelineItem& item) { return item.server ? *item.server : item.message; }

void clear_change_error(TimelineItem& item) {
  if (item.failed_change.empty()) return;
  item.failed_change.clear();
  item.error.reset();
}

}  // namespace

Core::Core(Config config)
    : config_(std::move(config)),
      connection_(Connection::Timings{config_.backoff_base_ms, config_.backoff_cap_ms, config_.stable_after_ms,
                                      config_.handshake_timeout_ms, config_.default_heartbeat_ms}),
      rng_(config_.seed) {}

// ======================================================================= app

bool Core::restore(const std::string& key, std::string_view blob, std::int64_t now) {
  std::optional<SavedState> state = key == kOutboxKey  ? decode_outbox(blob)
                                    : key == kRoomsKey ? decode_rooms(blob)
                                                       : std::nullopt;
  if (!state) return false;
  if (!restored_user_.empty() && state->user_id != restored_user_) return false;
  restored_user_ = state->user_id;
  bool added = false;  // sends or receipts this core did not have
  for (const auto& r : state->rooms) {
    Room& room = room_state(r.room_id);
    room.history.restored(r.epoch, r.has_more);
    for (const auto& m : r.messages) room.timeline.confirm(m, restored_user_);
    room.timeline.saw(r.position);
    notify_room(r.room_id);
  }
  for (const auto& s : state->sends) {
    if (outbox_.find(s.client_msg_id)) continue;
    join(s.room_id, now);  // its queue must be flushed, so it must be joined (at once if connected)
    outbox_.push(s);
    added = true;
    notify_room(s.room_id);
    // A change shows on its target (below); a message as a line of its own.
    if (!is_change(s.draft.type)) {
      show_pending(s, s.failed ? MessageStatus::failed : MessageStatus::queued);
    }
  }
  for (const auto& r : state->receipts) {
    join(r.room_id, now);  // its receipts go out after the (re)join
    Room& room = room_state(r.room_id);
    room.receipts.advance(Receipts::read, r.read, now, config_.receipt_delay_ms);
    room.receipts.advance(Receipts::delivered, r.delivered, now, config_.receipt_delay_ms);
    added = true;
  }
  // Our changes still on their way show on their targets, whichever blob
  // came first.
  for (const auto& p : outbox_.all()) {
    if (TimelineItem* target = target_of(p)) rebase(p.room_id, *target);
  }
  // What was adopted is this core's to send now: saved with its own outbox
  // (before the host deletes the blob it came from), and sent at once if
  // connected.
  if (added) persist_outbox();
  flush_outbox(now);
  schedule_housekeeping(now);
  return true;
}

void Core::connect(std::int64_t now) {
  want_connection_ = true;
  if (connection_.state() == ConnectionState::idle || connection_.state() == ConnectionState::closed) start_over(now);
}

void Core::start_over(std::int64_t now) {
  connection_.forget_attempts();
  auth_refusals_ = 0;
  token_failures_ = 0;
  start_attempt(now);
}

void Core::disconnect(std::int64_t now) {
  want_connection_ = false;
  if (connection_.state() == ConnectionState::closed) return;
  stop_connection(ConnectionState::closed, "client disconnect", now);
}

void Core::reconnect_now(std::int64_t now) {
  if (connection_.state() == ConnectionState::reconnecting || connection_.state() == ConnectionState::offline) {
    start_attempt(now);
  } else if (connection_.state() == ConnectionState::closed && want_connection_) {
    start_over(now);  // closed by a refused token: try again
  }
}

void Core::set_token(std::string token, std::int64_t now, std::int64_t expires_at) {
  token_ = std::move(token);
  token_expires_at_ = expires_at;
  refresh_from_ = now;
  token_failures_ = 0;
  bool asked = tokens_asked_ > 0;  // the answer to a RequestToken
  if (asked) --tokens_asked_;
  // A token the app offers by itself (not the answer to a request made before
  // the connection closed) starts a closed connection over.
  if (connection_.state() == ConnectionState::closed && want_connection_ && !asked) return start_over(now);
  if (connection_.socket_open() && connection_.state() == ConnectionState::connecting) send_hello();
  if (live()) {
    // Refreshed in place: the server takes the new token on this socket.
    refreshing_ = true;  // until the server's answer
    c2s::Auth auth;
    auth.ref = requests_.add(Request{Request::auth_request});
    auth.token = *token_;
    send_frame(auth);
  }
  schedule_housekeeping(now);
}

void Core::token_failed(std::int64_t now, bool refused) {
  if (tokens_asked_ > 0) --tokens_asked_;
  if (live() && refreshing_) {
    refreshing_ = false;
    if (refused) return give_up(now, Error{ErrorCode::unauthorized, "the app has no token", ""});
    // The current token still works: try again halfway to its expiry. Past
    // it the server closes with 4001, and a fresh token is asked for then.
    refresh_from_ = now;
    return schedule_housekeeping(now);
  }
  if (connection_.state() != ConnectionState::connecting || token_) return;
  if (refused || ++token_failures_ >= config_.token_attempts) {
    return give_up(now, Error{ErrorCode::unauthorized, refused ? "the app has no token" : "could not get a token", ""});
  }
  connection_.view().last_error = Error{ErrorCode::unauthorized, "could not get a token", ""};
  close_socket(close_code::normal, "no token");
  lost_connection(now, true);
}

void Core::join(const std::string& room_id, std::int64_t now) {
  Room& room = room_state(room_id);
  if (room.join.wanted() && (room.join.settled() || !live())) return;
  room.join.want();
  if (live()) send_join(room_id, room);
  notify_room(room_id);
  schedule_housekeeping(now);
}

void Core::leave(const std::string& room_id, std::int64_t now) {
  auto it = rooms_.find(room_id);
  if (it == rooms_.end() || !it->second.join.wanted()) return;
  Room& room = it->second;
  stop_typing(room_id, room, false);
  if (room.join.joined() && live()) {
    c2s::Leave frame;
    frame.roomId = room_id;
    send_frame(frame);
  }
  room.join.drop();
  notify_room(room_id);
  schedule_housekeeping(now);
}

SendResult Core::send(const std::string& room_id, Draft draft, std::int64_t now, bool held) {
  if (outbox_.unsent() >= config_.queue_limit) return refused(SendRefusal::queue_full);
  std::optional<Error> invalid = check_draft(room_id, draft);
  Room& room = room_state(room_id);
  // A reply says everything before it was seen: its receipts go first, so
  // that the others never see the reply above a "sent" mark.
  if (room.receipts.deadline()) flush_receipts(room_id, room, now);
  if (!room.join.wanted() && !invalid) join(room_id, now);
  QueuedSend pending;
  pending.room_id = room_id;
  pending.client_msg_id = new_client_msg_id();
  pending.created_at = now;
  pending.held = held;
  // A reply names its original by key or id; one of ours not acknowledged
  // yet has no id: the reply waits for it.
  if (const TimelineItem* original = draft.replyTo ? room.timeline.find(*draft.replyTo) : nullptr) {
    if (original->message.id.empty()) {
      pending.waits_for = original->key;
    } else {
      draft.replyTo = original->message.id;
    }
  }
  pending.draft = std::move(draft);
  // A message the server would refuse fails at once, with the same reason.
  pending.failed = invalid;
  std::string key = pending.client_msg_id;
  show_pending(pending, invalid ? MessageStatus::failed : MessageStatus::queued);
  outbox_.push(std::move(pending));
  stop_typing(room_id, room, false);  // the server clears it when the message lands
  persist_outbox();
  flush_outbox(now);
  notify_room(room_id);
  schedule_housekeeping(now);
  return SendResult{key, std::nullopt};
}

void Core::show_pending(const QueuedSend& send, MessageStatus status) {
  TimelineItem& item = room_state(send.room_id).timeline.add_pending(send.client_msg_id, status, send.failed);
  item.held = send.held;
  Message& shown = item.message;
  shown.roomId = send.room_id;
  shown.clientMsgId = send.client_msg_id;
  shown.type = send.draft.type;
  shown.content = send.draft.content;
  shown.metadata = send.draft.metadata;
  shown.replyTo = send.draft.replyTo;
  shown.createdAt = send.created_at;
  shown.senderId = me();
  if (connection_.view().user) shown.senderName = connection_.view().user->name;
}

SendResult Core::edit(const std::string& room_id, const std::string& key, std::string content, std::int64_t now) {
  TimelineItem* item = room_state(room_id).timeline.find(key);
  if (!item || item->message.deletedAt) return refused(SendRefusal::not_found);
  if (item->message.senderId != me()) return refused(SendRefusal::forbidden);
  Draft draft;
  draft.type = "edit";
  draft.content = std::move(content);
  if (auto invalid = check_draft(room_id, draft)) {
    return refused(invalid->code == ErrorCode::too_large ? SendRefusal::too_large : SendRefusal::bad_request);
  }
  if (QueuedSend* queued = outbox_.find(key); queued && !queued->in_flight) {
    // Not on the wire yet: the send itself says the new text.
    queued->draft.content = draft.content;
    base(*item).content = std::move(draft.content);
    rebase(room_id, *item);
    persist_outbox();
    notify_room(room_id);
    return SendResult{key, std::nullopt};
  }
  return change(room_id, *item, std::move(draft), now);
}

SendResult Core::remove(const std::string& room_id, const std::string& key, std::int64_t now) {
  TimelineItem* item = room_state(room_id).timeline.find(key);
  if (!item || item->message.deletedAt) return refused(SendRefusal::not_found);
  if (QueuedSend* queued = outbox_.find(key); queued && !queued->in_flight) {
    drop(room_id, key);  // not on the wire yet: it never will be
    return SendResult{key, std::nullopt};
  }
  Draft draft;
  draft.type = "delete";
  return change(room_id, *item, std::move(draft), now);
}

SendResult Core::react(const std::string& room_id, const std::string& key, std::string emoji, std::int64_t now) {
  if (!is_reaction_emoji(emoji)) return refused(SendRefusal::bad_request);
  TimelineItem* item = room_state(room_id).timeline.find(key);
  if (!item || item->message.deletedAt) return refused(SendRefusal::not_found);
  Draft draft;
  draft.type = reacted(item->message, emoji, me()) ? "unreact" : "react";
  draft.content = std::move(emoji);
  return change(room_id, *item, std::move(draft), now);
}

SendResult Core::change(const std::string& room_id, TimelineItem& item, Draft draft, std::int64_t now) {
  if (outbox_.unsent() >= config_.queue_limit) return refused(SendRefusal::queue_full);
  QueuedSend pending;
  pending.room_id = room_id;
  pending.client_msg_id = new_client_msg_id();
  pending.created_at = now;
  // The target by its server id; a send of ours not acknowledged yet by its key, until its id comes.
  if (item.message.id.empty()) {
    pending.waits_for = item.key;
  } else {
    draft.target = item.message.id;
  }
  pending.draft = std::move(draft);
  outbox_.push(std::move(pending));
  std::string key = item.key;
  clear_change_error(item);
  rebase(room_id, item);
  if (!room_state(room_id).join.wanted()) join(room_id, now);
  persist_outbox();
  flush_outbox(now);
  notify_room(room_id);
  schedule_housekeeping(now);
  return SendResult{key, std::nullopt};
}

bool Core::attach(const std::string& room_id, const std::string& key, Metadata metadata, std::int64_t now) {
  QueuedSend* queued = outbox_.find(key);
  if (!queued || !queued->held) return false;
  queued->held = false;
  queued->draft.metadata = metadata;
  if (TimelineItem* item = room_state(room_id).timeline.find(key)) {
    item->held = false;
    base(*item).metadata = std::move(metadata);
    rebase(room_id, *item);
  }
  persist_outbox();
  flush_outbox(now);
  notify_room(room_id);
  schedule_housekeeping(now);
  return true;
}

bool Core::retry(const std::string& room_id, const std::string& key, std::int64_t now) {
  QueuedSend* failed = outbox_.find(key);
  if (!failed || !failed->failed) return false;
  failed->failed.reset();
  room_state(room_id).timeline.set_pending_status(key, MessageStatus::queued);
  persist_outbox();
  flush_outbox(now);
  notify_room(room_id);
  return true;
}

bool Core::discard(const std::string& room_id, const std::string& key, std::int64_t) {
  QueuedSend* queued = outbox_.find(key);
  if (!queued || queued->in_flight) return false;  // the server may already have it
  drop(room_id, key);
  return true;
}

void Core::drop(const std::string& room_id, const std::string& key) {
  Room& room = room_state(room_id);
  outbox_.remove(key);
  room.timeline.remove_pending(key);
  // What waited for its id never gets one: changes go with it, replies fail.
  std::vector<std::string> changes;
  for (auto& p : outbox_.all()) {
    if (p.waits_for != key) continue;
    if (is_change(p.draft.type)) {
      changes.push_back(p.client_msg_id);
      continue;
    }
    p.waits_for.clear();
    p.failed = Error{ErrorCode::not_found, "the message it answers was discarded", "/message/replyTo"};
    room.timeline.set_pending_status(p.client_msg_id, MessageStatus::failed, p.failed);
  }
  for (const auto& id : changes) outbox_.remove(id);
  persist_outbox();
  notify_room(room_id);
}

void Core::load_older(const std::string& room_id, std::int64_t) {
  Room& room = room_state(room_id);
  if (!live() || !room.join.joined()) return;
  auto fetch = room.history.load_older(room.timeline);
  if (!fetch) return;
  request_history(room_id, *fetch);
  notify_room(room_id);
}

void Core::set_typing(const std::string& room_id, bool active, std::int64_t now) {
  Room& room = room_state(room_id);
  if (!active) return stop_typing(room_id, room, true);
  if (room.typing.typed(now, config_.typing_throttle_ms, config_.typing_idle_ms, live() && room.join.joined())) {
    c2s::Typing frame;
    frame.roomId = room_id;
    frame.active = true;
    send_frame(frame);
  }
  schedule_housekeeping(now);
}

void Core::stop_typing(const std::string& room_id, Room& room, bool tell_server) {
  if (room.typing.stop() && tell_server && live() && room.join.joined()) {
    c2s::Typing frame;
    frame.roomId = room_id;
    frame.active = false;
    send_frame(frame);
  }
}

void Core::mark_read(const std::string& room_id, std::int64_t up_to_seq, std::int64_t now) {
  Room& room = room_state(room_id);
  if (!room.receipts.advance(Receipts::read, std::min(up_to_seq, room.timeline.last_seq()), now,
                             config_.receipt_delay_ms)) {
    return;
  }
  if (!live() || !room.join.joined()) persist_outbox();  // it waits for the rejoin: a reload must not lose it
  schedule_housekeeping(now);
}

void Core::set_presence(const std::string& status, std::int64_t) {
  presence_status_ = status;
  if (!live()) return;
  c2s::Presence frame;
  frame.status = status;
  send_frame(frame);
}

// ======================================================== transport events

void Core::socket_opened(std::uint32_t socket, std::string_view subprotocol, std::int64_t now) {
  if (!connection_.is_current(socket) || connection_.state() != ConnectionState::connecting) return;
  connection_.socket_opened(now);
  if (subprotocol != subprotocol_json) {
    // Another protocol (or none) would be misread frame by frame: stop, and say why.
    return give_up(now, Error{ErrorCode::unsupported_version, "the server does not speak parley.v1.json", ""});
  }
  if (token_) send_hello();
}

void Core::socket_closed(std::uint32_t socket, std::uint16_t code, std::int64_t now) {
  if (!connection_.is_current(socket)) return;  // a socket we already gave up on
  if (code == close_code::unauthorized) return token_refused(now);
  // 1013, "try again later" (the server is at capacity): the wait is drawn
  // from the upper half of the backoff range.
  std::int64_t at_least = code == close_code::try_again_later ? connection_.backoff_ceiling() / 2 : 0;
  lost_connection(now, true, at_least);
}

void Core::token_refused(std::int64_t now) {
  token_.reset();  // the next attempt asks the app for a fresh one
  if (++auth_refusals_ >= 2) {
    // Refused again right after a fresh token: retrying cannot help.
    return give_up(now, Error{ErrorCode::unauthorized, "the server refused a fresh token", ""});
  }
  connection_.view().last_error = Error{ErrorCode::unauthorized, "the server refused the token", ""};
  close_socket(close_code::normal, "unauthorized");
  lost_connection(now, true);
}

void Core::give_up(std::int64_t now, Error error) {
  connection_.view().last_error = std::move(error);
  token_.reset();
  stop_connection(ConnectionState::closed, "closed by the client", now);
}

void Core::stop_connection(ConnectionState state, const char* reason, std::int64_t now) {
  close_socket(close_code::normal, reason);
  effects_.push_back(Effect{Effect::cancel_timer, reconnect_timer, 0, {}, {}});
  set_state(state);
  lost_connection(now, false);
}

void Core::received(std::uint32_t socket, std::string_view bytes, std::int64_t now) {
  if (!connection_.is_current(socket) || !connection_.socket_open()) return;
  connection_.received(now);
  auto decoded = decode_server_json(bytes);
  if (!decoded) {
    // A server that speaks garbage cannot be trusted with the rest of the stream.
    connection_.view().last_error = decoded.error();
    close_socket(close_code::protocol_error, "invalid frame from server");
    lost_connection(now, true);
    return;
  }
  std::visit([&](auto& frame) { on_frame(frame, now); }, decoded.value());
  schedule_housekeeping(now);
}

void Core::timer_fired(std::uint32_t timer, std::int64_t now) {
  if (timer == reconnect_timer) {
    if (connection_.state() == ConnectionState::reconnecting) start_attempt(now);
  } else if (timer == housekeeping_timer) {
    housekeeping_at_.reset();
    housekeeping(now);
    schedule_housekeeping(now);
  }
}

void Core::network_online(std::int64_t now) {
  if (connection_.state() != ConnectionState::offline) return;
  connection_.forget_attempts();
  start_attempt(now);
}

void Core::network_offline(std::int64_t now) {
  if (connection_.state() == ConnectionState::closed || connection_.state() == ConnectionState::idle ||
      connection_.state() == ConnectionState::offline) {
    return;
  }
  // Browsers may keep an open socket across a network change; treat it as lost.
  stop_connection(ConnectionState::offline, "network offline", now);
}

// ===================================================================== frames

void Core::on_frame(s2c::Welcome& f, std::int64_t now) {
  if (connection_.state() != ConnectionState::authenticating) return;
  requests_.take(f.ref);
  if (!restored_user_.empty() && restored_user_ != f.user.id) {
    // The saved state belongs to someone else: drop it rather than send as them.
    outbox_.clear();
    for (auto& [id, room] : rooms_) room.timeline = Timeline{};
    persist_outbox();
  }
  restored_user_ = f.user.id;
  clock_offset_ = f.serverTime - now;
  connection_.view().user = f.user;
  connection_.view().limits = f.limits;
  connection_.view().last_error.reset();
  auth_refusals_ = 0;
  outbox_.welcomed(f.limits.sendIntervalMs, f.limits.sendBurst, now);
  connection_.welcomed(f.heartbeatMs, now);
  set_state(ConnectionState::connected);
  if (presence_status_ != "online") set_presence(presence_status_, now);
  for (auto& [room_id, room] : rooms_) {
    if (room.join.wanted()) send_join(room_id, room);
  }
}

void Core::on_frame(s2c::Joined& f, std::int64_t now) {
  requests_.take(f.ref);
  Room& room = room_state(f.room.id);
  if (!room.join.answered()) return;  // left meanwhile
  room.join.succeeded();
  room.history.joining(room.timeline, f.epoch, f.reset.value_or(false));
  room.members.clear();
  for (auto& m : f.members) room.members[m.userId] = m;
  for (const auto& m : f.messages) confirm(room, m, now);
  room.history.joined_page(room.timeline);
  rooms_dirty_ = true;
  flush_outbox(now);
  flush_receipts(f.room.id, room, now);
  notify_room(f.room.id);
}

void Core::on_frame(s2c::Ack& f, std::int64_t now) {
  auto request = requests_.take(f.ref);
  if (!request) return;
  if (request->kind == Request::auth_request) refreshing_ = false;  // the next refresh is due before its expiry
  if (request->kind == Request::send_request && f.message) {
    confirm(room_state(request->room_id), *f.message, now);
    notify_room(request->room_id);
    if (outbox_.one_at_a_time()) flush_outbox(now);
  }
}

void Core::on_frame(s2c::Error& f, std::int64_t now) {
  Error error{error_code_from_string(f.code).value_or(ErrorCode::internal), f.message, f.path.value_or("")};
  auto taken = requests_.take(f.ref);
  if (!taken) {
    connection_.view().last_error = error;
    // A wait the server asks for holds for the next connection attempt too.
    if (f.retryAfterMs) connection_.hold_until(now + *f.retryAfterMs);
    notify("connection");
    return;
  }
  Request& request = *taken;
  if (request.kind == Request::send_request) {
    QueuedSend* p = outbox_.find(request.client_msg_id);
    if (!p) return;
    p->in_flight = false;
    Room& room = room_state(request.room_id);
    if (permanent(error.code) && is_change(p->draft.type)) {
      change_failed(request.client_msg_id, error, false);  // undone, and its target says why
    } else if (permanent(error.code)) {
      // The server refused this message: show why; the rest of the queue goes on.
      p->failed = error;
      room.timeline.set_pending_status(request.client_msg_id, MessageStatus::failed, error);
      persist_outbox();
    } else {
      // Transient: it goes again, first in line, after the delay the server
      // asked for. Refusals of the sends that were in flight behind it (the
      // server holds them back to keep the order) leave that delay alone.
      outbox_.refused_for_now(now, f.retryAfterMs.value_or(config_.backoff_base_ms));
      room.timeline.set_pending_status(request.client_msg_id, MessageStatus::queued, error);
      flush_outbox(now);  // sets when to try again
    }
    notify_room(request.room_id);
  } else if (request.kind == Request::history_request) {
    room_state(request.room_id).history.refused();
    notify_room(request.room_id);
  } else if (request.kind == Request::join_request) {
    join_refused(request.room_id, error, f.retryAfterMs, now);
  } else if (request.kind == Request::hello_request) {
    hello_refused(error, f.retryAfterMs, now);
  } else if (request.kind == Request::auth_request) {
    token_refused(now);  // as if the server had closed with 4001: a fresh token, on a new connection
  } else {
    connection_.view().last_error = error;
    notify("connection");
  }
}

void Core::hello_refused(const Error& error, std::optional<std::int64_t> retry_after_ms, std::int64_t now) {
  if (error.code == ErrorCode::unauthorized) return token_refused(now);
  if (error.code == ErrorCode::unsupported_version || error.code == ErrorCode::bad_request) {
    return give_up(now, error);  // the same hello would be refused again
  }
  // Transient (rate_limited, internal, too many connections): try again
  // later, not before the wait the server asked for.
  connection_.view().last_error = error;
  if (retry_after_ms) connection_.hold_until(now + *retry_after_ms);
  close_socket(close_code::normal, "hello refused");
  lost_connection(now, true);
}

void Core::join_refused(const std::string& room_id, const Error& error, std::optional<std::int64_t> retry_after_ms,
                        std::int64_t now) {
  Room& room = room_state(room_id);
  if (!room.join.answered()) return;
  if (!permanent(error.code)) {
    // Transient (rate_limited, internal): the room stays wanted and its
    // queue waits; the join goes again after the server's wait (or a backoff).
    room.join.refused_for_now(now, retry_after_ms.value_or(backoff_ceiling(
                                       room.join.failures(), config_.backoff_base_ms, config_.backoff_cap_ms)));
    return;
  }
  room.join.drop();
  connection_.view().last_error = error;
  // Messages queued for a room we may not join can never be sent; changes are undone.
  std::vector<std::string> changes;
  for (auto& p : outbox_.all()) {
    if (p.room_id != room_id || p.failed) continue;
    if (is_change(p.draft.type)) {
      changes.push_back(p.client_msg_id);
    } else {
      p.failed = error;
      room.timeline.set_pending_status(p.client_msg_id, MessageStatus::failed, error);
    }
  }
  for (const auto& id : changes) change_failed(id, error, false);
  persist_outbox();
  notify_room(room_id);
  notify("connection");
}

void Core::on_frame(s2c::MessageEvent& f, std::int64_t now) {
  Room& room = room_state(f.message.roomId);
  if (!room.join.joined()) return;
  // Messages went missing between what we have and this one: fetch them.
  if (auto gap = room.history.live(room.timeline, f.message.seq)) request_history(f.message.roomId, *gap);
  confirm(room, f.message, now);
  room.history.trim(room.timeline);
  room.typists.stopped(f.message.senderId);
  notify_room(f.message.roomId);
}

void Core::on_frame(s2c::Typing& f, std::int64_t now) {
  Room& room = room_state(f.roomId);
  if (f.userId == me()) return;
  if (f.active) {
    room.typists.started(f.userId, f.name, now + f.ttlMs);
  } else {
    room.typists.stopped(f.userId);
  }
  notify_room(f.roomId);
}

void Core::on_frame(s2c::Presence& f, std::int64_t) {
  Room& room = room_state(f.roomId);
  if (f.snapshot.value_or(false)) room.members.clear();
  for (auto& m : f.members) {
    auto& slot = room.members[m.userId];
    // Diffs carry status; keep the watermarks we know.
    auto read = slot.readSeq;
    auto delivered = slot.deliveredSeq;
    slot = m;
    if (!slot.readSeq) slot.readSeq = read;
    if (!slot.deliveredSeq) slot.deliveredSeq = delivered;
    if (m.status == "offline") room.typists.stopped(m.userId);
  }
  notify_room(f.roomId);
}

void Core::on_frame(s2c::Receipt& f, std::int64_t) {
  Room& room = room_state(f.roomId);
  auto& member = room.members[f.userId];
  member.userId = f.userId;
  if (member.name.empty()) member.name = f.userId;
  auto& mark = f.kind == "read" ? member.readSeq : member.deliveredSeq;
  mark = std::max(mark.value_or(0), f.upToSeq);
  notify_room(f.roomId);
}

void Core::on_frame(s2c::History& f, std::int64_t now) {
  Request request{Request::history_request, f.roomId};
  if (auto asked = requests_.take(f.ref)) request = std::move(*asked);
  Room& room = room_state(f.roomId);
  std::int64_t first = 0;
  for (const auto& m : f.messages) {
    confirm(room, m, now);
    if (first == 0 || m.seq < first) first = m.seq;
  }
  RoomHistory::Fetch answered{0, 0, request.older, request.gap_from};
  if (auto next = room.history.page(room.timeline, answered, first, f.hasMore)) request_history(f.roomId, *next);
  notify_room(f.roomId);
}

void Core::on_frame(s2c::Pong& f, std::int64_t) { requests_.take(f.ref); }

void Core::on_frame(s2c::Announcement& f, std::int64_t) {
  connection_.view().announcement = Announcement{f.text, f.level};
  notify("connection");
}

void Core::on_frame(s2c::Removed& f, std::int64_t) {
  Room& room = room_state(f.roomId);
  room.join.drop();
  connection_.view().last_error = Error{ErrorCode::forbidden, "removed from " + f.roomId + " by " + f.by, "/roomId"};
  notify_room(f.roomId);
  notify("connection");
}

void Core::confirm(Room& room, const Message& message, std::int64_t now) {
  const std::string self = me();
  bool mine = message.senderId == self;
  // Out of the queue first: a change of ours is then not applied twice.
  bool ours = mine && outbox_.remove(message.clientMsgId);
  if (ours) persist_outbox();
  rooms_dirty_ = true;
  if (is_change(message.type)) {
    // Not a line of its own: it sets its target, if the timeline holds it
    // (otherwise the server's pages bring the target as it is now).
    room.timeline.saw(message.seq);
    TimelineItem* item = message.target ? room.timeline.find_id(*message.target) : nullptr;
    if (item && message.seq > item->changed_seq) {
      item->changed_seq = message.seq;
      apply_change(base(*item), message.type, message.content, message.senderId, message.createdAt);
      if (mine && item->failed_change_id == message.clientMsgId) clear_change_error(*item);  // it landed after all
      rebase(message.roomId, *item);
    }
  } else {
    TimelineItem* item = room.timeline.confirm(message, self);
    if (ours) resolve(message.roomId, message.clientMsgId, message.id, now);
    if (!item) {
      // Held already. A history page brings it as it is now, which may tell
      // of an edit or a delete whose change message we missed (a gap is
      // filled with pages, and pages hold no changes): taken if newer than
      // ours. Only what moves forward is taken, so an answer older than our
      // state (an ack after its echo and a later change) sets nothing back.
      item = room.timeline.at_seq(message.seq);
      Message& held = base(*item);
      if (message.deletedAt) {
        apply_change(held, "delete", message.content, message.senderId, *message.deletedAt);
      } else if (message.updatedAt.value_or(0) > held.updatedAt.value_or(0)) {
        apply_change(held, "edit", message.content, message.senderId, *message.updatedAt);
      }
    }
    rebase(message.roomId, *item);
  }
  if (!mine) {
    // Tell the sender it reached us.
    room.receipts.advance(Receipts::delivered, message.seq, now, config_.receipt_delay_ms);
  }
}

void Core::resolve(const std::string& room_id, const std::string& key, const std::string& id, std::int64_t now) {
  bool resolved = false;
  for (auto& p : outbox_.all()) {
    if (p.waits_for != key) continue;
    p.waits_for.clear();
    resolved = true;
    if (is_change(p.draft.type)) {
      p.draft.target = id;
    } else if (TimelineItem* reply = room_state(room_id).timeline.find(p.client_msg_id)) {
      p.draft.replyTo = id;
      reply->message.replyTo = id;
    }
  }
  if (!resolved) return;
  persist_outbox();
  flush_outbox(now);
}

TimelineItem* Core::target_of(const QueuedSend& change) {
  if (!is_change(change.draft.type)) return nullptr;
  Timeline& timeline = room_state(change.room_id).timeline;
  if (!change.waits_for.empty()) return timeline.find(change.waits_for);
  return change.draft.target ? timeline.find_id(*change.draft.target) : nullptr;
}

void Core::rebase(const std::string& room_id, TimelineItem& item) {
  if (!item.server && outbox_.all().empty()) return;  // the common case: nothing of ours on its way
  if (item.server) item.message = *item.server;
  bool changed = false;
  const std::string self = me();
  for (const auto& p : outbox_.all()) {
    if (p.room_id != room_id || !is_change(p.draft.type)) continue;
    bool targets =
        p.waits_for.empty() ? !item.message.id.empty() && p.draft.target == item.message.id : p.waits_for == item.key;
    if (!targets) continue;
    if (!item.server) item.server = item.message;
    changed = true;
    apply_change(item.message, p.draft.type, p.draft.content, self, p.created_at);
  }
  if (!changed) item.server.reset();
}

void Core::change_failed(const std::string& client_msg_id, const Error& error, bool timed_out) {
  QueuedSend* failed = outbox_.find(client_msg_id);
  if (!failed) return;
  TimelineItem* item = target_of(*failed);
  std::string room_id = failed->room_id;
  if (item) {
    item->error = error;
    item->failed_change = failed->draft.type;
    item->failed_change_id = client_msg_id;
    item->timed_out = timed_out;
  }
  outbox_.remove(client_msg_id);
  if (item) rebase(room_id, *item);
  persist_outbox();
  notify_room(room_id);
}

// ================================================================ connection

void Core::start_attempt(std::int64_t now) {
  effects_.push_back(Effect{Effect::cancel_timer, reconnect_timer, 0, {}, {}});
  std::uint32_t socket = connection_.begin_attempt(now);
  set_state(ConnectionState::connecting);
  effects_.push_back(Effect{Effect::open_socket, socket, 0, config_.url, std::string(subprotocol_json)});
  // A token due for its refresh would expire soon after the hello: ask for a fresh one instead.
  if (std::int64_t due = refresh_due(); due > 0 && now >= due) token_.reset();
  if (!token_) {
    effects_.push_back(Effect{Effect::request_token, 0, 0, {}, {}});
    ++tokens_asked_;
  }
  schedule_housekeeping(now);  // the handshake's deadline
}

void Core::send_hello() {
  c2s::Hello hello;
  hello.ref = requests_.add(Request{Request::hello_request});
  hello.token = *token_;
  hello.client = ClientInfo{config_.client_name, config_.client_version};
  send_frame(hello);
  set_state(ConnectionState::authenticating);
}

void Core::close_socket(std::uint16_t code, const char* reason) {
  if (connection_.handshaking() || connection_.live()) {
    effects_.push_back(Effect{Effect::close_socket, connection_.socket(), code, reason, {}});
  }
}

std::int64_t Core::refresh_due() const {
  if (token_expires_at_ <= 0 || !token_) return 0;
  std::int64_t expires = token_expires_at_ - clock_offset_;  // on our clock
  std::int64_t due = expires - std::min(config_.token_refresh_ms, (expires - refresh_from_) / 2);
  if (due <= refresh_from_) return 0;  // no life left to refresh in: the server will say so
  return due;
}

void Core::lost_connection(std::int64_t now, bool retry, std::int64_t at_least_ms) {
  connection_.lost();  // later events from the lost socket are stale
  requests_.clear();
  refreshing_ = false;
  for (auto& pending : outbox_.all()) {
    if (!pending.in_flight) continue;
    pending.in_flight = false;
    room_state(pending.room_id).timeline.set_pending_status(pending.client_msg_id, MessageStatus::queued);
  }
  for (auto& [room_id, room] : rooms_) {
    room.join.connection_lost();  // rejoined after the next welcome
    room.history.connection_lost();
    room.typists.clear();
    room.typing.connection_lost();
    notify_room(room_id);
  }
  if (unsent_receipts()) persist_outbox();  // they wait for the rejoin: a reload must not lose them
  if (retry && want_connection_ && connection_.state() != ConnectionState::closed &&
      connection_.state() != ConnectionState::offline) {
    schedule_retry(now, at_least_ms);
  }
  notify("connection");
}

void Core::schedule_retry(std::int64_t now, std::int64_t at_least_ms) {
  double unit = static_cast<double>(random() >> 11) / 9007199254740992.0;  // [0, 1)
  // Not before the server's retryAfterMs, or the floor the close asked for.
  set_state(ConnectionState::reconnecting);
  std::int64_t delay = connection_.backoff(now, unit, at_least_ms);
  effects_.push_back(Effect{Effect::start_timer, reconnect_timer, delay, {}, {}});
}

// ====================================================== rooms and the queue

void Core::send_join(const std::string& room_id, Room& room) {
  room.join.sent();
  c2s::Join join;
  join.ref = requests_.add(Request{Request::join_request, room_id});
  join.roomId = room_id;
  if (room.timeline.last_seq() > 0) join.sinceSeq = room.timeline.last_seq();
  send_frame(join);
}

void Core::flush_outbox(std::int64_t now) {
  outbox_.flush(
      now, live(),
      [&](const std::string& room_id) {
        auto room = rooms_.find(room_id);
        return room != rooms_.end() && room->second.join.joined();
      },
      [&](QueuedSend& pending) { transmit(pending); },
      [&](const QueuedSend& pending) {
        // Say why it waits, as if the server had refused it (it would have).
        room_state(pending.room_id)
            .timeline.set_pending_status(pending.client_msg_id, MessageStatus::queued,
                                         Error{ErrorCode::rate_limited, "paced to the server's send limit", ""});
        notify_room(pending.room_id);
      });
}

void Core::transmit(QueuedSend& pending) {
  c2s::Send frame;
  frame.ref = requests_.add(Request{Request::send_request, pending.room_id, pending.client_msg_id});
  frame.roomId = pending.room_id;
  frame.clientMsgId = pending.client_msg_id;
  frame.message = pending.draft;
  send_frame(frame);
  room_state(pending.room_id).timeline.set_pending_status(pending.client_msg_id, MessageStatus::sending);
  notify_room(pending.room_id);
}

void Core::request_history(const std::string& room_id, const RoomHistory::Fetch& fetch) {
  c2s::History frame;
  frame.ref = requests_.add(Request{Request::history_request, room_id, {}, fetch.older, fetch.gap_from});
  frame.roomId = room_id;
  frame.beforeSeq = fetch.before_seq;
  frame.limit = std::clamp<std::int64_t>(fetch.limit, 1, kHistoryMax);
  send_frame(frame);
}

void Core::flush_receipts(const std::string& room_id, Room& room, std::int64_t now) {
  if (!live() || !room.join.joined()) return;  // kept for after the rejoin
  Receipts::Unsent marks = room.receipts.take(now);
  if (marks.read > 0) send_frame(c2s::Read{std::nullopt, room_id, marks.read});
  if (marks.delivered > 0) send_frame(c2s::Delivered{std::nullopt, room_id, marks.delivered});
  if (receipts_saved_ && !unsent_receipts()) persist_outbox();  // the saved ones went out
}

bool Core::unsent_receipts() const {
  return std::any_of(rooms_.begin(), rooms_.end(), [](const auto& r) { return r.second.receipts.any_unsent(); });
}

// ======================================================================= time

std::optional<std::int64_t> Core::next_deadline() const {
  std::optional<std::int64_t> at;
  auto consider = [&](std::int64_t t) {
    if (!at || t < *at) at = t;
  };
  if (live()) {
    if (auto due = outbox_.deadline()) consider(*due);
    for (const auto& p : outbox_.all()) {
      if (p.in_flight && is_change(p.draft.type)) consider(p.sent_at + config_.change_timeout_ms);
    }
    if (std::int64_t due = refresh_due(); due > 0 && !refreshing_) consider(due);
  }
  if (auto due = connection_.deadline()) consider(*due);
  for (const auto& [id, room] : rooms_) {
    if (auto stop = room.typing.deadline()) consider(*stop);
    if (auto due = room.receipts.deadline(); due && room.join.joined()) consider(*due);
    if (auto due = room.join.due(); due && live()) consider(*due);
    if (auto shown = room.typists.deadline()) consider(*shown);
  }
  if (rooms_dirty_) consider(rooms_persist_due_);
  return at;
}

void Core::housekeeping(std::int64_t now) {
  // No welcome within the handshake timeout (the socket never opened, or
  // opened and stays silent: a proxy that swallows everything), or nothing
  // from the server for two heartbeats: the connection is dead. Give up on
  // this socket and try again after the backoff.
  if (connection_.dead(now)) {
    connection_.view().last_error = Error{ErrorCode::internal, "no answer from the server", ""};
    close_socket(close_code::going_away, "no answer from the server");
    lost_connection(now, true);
  }
  if (live()) {
    if (connection_.ping_due(now)) {
      c2s::Ping ping;
      ping.ref = requests_.add(Request{Request::other_request});
      send_frame(ping);
    }
    if (std::int64_t due = refresh_due(); due > 0 && !refreshing_ && now >= due) {
      refreshing_ = true;
      effects_.push_back(Effect{Effect::request_token, 0, 0, {}, {}});
      ++tokens_asked_;
    }
    if (connection_.became_stable(now)) notify("connection");  // the backoff starts over
    // Changes not answered in time are given up (undone, with the reason).
    std::vector<std::string> late;
    for (const auto& p : outbox_.all()) {
      if (p.in_flight && is_change(p.draft.type) && now >= p.sent_at + config_.change_timeout_ms) {
        late.push_back(p.client_msg_id);
      }
    }
    for (const auto& id : late) change_failed(id, Error{ErrorCode::internal, "no answer from the server", ""}, true);
    flush_outbox(now);
  }
  for (auto& [room_id, room] : rooms_) {
    if (live() && room.join.take_due(now)) send_join(room_id, room);
    if (auto stop = room.typing.deadline(); stop && now >= *stop) stop_typing(room_id, room, true);
    if (auto due = room.receipts.deadline(); due && now >= *due) flush_receipts(room_id, room, now);
    if (room.typists.expire(now)) notify_room(room_id);
  }
  if (rooms_dirty_ && now >= rooms_persist_due_) persist_rooms();
}

void Core::schedule_housekeeping(std::int64_t now) {
  if (rooms_dirty_ && rooms_persist_due_ <= 0) rooms_persist_due_ = now + config_.persist_delay_ms;
  auto at = next_deadline();
  if (at == housekeeping_at_) return;
  housekeeping_at_ = at;
  if (at) {
    effects_.push_back(Effect{Effect::start_timer, housekeeping_timer, std::max<std::int64_t>(0, *at - now), {}, {}});
  } else {
    effects_.push_back(Effect{Effect::cancel_timer, housekeeping_timer, 0, {}, {}});
  }
}

// ================================================================ persistence

void Core::persist_outbox() {
  std::vector<SavedReceipt> receipts;
  for (const auto& [id, room] : rooms_) {
    Receipts::Unsent left = room.receipts.unsent();
    if (left.read > 0 || left.delivered > 0) receipts.push_back(SavedReceipt{id, left.read, left.delivered});
  }
  receipts_saved_ = !receipts.empty();
  effects_.push_back(Effect{Effect::persist, 0, 0, kOutboxKey, encode_outbox(me(), outbox_.all(), receipts)});
}

void Core::persist_rooms() {
  rooms_dirty_ = false;
  rooms_persist_due_ = 0;
  std::vector<SavedRoom> saved;
  for (const auto& [id, room] : rooms_) {
    if (!room.join.wanted()) continue;
    saved.push_back(SavedRoom{id, room.history.epoch(), room.history.has_more(),
                              room.timeline.newest(config_.cached_messages), room.timeline.last_seq()});
  }
  effects_.push_back(Effect{Effect::persist, 0, 0, kRoomsKey, encode_rooms(me(), saved)});
}

// ==================================================================== helpers

void Core::send_frame(const c2s::Frame& frame) {
  effects_.push_back(Effect{Effect::send_frame, connection_.socket(), 0, encode_json(frame), {}});
}

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
  if (connection_.set_state(state)) notify("connection");
}

void Core::notify(std::string topic) {
  for (const auto& e : effects_) {
    if (e.kind == Effect::notify && e.text == topic) return;
  }
  effects_.push_back(Effect{Effect::notify, 0, 0, std::move(topic), {}});
}

std::vector<Effect> Core::take_effects() { return std::exchange(effects_, {}); }

}  // namespace parley::client
