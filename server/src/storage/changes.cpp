#include "storage/changes.hpp"

#include <algorithm>
#include <stdexcept>

#include "parley/protocol/drafts.hpp"

namespace parley::server::store {
namespace {

using protocol::Error;
using protocol::ErrorCode;

constexpr char kUnit = '\x1F';    // between an emoji and its users
constexpr char kRecord = '\x1E';  // after each emoji's record

}  // namespace

std::optional<std::string> referenced_id(const protocol::Message& message) {
  if (message.target) return message.target;
  return message.replyTo;
}

std::optional<Error> check_references(const protocol::Message& message, const protocol::Message* referenced) {
  const bool change = message.target.has_value();
  if (!change && !message.replyTo) return std::nullopt;
  const std::string path = change ? "/message/target" : "/message/replyTo";
  const std::string& id = change ? *message.target : *message.replyTo;
  if (referenced == nullptr) {
    return Error{ErrorCode::not_found, "no message '" + id + "' in this room (or no longer kept)", path};
  }
  if (!protocol::is_timeline_type(referenced->type)) {
    return Error{ErrorCode::not_found, "'" + id + "' is a change, not a message", path};
  }
  if (referenced->deletedAt) return Error{ErrorCode::not_found, "message '" + id + "' was deleted", path};
  if (change && message.type == "edit" && referenced->type == "system") {
    return Error{ErrorCode::forbidden, "system messages cannot be edited", path};
  }
  return std::nullopt;
}

std::optional<Error> change_target(const protocol::Message& change, protocol::Message& target) {
  if (change.type == "edit") {
    target.content = change.content;
    target.updatedAt = change.createdAt;
    return std::nullopt;
  }
  if (change.type == "delete") {
    target.content.clear();
    target.metadata.reset();
    target.reactions.reset();
    target.deletedAt = change.createdAt;
    return std::nullopt;
  }
  const bool add = change.type == "react";
  if (!add && change.type != "unreact") return std::nullopt;
  if (!target.reactions) target.reactions.emplace();
  auto& reactions = *target.reactions;
  auto entry = std::find_if(reactions.begin(), reactions.end(),
                            [&](const protocol::Reaction& r) { return r.emoji == change.content; });
  std::optional<Error> refused;
  if (entry == reactions.end()) {
    if (add && reactions.size() >= protocol::kMaxReactionsPerMessage) {
      refused = Error{
          ErrorCode::too_large,
          "a message carries at most " + std::to_string(protocol::kMaxReactionsPerMessage) + " different reactions",
          "/message/content"};
    } else if (add) {
      reactions.push_back(protocol::Reaction{change.content, 1, {change.senderId}});
    }
  } else {
    auto& users = entry->userIds;
    auto user = std::find(users.begin(), users.end(), change.senderId);
    if (add && user == users.end()) users.push_back(change.senderId);
    if (!add && user != users.end()) users.erase(user);
    entry->count = static_cast<std::int64_t>(users.size());
    if (users.empty()) reactions.erase(entry);
  }
  if (reactions.empty()) target.reactions.reset();
  return refused;
}

protocol::Quote quote_of(const protocol::Message& original) {
  protocol::Quote q;
  q.senderId = original.senderId;
  q.senderName = original.senderName;
  if (original.deletedAt) {
    q.deleted = true;
  } else {
    q.excerpt = protocol::quote_excerpt(original);
  }
  return q;
}

void trim_for_wire(protocol::Message& message) {
  if (!message.reactions) return;
  if (message.reactions->empty()) {
    message.reactions.reset();
    return;
  }
  for (auto& r : *message.reactions) {
    r.count = static_cast<std::int64_t>(r.userIds.size());
    if (r.userIds.size() > protocol::kMaxListedReactors) r.userIds.resize(protocol::kMaxListedReactors);
  }
}

std::string encode_reactions(const std::optional<std::vector<protocol::Reaction>>& reactions) {
  std::string out;
  if (!reactions) return out;
  for (const auto& r : *reactions) {
    out += r.emoji;
    for (const auto& user : r.userIds) {
      out += kUnit;
      out += user;
    }
    out += kRecord;
  }
  return out;
}

std::optional<std::vector<protocol::Reaction>> decode_reactions(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::vector<protocol::Reaction> out;
  while (!text.empty()) {
    auto end = text.find(kRecord);
    if (end == std::string_view::npos) throw std::runtime_error("damaged reactions column");
    std::string_view record = text.substr(0, end);
    text.remove_prefix(end + 1);
    protocol::Reaction r;
    auto unit = record.find(kUnit);
    r.emoji = std::string(record.substr(0, unit));
    while (unit != std::string_view::npos) {
      record.remove_prefix(unit + 1);
      unit = record.find(kUnit);
      r.userIds.emplace_back(record.substr(0, unit));
    }
    if (r.emoji.empty() || r.userIds.empty()) throw std::runtime_error("damaged reactions column");
    r.count = static_cast<std::int64_t>(r.userIds.size());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace parley::server::store
