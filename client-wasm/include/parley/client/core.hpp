// The Parley client core: a deterministic, sans-I/O state machine.
//
// Inputs are method calls (app calls, transport events, timer firings), each
// with the current time in milliseconds. Outputs are effects (take_effects)
// that the host performs, and views (connection(), room()) that the host
// re-reads when a Notify effect names them. The core owns no socket, timer or
// clock, so tests drive it with a fake transport and a fake clock.
//
// What it decides: when to (re)connect (exponential backoff with full jitter,
// reset after a stable connection; at once when the network returns), what
// to send and when (an ordered, bounded, persisted queue of sends flushed
// after the rooms are rejoined; coalesced receipts; throttled typing), and
// what the timeline shows (optimistic sends confirmed in place, optimistic
// edits, deletes and reactions undone if refused, resume from the last seq,
// gap filling, older pages).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "parley/client/connection.hpp"
#include "parley/client/effects.hpp"
#include "parley/client/outbox.hpp"
#include "parley/client/requests.hpp"
#include "parley/client/room.hpp"
#include "parley/client/views.hpp"
#include "parley/protocol/codec.hpp"

namespace parley::client {

// The core speaks the JSON codec (parley.v1.json): readable in devtools, and
// leaving the binary codec out keeps the WebAssembly module small.
struct Config {
  std::string url;  // ws://host:port/ws
  std::string client_name = "parley-core";
  std::string client_version = "0.1.0";
  std::uint64_t seed = 1;  // randomness for ids and jitter; the host passes real entropy
  std::int64_t backoff_base_ms = 500;
  std::int64_t backoff_cap_ms = 10'000;
  std::int64_t stable_after_ms = 5'000;        // connected this long: the backoff starts over
  int token_attempts = 3;                      // token_failed() this many times in a row: closed (unauthorized)
  std::int64_t default_heartbeat_ms = 25'000;  // until welcome says otherwise
  std::size_t queue_limit = 1000;              // unsent messages kept; more are refused with queue_full
  std::int64_t typing_throttle_ms = 2'000;     // at most one `typing` frame per this while typing
  std::int64_t typing_idle_ms = 3'000;         // typing stops by itself after this without set_typing
  std::int64_t receipt_delay_ms = 300;         // read/delivered watermarks go at most this often per room
  std::int64_t persist_delay_ms = 500;         // the room cache is written at most this often
  std::size_t cached_messages = 100;           // per room, persisted for the next start
  std::size_t timeline_limit = 500;            // confirmed messages kept per room (more after load_older)
  std::size_t page_size = 50;                  // history page of load_older
  // An attempt not welcomed this long after it started (socket never open,
  // or open and silent) is abandoned: closed, then retried after the backoff.
  std::int64_t handshake_timeout_ms = 10'000;
  // A token with a known expiry is refreshed in place (`auth` on the open
  // socket) this long before it expires, or halfway through what is left of
  // its life if that is shorter.
  std::int64_t token_refresh_ms = 30'000;
  // A change (edit, delete, reaction) not answered this long after it went
  // out on a live connection is given up: undone, with the reason shown.
  std::int64_t change_timeout_ms = 10'000;
};

// Timer ids the core uses.
enum Timer : std::uint32_t { reconnect_timer = 1, housekeeping_timer = 2 };

// Why send() or a change refused to queue anything. Client-side only: the
// server never sees it. (A message the server would refuse is queued as
// failed instead, so that it shows in the timeline with the reason.)
//   queue_full   the offline queue is full
//   not_found    no such line in the timeline, or a tombstone
//   forbidden    an edit of someone else's message
//   bad_request  not one emoji (react), not an edit (edit)
//   too_large    the new content is longer than the protocol allows
enum class SendRefusal : std::uint8_t { queue_full, not_found, forbidden, bad_request, too_large };
std::string_view to_string(SendRefusal refusal);

struct SendResult {
  std::string key;                     // the timeline key (clientMsgId) of the queued message
  std::optional<SendRefusal> refused;  // set when nothing was queued
  explicit operator bool() const { return !refused; }
};

// Keys of persisted blobs.
inline constexpr const char* kOutboxKey = "outbox";
inline constexpr const char* kRoomsKey = "rooms";

class Core {
 public:
  explicit Core(Config config);

