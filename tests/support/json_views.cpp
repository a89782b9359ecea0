#include "support/json_views.hpp"

#include <gtest/gtest.h>

namespace parley::test {
namespace {

using Value = rapidjson::Value;

std::string text(const Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) {
    ADD_FAILURE() << "the view has no string " << key;
    return {};
  }
  return it->value.GetString();
}

std::optional<std::string> optional_text(const Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd()) return std::nullopt;
  return text(v, key);
}

std::optional<std::int64_t> optional_int(const Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd()) return std::nullopt;
  if (!it->value.IsInt64()) {
    ADD_FAILURE() << "the view's " << key << " is not an integer";
    return std::nullopt;
  }
  return it->value.GetInt64();
}

bool flag(const Value& v, const char* key) {
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsBool()) {
    ADD_FAILURE() << "the view has no boolean " << key;
    return false;
  }
  return it->value.GetBool();
}

const Value& array(const Value& v, const char* key) {
  static const Value empty(rapidjson::kArrayType);
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsArray()) {
    ADD_FAILURE() << "the view has no array " << key;
    return empty;
  }
  return it->value;
}

client::MessageStatus status_of(const std::string& word) {
  using client::MessageStatus;
  for (auto s : {MessageStatus::queued, MessageStatus::sending, MessageStatus::sent, MessageStatus::delivered,
                 MessageStatus::read, MessageStatus::failed}) {
    if (client::to_string(s) == word) return s;
  }
  ADD_FAILURE() << "unknown message status " << word;
  return MessageStatus::sent;
}

std::optional<protocol::Error> error_of(const Value& v, const char* key) {
  auto e = v.FindMember(key);
  if (e == v.MemberEnd() || e->value.IsNull()) return std::nullopt;
  std::string code = text(e->value, "code");
  if (code == "timeout") code = "internal";  // the view's word for a change not answered in time
  auto parsed = protocol::error_code_from_string(code);
  if (!parsed) ADD_FAILURE() << "unknown error code " << code;
  return protocol::Error{parsed.value_or(protocol::ErrorCode::internal), text(e->value, "message"),
                         optional_text(e->value, "path").value_or("")};
}

ViewItem item_of(const Value& v) {
  ViewItem item;
  item.key = text(v, "key");
  protocol::Message& m = item.message;
  m.id = optional_text(v, "id").value_or("");
  m.seq = optional_int(v, "seq").value_or(0);
  m.roomId = text(v, "roomId");
  m.senderId = text(v, "senderId");
  m.senderName = text(v, "senderName");
  m.clientMsgId = text(v, "clientMsgId");
  m.type = text(v, "type");
  m.content = text(v, "content");
  if (auto meta = v.FindMember("metadata"); meta != v.MemberEnd()) {
    m.metadata = protocol::Metadata{optional_text(meta->value, "fileName"), optional_int(meta->value, "fileSize"),
                                    optional_text(meta->value, "mimeType"), optional_text(meta->value, "thumbnailUrl"),
                                    optional_text(meta->value, "url"),      optional_int(meta->value, "width"),
                                    optional_int(meta->value, "height")};
  }
  m.replyTo = optional_text(v, "replyTo");
  if (m.replyTo) {
    auto q = v.FindMember("quote");
    if (q == v.MemberEnd()) {
      ADD_FAILURE() << "a reply's view has no quote";
    } else if (!q->value.IsNull()) {
      item.quote = ViewQuote{text(q->value, "senderId"), text(q->value, "senderName"), text(q->value, "excerpt"),
                             flag(q->value, "deleted")};
    }
  }
  m.createdAt = optional_int(v, "createdAt").value_or(0);
  m.updatedAt = optional_int(v, "updatedAt");
  m.deletedAt = optional_int(v, "deletedAt");
  item.edited = flag(v, "edited");
  item.deleted = flag(v, "deleted");
  EXPECT_EQ(item.edited, m.updatedAt.has_value());
  EXPECT_EQ(item.deleted, m.deletedAt.has_value());
  for (const auto& r : array(v, "reactions").GetArray()) {
    ViewReaction reaction{text(r, "emoji"), optional_int(r, "count").value_or(-1), {}, flag(r, "mine")};
    for (const auto& id : array(r, "userIds").GetArray()) reaction.user_ids.push_back(id.GetString());
    item.reactions.push_back(std::move(reaction));
  }
  item.status = status_of(text(v, "status"));
  item.mine = flag(v, "mine");
  item.held = flag(v, "held");
  item.change_pending = flag(v, "changePending");
  for (const auto& name : array(v, "readBy").GetArray()) item.read_by.push_back(name.GetString());
  item.error = error_of(v, "error");
  if (auto e = v.FindMember("error"); e != v.MemberEnd() && e->value.IsObject()) {
    item.error_change = optional_text(e->value, "change").value_or("");
    item.timed_out = text(e->value, "code") == "timeout";
  }
  return item;
}

