// Sending changes (edit, delete, react, unreact) and replaying what a client
// receives into what it shows: shared by the server tests of issue 16 on one
// node (changes_test) and over a cluster (cluster_test).
#pragma once

#include <map>
#include <set>
#include <string>

#include "support/test_client.hpp"

namespace parley::test {

// A `send` frame with `draft` as its message (a JSON object's text).
inline std::string send_frame(const std::string& ref, const std::string& room, const std::string& client_msg_id,
                              const std::string& draft) {
  return R"({"type":"send","ref":")" + ref + R"(","roomId":")" + room + R"(","clientMsgId":")" + client_msg_id +
         R"(","message":)" + draft + "}";
}

inline std::string change_draft(const std::string& type, const std::string& target, const std::string& content = "") {
  return R"({"type":")" + type + R"(","content":")" + content + R"(","target":")" + target + R"("})";
}

// Sends a change and returns the answer (ack or error).
inline Json change(TestClient& c, const std::string& type, const std::string& target, const std::string& content,
                   const std::string& client_msg_id, const std::string& room = "lobby") {
  std::string ref = "r" + client_msg_id;
  return c.request(send_frame(ref, room, client_msg_id, change_draft(type, target, content)), ref);
}

inline std::string id_of(const Json& ack) { return str(ack["message"], "id"); }

// What a client shows of a room after applying what it received in order:
// each timeline message's content, tombstone and reactions (emoji -> users).
struct Shown {
  std::string content;
  bool deleted = false;
  std::map<std::string, std::set<std::string>> reactions;
  bool operator==(const Shown&) const = default;
};
using Timeline = std::map<std::string, Shown>;  // by message id

inline void apply_event(Timeline& timeline, const rapidjson::Value& m) {
  std::string type = str(m, "type");
  if (!m.HasMember("target")) {
    Shown& shown = timeline[str(m, "id")];
    shown.content = str(m, "content");
    shown.deleted = m.HasMember("deletedAt");
    shown.reactions.clear();
    if (m.HasMember("reactions")) {
      for (const auto& r : m["reactions"].GetArray()) {
        for (const auto& u : r["userIds"].GetArray()) shown.reactions[str(r, "emoji")].insert(u.GetString());
      }
    }
    return;
  }
  auto it = timeline.find(str(m, "target"));
  if (it == timeline.end()) return;  // not loaded: the pages hold its current state
  Shown& target = it->second;
  if (type == "edit" && !target.deleted) target.content = str(m, "content");
  if (type == "delete") target = Shown{"", true, {}};
  if (type == "react") target.reactions[str(m, "content")].insert(str(m, "senderId"));
  if (type == "unreact") {
    auto& users = target.reactions[str(m, "content")];
    users.erase(str(m, "senderId"));
    if (users.empty()) target.reactions.erase(str(m, "content"));
  }
}

// The room as the server holds it now: its history pages.
inline Timeline stored(TestClient& c, const std::string& room = "lobby") {
  Json page = c.request(R"({"type":"history","ref":"h","roomId":")" + room + R"(","limit":100})", "h");
  Timeline out;
  for (const auto& m : page["messages"].GetArray()) apply_event(out, m);
  return out;
}

}  // namespace parley::test
