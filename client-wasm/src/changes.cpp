#include "changes.hpp"

#include <algorithm>

#include "parley/protocol/drafts.hpp"

namespace parley::client {

using protocol::Reaction;

void apply_change(protocol::Message& m, std::string_view type, const std::string& content, const std::string& by,
                  std::int64_t at) {
  if (m.deletedAt) return;  // a tombstone stays one
  if (type == "delete") {
    m.deletedAt = at;
    m.content.clear();
    m.metadata.reset();
    m.reactions.reset();
    return;
  }
  if (type == "edit") {
    m.content = content;
    m.updatedAt = at;
    return;
  }
  bool add = type == "react";
  if (!add && type != "unreact") return;
  auto& list = m.reactions ? *m.reactions : m.reactions.emplace();
  auto r = std::find_if(list.begin(), list.end(), [&](const Reaction& x) { return x.emoji == content; });
  if (r == list.end()) {
    if (add) list.push_back(Reaction{content, 1, {by}});
  } else {
    auto listed = std::find(r->userIds.begin(), r->userIds.end(), by);
    bool known = listed != r->userIds.end();
    if (add) {
      if (!known) {
        ++r->count;
        if (r->userIds.size() < protocol::kMaxListedReactors) r->userIds.push_back(by);
      }
    } else if (known || r->count > static_cast<std::int64_t>(r->userIds.size())) {
      if (known) r->userIds.erase(listed);
      if (--r->count <= 0) list.erase(r);
    }
  }
  if (list.empty()) m.reactions.reset();
}

bool reacted(const protocol::Message& message, std::string_view emoji, const std::string& user) {
  if (!message.reactions) return false;
  for (const auto& r : *message.reactions) {
    if (r.emoji == emoji) return std::find(r.userIds.begin(), r.userIds.end(), user) != r.userIds.end();
  }
  return false;
}

}  // namespace parley::client