protocol::Member member_of(const Value& v) {
  protocol::Member m;
  m.userId = text(v, "userId");
  m.name = text(v, "name");
  m.role = optional_text(v, "role");
  m.status = text(v, "status");
  m.lastSeen = optional_int(v, "lastSeen");
  m.readSeq = optional_int(v, "readSeq");
  m.deliveredSeq = optional_int(v, "deliveredSeq");
  return m;
}

}  // namespace

std::vector<std::string> ViewItem::reaction_summary() const {
  std::vector<std::string> out;
  for (const auto& r : reactions) out.push_back(r.emoji + ":" + std::to_string(r.count) + (r.mine ? "*" : ""));
  return out;
}

client::ConnectionView parse_connection_view(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  client::ConnectionView view;
  if (doc.HasParseError() || !doc.IsObject()) {
    ADD_FAILURE() << "connection_json is not a JSON object: " << json;
    return view;
  }
  std::string state = text(doc, "state");
  bool known = false;
  for (int s = 0; s <= static_cast<int>(client::ConnectionState::closed); ++s) {
    if (client::to_string(static_cast<client::ConnectionState>(s)) == state) {
      view.state = static_cast<client::ConnectionState>(s);
      known = true;
    }
  }
  if (!known) ADD_FAILURE() << "unknown connection state " << state;
  view.attempt = static_cast<int>(optional_int(doc, "attempt").value_or(-1));
  if (!doc["nextAttemptAt"].IsNull()) view.next_attempt_at = optional_int(doc, "nextAttemptAt");
  view.last_error = error_of(doc, "lastError");
  if (const Value& user = doc["user"]; !user.IsNull()) view.user = protocol::User{text(user, "id"), text(user, "name")};
  if (const Value& a = doc["announcement"]; !a.IsNull()) {
    view.announcement = client::Announcement{text(a, "text"), text(a, "level")};
  }
  if (const Value& l = doc["limits"]; !l.IsNull()) {
    view.limits = protocol::Limits{*optional_int(l, "maxFrameBytes"), *optional_int(l, "maxContentLength"),
                                   *optional_int(l, "sendIntervalMs"), *optional_int(l, "sendBurst")};
  }
  return view;
}

RoomView parse_room_view(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  RoomView view;
  if (doc.HasParseError() || !doc.IsObject()) {
    ADD_FAILURE() << "room_json is not a JSON object: " << json;
    return view;
  }
  view.room_id = text(doc, "roomId");
  view.joined = flag(doc, "joined");
  for (const auto& m : array(doc, "messages").GetArray()) view.items.push_back(item_of(m));
  for (const auto& m : array(doc, "members").GetArray()) view.members.push_back(member_of(m));
  for (const auto& t : array(doc, "typing").GetArray()) view.typing.push_back({text(t, "userId"), text(t, "name")});
  view.has_more = flag(doc, "hasMore");
  view.loading_older = flag(doc, "loadingOlder");
  return view;
}

}  // namespace parley::test
