// The views as JSON: what the JS wrapper reads and hands to React.
#include "parley/client/core.hpp"

#include "parley/protocol/detail/json_writer.hpp"
#include "parley/protocol/drafts.hpp"
#include "state_blob.hpp"

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

void key_bool(Writer& w, const char* key, bool value) {
  w.key(key);
  w.boolean(value);
}

// `change`: the change of ours the error is about (it was undone), or "";
// an unanswered one says code "timeout".
void error(Writer& w, const protocol::Error& e, std::string_view change = {}, bool timed_out = false) {
  w.start_object();
  key_string(w, "code", timed_out ? std::string_view("timeout") : protocol::to_string(e.code));
  key_string(w, "message", protocol::describe(e));
  if (!e.path.empty()) key_string(w, "path", e.path);
  if (!change.empty()) key_string(w, "change", change);
  w.end_object();
}

// What a reply shows of its original: the original itself while the
// timeline holds it (so the quote follows its edits and deletion), else what
// the server said.
void quote(Writer& w, const Timeline& timeline, const protocol::Message& reply) {
  const TimelineItem* original = timeline.find_id(*reply.replyTo);
  if (!original) original = timeline.find(*reply.replyTo);  // a send of ours not acknowledged yet
  w.key("quote");
  if (!original && !reply.quote) return w.null();
  const protocol::Message* m = original ? &original->message : nullptr;
  w.start_object();
  key_string(w, "senderId", m ? m->senderId : reply.quote->senderId);
  key_string(w, "senderName", m ? m->senderName : reply.quote->senderName);
  key_string(w, "excerpt", m ? protocol::quote_excerpt(*m) : reply.quote->excerpt);
  key_bool(w, "deleted", m ? m->deletedAt.has_value() : reply.quote->deleted.value_or(false));
  w.end_object();
}

// A message's own fields as the protocol writes them (the room cache is the
// protocol's JSON); with `me`, the view's: reactions say whether they are
// `me`'s, and the quote is worked out by the caller.
void message_fields(Writer& w, const protocol::Message& m, const std::string* me) {
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
    if (m.metadata->url) key_string(w, "url", *m.metadata->url);
    if (m.metadata->width) key_int(w, "width", *m.metadata->width);
    if (m.metadata->height) key_int(w, "height", *m.metadata->height);
    w.end_object();
  }
  if (m.replyTo) key_string(w, "replyTo", *m.replyTo);
  if (!me && m.quote) {
    w.key("quote");
    w.start_object();
    key_string(w, "senderId", m.quote->senderId);
    key_string(w, "senderName", m.quote->senderName);
    key_string(w, "excerpt", m.quote->excerpt);
    if (m.quote->deleted) key_bool(w, "deleted", *m.quote->deleted);
    w.end_object();
  }
  key_int(w, "createdAt", m.createdAt);
  if (m.updatedAt) key_int(w, "updatedAt", *m.updatedAt);
  if (m.deletedAt) key_int(w, "deletedAt", *m.deletedAt);
  if (!me && !m.reactions) return;
  w.key("reactions");
  w.start_array();
  if (m.reactions) {
    for (const auto& r : *m.reactions) {
      w.start_object();
      key_string(w, "emoji", r.emoji);
      key_int(w, "count", r.count);
      w.key("userIds");
      w.start_array();
      bool reacted = false;
      for (const auto& id : r.userIds) {
        string(w, id);
        reacted = reacted || (me && id == *me);
      }
      w.end_array();
      if (me) key_bool(w, "mine", reacted);
      w.end_object();
    }
  }
  w.end_array();
}

void item(Writer& w, const Timeline& timeline, const std::string& me, const TimelineItem& it, bool mine,
          MessageStatus status, const std::vector<std::string>& read_by) {
  const protocol::Message& m = it.message;
  w.start_object();
  key_string(w, "key", it.key);
  message_fields(w, m, &me);
  if (m.replyTo) quote(w, timeline, m);
  key_bool(w, "edited", m.updatedAt.has_value());
  key_bool(w, "deleted", m.deletedAt.has_value());
  key_string(w, "status", to_string(status));
  key_bool(w, "mine", mine);
  key_bool(w, "held", it.held);
  key_bool(w, "changePending", it.server.has_value());
  w.key("readBy");
  w.start_array();
  for (const auto& name : read_by) string(w, name);
  w.end_array();
  if (it.error) {
    w.key("error");
    error(w, *it.error, it.failed_change, it.timed_out);
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

std::string room_cache_json(const SavedRoom& room) {
  std::string out;
  Writer w(out);
  w.start_object();
  key_string(w, "type", "joined");
  w.key("room");
  w.start_object();
  key_string(w, "id", room.room_id);
  key_string(w, "kind", "public");
  w.end_object();
  key_string(w, "epoch", room.epoch);
  key_int(w, "headSeq", room.position);
  w.key("members");
  w.start_array();
  w.end_array();
  w.key("messages");
  w.start_array();
  for (const auto& m : room.messages) {
    w.start_object();
    message_fields(w, m, nullptr);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return out;
}

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
    const std::string self = me();
    room->timeline.each(
        room->members, self,
        [&](const TimelineItem& line, bool mine, MessageStatus status, const std::vector<std::string>& read_by) {
          item(w, room->timeline, self, line, mine, status, read_by);
        });
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
