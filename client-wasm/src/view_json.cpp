// The views as JSON: what the JS wrapper reads and hands to React.
#include "parley/client/core.hpp"

#include "parley/protocol/detail/json_writer.hpp"

namespace parley::client {
namespace {

using Writer = protocol::detail::json::Writer;

void string(Writer& w, std::string_view s) { w.string(s); }

void key_string(Writer& w, const char* key, std::string_view value) {
  w.key(key);
  string(w, value);
}

void key_int(Writer& w, const char* key, std::int64_t value) {
  w.key(key);
  w.integer(value);
}

void error(Writer& w, const protocol::Error& e) {
  w.start_object();
  key_string(w, "code", protocol::to_string(e.code));
  key_string(w, "message", protocol::describe(e));
  if (!e.path.empty()) key_string(w, "path", e.path);
  w.end_object();
}

void item(Writer& w, const TimelineItem& it, bool mine, MessageStatus status, const std::vector<std::string>& read_by) {
  const protocol::Message& m = it.message;
  w.start_object();
  key_string(w, "key", it.key);
  if (!m.id.empty()) {
    key_string(w, "id", m.id);
    key_int(w, "seq", m.seq);
  }
  key_string(w, "roomId", m.roomId);
  key_string(w, "senderId", m.senderId);
  key_string(w, "senderName", m.senderName);
  key_string(w, "clientMsgId", m.clientMsgId);
  key_string(w, "type", m.type);
  key_string(w, "content", m.content);
  if (m.metadata) {
    w.key("metadata");
    w.start_object();
    if (m.metadata->fileName) key_string(w, "fileName", *m.metadata->fileName);
    if (m.metadata->fileSize) key_int(w, "fileSize", *m.metadata->fileSize);
    if (m.metadata->mimeType) key_string(w, "mimeType", *m.metadata->mimeType);
    if (m.metadata->thumbnailUrl) key_string(w, "thumbnailUrl", *m.metadata->thumbnailUrl);
    w.end_object();
  }
  if (m.replyTo) key_string(w, "replyTo", *m.replyTo);
  key_int(w, "createdAt", m.createdAt);
  key_string(w, "status", to_string(status));
  w.key("mine");
  w.boolean(mine);
  w.key("readBy");
  w.start_array();
  for (const auto& name : read_by) string(w, name);
  w.end_array();
  if (it.error) {
    w.key("error");
    error(w, *it.error);
  }
  w.end_object();
}

void member(Writer& w, const protocol::Member& m) {
  w.start_object();
  key_string(w, "userId", m.userId);
  key_string(w, "name", m.name);
  if (m.role) key_string(w, "role", *m.role);
  key_string(w, "status", m.status);
  if (m.lastSeen) key_int(w, "lastSeen", *m.lastSeen);
  if (m.readSeq) key_int(w, "readSeq", *m.readSeq);
  if (m.deliveredSeq) key_int(w, "deliveredSeq", *m.deliveredSeq);
  w.end_object();
}

}  // namespace

std::string Core::connection_json() const {
  const ConnectionView& view = connection_.view();
  std::string out;
  Writer w(out);
  w.start_object();
  key_string(w, "state", to_string(view.state));
  w.key("attempt");
  w.integer(view.attempt);
  w.key("nextAttemptAt");
  if (view.next_attempt_at) {
    w.integer(*view.next_attempt_at);
  } else {
    w.null();
  }
  w.key("lastError");
  if (view.last_error) {
    error(w, *view.last_error);
  } else {
    w.null();
  }
  w.key("user");
  if (view.user) {
    w.start_object();
    key_string(w, "id", view.user->id);
    key_string(w, "name", view.user->name);
    w.end_object();
  } else {
    w.null();
  }
  w.key("announcement");
  if (view.announcement) {
    w.start_object();
    key_string(w, "text", view.announcement->text);
    key_string(w, "level", view.announcement->level);
    w.end_object();
  } else {
    w.null();
  }
  w.key("limits");
  if (view.limits) {
    w.start_object();
    key_int(w, "maxContentLength", view.limits->maxContentLength);
    key_int(w, "maxFrameBytes", view.limits->maxFrameBytes);
    key_int(w, "sendIntervalMs", view.limits->sendIntervalMs);
    key_int(w, "sendBurst", view.limits->sendBurst);
    w.end_object();
  } else {
    w.null();
  }
  w.end_object();
  return out;
}

std::string Core::room_json(const std::string& room_id) const {
  std::string out;
  Writer w(out);
  auto it = rooms_.find(room_id);
  const Room* room = it == rooms_.end() ? nullptr : &it->second;  // a room never heard of: empty
  w.start_object();
  key_string(w, "roomId", room_id);
  w.key("joined");
  w.boolean(room && room->join.joined());
  w.key("messages");
  w.start_array();
  if (room) {
    room->timeline.each(room->members, me(),
                        [&](const TimelineItem& line, bool mine, MessageStatus status,
                            const std::vector<std::string>& read_by) { item(w, line, mine, status, read_by); });
  }
  w.end_array();
  w.key("members");
  w.start_array();
  if (room) {
    for (const auto& [id, m] : room->members) member(w, m);
  }
  w.end_array();
  w.key("typing");
  w.start_array();
  if (room) {
    for (const auto& [id, t] : room->typists.all()) {
      w.start_object();
      key_string(w, "userId", id);
      key_string(w, "name", t.name);
      w.end_object();
    }
  }
  w.end_array();
  w.key("hasMore");
  w.boolean(room && room->history.has_more());
  w.key("loadingOlder");
  w.boolean(room && room->history.loading_older());
  w.end_object();
  return out;
}

}  // namespace parley::client
