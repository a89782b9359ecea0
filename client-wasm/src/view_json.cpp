#include "parley/client/view_json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace parley::client {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void string(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void error(Writer& w, const protocol::Error& e) {
  w.StartObject();
  w.Key("code");
  string(w, protocol::to_string(e.code));
  w.Key("message");
  string(w, e.message);
  if (!e.path.empty()) {
    w.Key("path");
    string(w, e.path);
  }
  w.EndObject();
}

void item(Writer& w, const TimelineItem& it) {
  const protocol::Message& m = it.message;
  w.StartObject();
  w.Key("key");
  string(w, it.key);
  if (!m.id.empty()) {
    w.Key("id");
    string(w, m.id);
    w.Key("seq");
    w.Int64(m.seq);
  }
  w.Key("roomId");
  string(w, m.roomId);
  w.Key("senderId");
  string(w, m.senderId);
  w.Key("senderName");
  string(w, m.senderName);
  w.Key("clientMsgId");
  string(w, m.clientMsgId);
  w.Key("type");
  string(w, m.type);
  w.Key("content");
  string(w, m.content);
  if (m.replyTo) {
    w.Key("replyTo");
    string(w, *m.replyTo);
  }
  w.Key("createdAt");
  w.Int64(m.createdAt);
  w.Key("status");
  string(w, to_string(it.status));
  w.Key("mine");
  w.Bool(it.mine);
  if (it.error) {
    w.Key("error");
    error(w, *it.error);
  }
  w.EndObject();
}

std::string done(const rapidjson::StringBuffer& buffer) { return std::string(buffer.GetString(), buffer.GetSize()); }

}  // namespace

std::string to_json(const ConnectionView& view) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("state");
  string(w, to_string(view.state));
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
    w.Key("id");
    string(w, view.user->id);
    w.Key("name");
    string(w, view.user->name);
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
  w.Key("roomId");
  string(w, view.room_id);
  w.Key("joined");
  w.Bool(view.joined);
  w.Key("messages");
  w.StartArray();
  for (const auto& it : view.items) item(w, it);
  w.EndArray();
  w.EndObject();
  return done(buffer);
}

}  // namespace parley::client
