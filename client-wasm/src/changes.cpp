#include "changes.hpp"

#include <algorithm>

#include "parley/protocol/drafts.hpp"

namespace parley::client {

using protocol::Reaction;

void apply_change(protocol::Message& m, std::string_view type, const std::string& content, const std::string& by,
                  std::int64_t at) {
  if (m.deletedAt) return;  // a tombstone stays one
  // The four change types differ in their first letter (see is_change).
  char kind = type.empty() ? ' ' : type[0];
  if (kind == 'd') {
    m.deletedAt = at;
    m.content.clear();
    m.metadata.reset();
    m.reactions.reset();
    return;
  }
  if (kind == 'e') {
    m.content = content;
    m.updatedAt = at;
    return;
  }
  bool add = kind == 'r';
  if (!add && kind != 'u') return;
  if (!m.reactions) {
    if (!add) return;
    m.reactions.emplace();
  }
  auto& list = *m.reactions;
  auto r = std::find_if(list.begin(), list.end(), [&](const Reaction& x) { return x.emoji == content; });
  if (r == list.end()) {
    if (!add) return;
    list.resize(list.size() + 1);
    r = list.end() - 1;
    r->emoji = content;
  }
  auto listed = std::find(r->userIds.begin(), r->userIds.end(), by);
  bool known = listed != r->userIds.end();
  if (add && !known) {
    ++r->count;
    if (r->userIds.size() < protocol::kMaxListedReactors) r->userIds.push_back(by);
  } else if (!add && (known || r->count > static_cast<std::int64_t>(r->userIds.size()))) {
    if (known) r->userIds.erase(listed);
    if (--r->count <= 0) list.erase(r);
    if (list.empty()) m.reactions.reset();
  }
}

bool reacted(const protocol::Message& message, std::string_view emoji, const std::string& user) {
  if (!message.reactions) return false;
  for (const auto& r : *message.reactions) {
    if (r.emoji == emoji) return std::find(r.userIds.begin(), r.userIds.end(), user) != r.userIds.end();
  }
  return false;
}

}  // namespace parley::client