  // ---- app
  // Gives back a blob persisted by an earlier core, or by another tab's core
  // that is gone (its outbox, adopted: the messages keep their clientMsgIds,
  // so the server's dedup makes a resend harmless). May be called at any
  // time: while connected, adopted messages go out at once. Sends or
  // receipts it adds are persisted with this core's outbox. Returns false for
  // a blob it cannot read, or another user's (it is then ignored).
  bool restore(const std::string& key, std::string_view blob, std::int64_t now);
  void connect(std::int64_t now);
  void disconnect(std::int64_t now);
  // Skips the backoff wait; after a refused token (closed, unauthorized) starts over.
  void reconnect_now(std::int64_t now);
  // A token from the app: the answer to RequestToken, or one it offers by
  // itself, which starts a connection closed for a refused token over.
  // `expires_at`: when it expires (ms since the epoch, the server's clock;
  // 0: unknown). A token with an expiry is refreshed before it (RequestToken
  // again) and handed to the server on the open connection (`auth`): no
  // reconnect. On a connected socket any new token goes over the same way.
  void set_token(std::string token, std::int64_t now, std::int64_t expires_at = 0);
  // The app could not get a token (`refused`: it says there is none to get,
  // e.g. the user signed out). Config::token_attempts failures in a row, or
  // one refusal, close the connection with last_error unauthorized.
  void token_failed(std::int64_t now, bool refused = false);
  void join(const std::string& room_id, std::int64_t now);
  void leave(const std::string& room_id, std::int64_t now);
  // Queues a message; returns its key (clientMsgId), or why it was refused
  // (queue_full). `draft.replyTo` may name the original by its server id or
  // its timeline key; a reply to a send of ours not acknowledged yet waits
  // for its id. A `held` send (an attachment still uploading) shows at once
  // but waits, and the later messages of its room wait behind it, until
  // attach() releases it.
  SendResult send(const std::string& room_id, protocol::Draft draft, std::int64_t now, bool held = false);
  // Changes to a line of the timeline, by its key. Each shows at once and is
  // queued like a send (in order, persisted, paced); a refusal, or no answer
  // within Config::change_timeout_ms of going out, undoes it and shows why
  // on the line (error, with the failed change). A send of ours still in
  // the queue and not on the wire is changed itself instead (edit rewrites
  // it, remove discards it); one on the wire gets the change after its ack
  // (the change waits for its id). Returns the key, or why nothing was done.
  SendResult edit(const std::string& room_id, const std::string& key, std::string content, std::int64_t now);
  SendResult remove(const std::string& room_id, const std::string& key, std::int64_t now);
  // Reacts with `emoji`, or takes our reaction back if we have it (a toggle).
  SendResult react(const std::string& room_id, const std::string& key, std::string emoji, std::int64_t now);
  // A held send's attachment is uploaded: `metadata` (its url, ...) replaces
  // what it showed, and the send goes in its place in the queue.
  bool attach(const std::string& room_id, const std::string& key, protocol::Metadata metadata, std::int64_t now);
  bool retry(const std::string& room_id, const std::string& key, std::int64_t now);    // a failed send
  bool discard(const std::string& room_id, const std::string& key, std::int64_t now);  // a failed or queued send
  void load_older(const std::string& room_id, std::int64_t now);
  void set_typing(const std::string& room_id, bool active, std::int64_t now);
  void mark_read(const std::string& room_id, std::int64_t up_to_seq, std::int64_t now);
  void set_presence(const std::string& status, std::int64_t now);

  // ---- transport and environment
  // `subprotocol`: the one the server chose (WebSocket.protocol); anything but
  // the one OpenSocket offered closes the connection (unsupported_version).
  void socket_opened(std::uint32_t socket, std::string_view subprotocol, std::int64_t now);
  void socket_closed(std::uint32_t socket, std::uint16_t code, std::int64_t now);
  void received(std::uint32_t socket, std::string_view bytes, std::int64_t now);
  void timer_fired(std::uint32_t timer, std::int64_t now);
  void network_online(std::int64_t now);
  void network_offline(std::int64_t now);

  // ---- outputs
  std::vector<Effect> take_effects();
  // The same views as JSON, what the JS wrapper hands to React (camelCase):
  // {"state", "attempt", "nextAttemptAt", "lastError", "user", "announcement",
  // "limits"}
  // and {"roomId", "joined", "messages": [{"key", "status", "mine",
  // "readBy", "error"?, ...message fields}], "members", "typing", "hasMore",
  // "loadingOlder"}. The room's is written straight from the core's state,
  // with nothing copied (see view_json.cpp). Tests read the same JSON.
  std::string connection_json() const;
  std::string room_json(const std::string& room_id) const;
  std::size_t queued() const { return outbox_.size(); }

 private:
  // connection
  void start_attempt(std::int64_t now);
  void send_hello();
  void lost_connection(std::int64_t now, bool retry, std::int64_t at_least_ms = 0);
  void schedule_retry(std::int64_t now, std::int64_t at_least_ms);
  void token_refused(std::int64_t now);
  void give_up(std::int64_t now, protocol::Error error);  // closed until the app starts over
  // Ends the connection without a retry: closes the socket, cancels the
  // reconnect timer, enters `state` (closed or offline).
  void stop_connection(ConnectionState state, const char* reason, std::int64_t now);
  void start_over(std::int64_t now);
  void hello_refused(const protocol::Error& error, std::optional<std::int64_t> retry_after_ms, std::int64_t now);
  void join_refused(const std::string& room_id, const protocol::Error& error,
                    std::optional<std::int64_t> retry_after_ms, std::int64_t now);
  void close_socket(std::uint16_t code, const char* reason);
  // When the token should be refreshed (our clock); 0 if it has no expiry or no life left.
  std::int64_t refresh_due() const;
  bool live() const { return connection_.live(); }

