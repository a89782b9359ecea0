// What the core shows the app: the connection's state, and the lines of a
// room's timeline (the room view itself is JSON, written by view_json.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/errors.hpp"
#include "parley/protocol/messages.hpp"

namespace parley::client {

enum class ConnectionState : std::uint8_t {
  idle,            // not started
  connecting,      // socket opening
  authenticating,  // hello sent, waiting for welcome
  connected,       // welcome received
  reconnecting,    // waiting before the next attempt (nextAttemptAt)
  offline,         // the network is down; retried when it is back
  closed,          // by the app, or refused for good
};
std::string_view to_string(ConnectionState state);

struct Announcement {
  std::string text;
  std::string level;  // info | warning
};

struct ConnectionView {
  ConnectionState state = ConnectionState::idle;
  int attempt = 0;                              // failed attempts since the last stable connection
  std::optional<std::int64_t> next_attempt_at;  // in backoff: when the next attempt starts (ms)
  std::optional<protocol::Error> last_error;
  std::optional<protocol::User> user;        // once welcomed
  std::optional<Announcement> announcement;  // the operators' latest
  std::optional<protocol::Limits> limits;    // the server's, from the latest welcome (kept while away)
};

enum class MessageStatus : std::uint8_t { queued, sending, sent, delivered, read, failed };
std::string_view to_string(MessageStatus status);

// One line of a room's timeline: a confirmed message, or a pending send of
// this client (no id or seq yet). `key` (the clientMsgId) is stable from the
// first optimistic render to the confirmed message, so a UI never re-mounts.
// Whether it is mine, the status of a confirmed one and who read it are
// worked out as the view is written (Timeline::each).
//
// `message` is what the user sees: the server's message with this client's
// changes that are still on their way (edits, deletes, reactions) applied on
// top. While there are any, `server` keeps the message as the server has it,
// so that a refused change is undone by applying the others again.
struct TimelineItem {
  std::string key;
  protocol::Message message;
  MessageStatus status = MessageStatus::sent;
  // Why it failed (a send), or why our change to it (`failed_change`) was
  // refused (with `timed_out`: not answered in time) and undone.
  std::optional<protocol::Error> error;
  std::optional<protocol::Message> server;
  std::int64_t changed_seq = 0;  // the newest change applied to it: its echo is not applied twice
  std::string failed_change;     // edit | delete | react | unreact, when error is about it
  std::string failed_change_id;  // that change's clientMsgId: a late ack clears the error
  bool timed_out = false;
  bool held = false;  // a send the app holds (its attachment is uploading)
};

}  // namespace parley::client
