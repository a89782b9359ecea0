#include "parley/client/view_json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace parley::client {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void key_string(Writer& w, const char* key, std::string_view value) {
  w.Key(key);
  string(w, value);
}

void key_int(Writer& w, const char* key, std::int64_t value) {
  w.Key(key);
  w.Int64(value);
}

void error(Writer& w, const protocol::Error& e) {
  w.StartObject();
  key_string(w, "code", protocol::to_string(e.code));
  key_string(w, "message", e.message);
  if (!e.path.empty()) key_string(w, "path", e.path);
  w.EndObject();
}

void item(Writer& w, const TimelineItem& it) {
  const protocol::Message& m = it.message;
  w.StartObject();
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
    w.Key("metadata");
    w.StartObject();
    if (m.metadata->fileName) key_string(w, "fileName", *m.metadata->fileName);
    if (m.metadata->fileSize) key_int(w, "fileSize", *m.metadata->fileSize);
    if (m.metadata->mimeType) key_string(w, "mimeType", *m.metadata->mimeType);
    if (m.metadata->thumbnailUrl) key_string(w, "thumbnailUrl", *m.metadata->thumbnailUrl);
    w.EndObject();
  }
  if (m.replyTo) key_string(w, "replyTo", *m.replyTo);
  key_int(w, "createdAt", m.createdAt);
  key_string(w, "status", to_string(it.status));
  w.Key("mine");
  w.Bool(it.mine);
  w.Key("readBy");
  w.StartArray();
  for (const auto& name : it.read_by) string(w, name);
  w.EndArray();
  if (it.error) {
    w.Key("error");
    error(w, *it.error);
  }
  w.EndObject();
}

void member(Writer& w, const protocol::Member& m) {
  w.StartObject();
  key_string(w, "userId", m.userId);
  key_string(w, "name", m.name);
  if (m.role) key_string(w, "role", *m.role);
  key_string(w, "status", m.status);
  if (m.lastSeen) key_int(w, "lastSeen", *m.lastSeen);
  if (m.readSeq) key_int(w, "readSeq", *m.readSeq);
  if (m.deliveredSeq) key_int(w, "deliveredSeq", *m.deliveredSeq);
  w.EndObject();
}

std::string done(const rapidjson::StringBuffer& buffer) { return std::string(buffer.GetString(), buffer.GetSize()); }

}  // namespace

std::string to_json(const ConnectionView& view) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  key_string(w, "state", to_string(view.state));
  w.Key("attempt");
  w.Int(view.attempt);
  w.Key("nextAttemptAt");
  if (view.next_attempt_at) {
    w.Int64(*view.next_attempt_at);
  } else {
    w.Null();
  }
  w.Key("lastError");
  if (view.last_error) {
    error(w, *view.last_error);
  } else {
    w.Null();
  }
  w.Key("user");
  if (view.user) {
    w.StartObject();
    key_string(w, "id", view.user->id);
    key_string(w, "name", view.user->name);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("announcement");
  if (view.announcement) {
    w.StartObject();
    key_string(w, "text", view.announcement->text);
    key_string(w, "level", view.announcement->level);
    w.EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
  return done(buffer);
}

std::string to_json(const RoomView& view) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  key_string(w, "roomId", view.room_id);
  w.Key("joined");
  w.Bool(view.joined);
  w.Key("messages");
  w.StartArray();
  for (const auto& it : view.items) item(w, it);
  w.EndArray();
  w.Key("members");
  w.StartArray();
  for (const auto& m : view.members) member(w, m);
  w.EndArray();
  w.Key("typing");
  w.StartArray();
  for (const auto& t : view.typing) {
    w.StartObject();
    key_string(w, "userId", t.user_id);
    key_string(w, "name", t.name);
    w.EndObject();
  }
  w.EndArray();
  w.Key("hasMore");
  w.Bool(view.has_more);
  w.Key("loadingOlder");
  w.Bool(view.loading_older);
  w.EndObject();
  return done(buffer);
}

}  // namespace parley::client