  // frames
  void on_frame(protocol::s2c::Welcome& f, std::int64_t now);
  void on_frame(protocol::s2c::Joined& f, std::int64_t now);
  void on_frame(protocol::s2c::Ack& f, std::int64_t now);
  void on_frame(protocol::s2c::Error& f, std::int64_t now);
  void on_frame(protocol::s2c::MessageEvent& f, std::int64_t now);
  void on_frame(protocol::s2c::Typing& f, std::int64_t now);
  void on_frame(protocol::s2c::Presence& f, std::int64_t now);
  void on_frame(protocol::s2c::Receipt& f, std::int64_t now);
  void on_frame(protocol::s2c::History& f, std::int64_t now);
  void on_frame(protocol::s2c::Pong& f, std::int64_t now);
  void on_frame(protocol::s2c::Announcement& f, std::int64_t now);
  void on_frame(protocol::s2c::Removed& f, std::int64_t now);

  // rooms and the queue
  void send_join(const std::string& room_id, Room& room);
  void confirm(Room& room, const protocol::Message& message, std::int64_t now);
  // Queues a change of `item` (edit, delete, react, unreact) and shows it.
  SendResult change(const std::string& room_id, TimelineItem& item, protocol::Draft draft, std::int64_t now);
  // Shows `item` as the server has it with our changes still on their way applied on top.
  void rebase(const std::string& room_id, TimelineItem& item);
  // Our change was refused or not answered: it is dropped and undone, and its target says why.
  void change_failed(const std::string& client_msg_id, const protocol::Error& error, bool timed_out);
  // A send of ours got its server id: what waited for it takes it.
  void resolve(const std::string& room_id, const std::string& key, const std::string& id, std::int64_t now);
  // The line a change of ours targets, if the timeline holds it.
  TimelineItem* target_of(const QueuedSend& change);
  // Shows a send of ours in its room's timeline.
  void show_pending(const QueuedSend& send, MessageStatus status);
  // Takes an unsent message out of the queue and the timeline, with the changes that wait for it.
  void drop(const std::string& room_id, const std::string& key);
  void flush_outbox(std::int64_t now);
  void transmit(QueuedSend& queued);
  void request_history(const std::string& room_id, const RoomHistory::Fetch& fetch);
  void flush_receipts(const std::string& room_id, Room& room, std::int64_t now);
  bool unsent_receipts() const;
  void stop_typing(const std::string& room_id, Room& room, bool tell_server);

  // time
  void housekeeping(std::int64_t now);
  void schedule_housekeeping(std::int64_t now);

  // persistence
  void persist_outbox();
  void persist_rooms();

  void send_frame(const protocol::c2s::Frame& frame);
  std::string new_client_msg_id();
  std::uint64_t random();
  void set_state(ConnectionState state);
  void notify(std::string topic);
  void notify_room(const std::string& room_id) { notify("room:" + room_id); }
  Room& room_state(const std::string& room_id) {
    return rooms_.try_emplace(room_id, RoomHistory::Limits{config_.timeline_limit, config_.page_size}).first->second;
  }
  std::string me() const { return connection_.view().user ? connection_.view().user->id : restored_user_; }
  std::optional<std::int64_t> next_deadline() const;

  Config config_;
  Connection connection_;
  std::vector<Effect> effects_;
  std::uint64_t rng_;
  bool want_connection_ = false;  // connect() called and not disconnected
  std::optional<std::string> token_;
  std::int64_t token_expires_at_ = 0;  // its expiry on the server's clock (0: unknown)
  std::int64_t refresh_from_ = 0;      // its refresh window is measured from then (our clock)
  bool refreshing_ = false;            // a refresh is under way: token asked for, or auth sent
  std::int64_t clock_offset_ = 0;      // the server's clock minus ours (from welcome)
  int tokens_asked_ = 0;               // RequestToken effects not answered yet
  int auth_refusals_ = 0;              // tokens the server refused since the last welcome
  int token_failures_ = 0;             // token_failed() in a row
  bool receipts_saved_ = false;        // the persisted outbox holds unsent receipts
  Requests requests_;
  std::map<std::string, Room> rooms_;
  Outbox outbox_;
  std::string restored_user_;  // who wrote the restored blobs
  std::string presence_status_ = "online";

  bool rooms_dirty_ = false;
  std::int64_t rooms_persist_due_ = 0;
  std::optional<std::int64_t> housekeeping_at_;
};

}  // namespace parley::client
