#include "parley/client/timeline.hpp"

#include <algorithm>

namespace parley::client {

TimelineItem& Timeline::add_pending(const std::string& key, MessageStatus status,
                                    std::optional<protocol::Error> error) {
  TimelineItem& item = pending_.emplace_back();
  item.key = key;
  item.status = status;
  item.error = std::move(error);
  return item;
}

void Timeline::set_pending_status(const std::string& key, MessageStatus status, std::optional<protocol::Error> error) {
  for (auto& item : pending_) {
    if (item.key == key) {
      item.status = status;
      item.error = std::move(error);
    }
  }
}

bool Timeline::remove_pending(const std::string& key) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const TimelineItem& p) { return p.key == key; });
  if (it == pending_.end()) return false;
  pending_.erase(it);
  return true;
}

const TimelineItem* Timeline::pending(const std::string& key) const {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const TimelineItem& p) { return p.key == key; });
  return it == pending_.end() ? nullptr : &*it;
}

TimelineItem* Timeline::confirm(const protocol::Message& message, const std::string& me) {
  bool mine = !me.empty() && message.senderId == me;
  if (mine) remove_pending(message.clientMsgId);
  auto [it, added] = confirmed_.try_emplace(message.seq);
  if (!added) return nullptr;
  TimelineItem& item = it->second;
  item.key = message.clientMsgId;
  item.message = message;
  return &item;
}

const TimelineItem* Timeline::find(std::string_view key) const {
  for (const auto& item : pending_) {
    if (item.key == key) return &item;
  }
  for (const auto& [seq, item] : confirmed_) {
    if (item.key == key) return &item;
  }
  return nullptr;
}

const TimelineItem* Timeline::find_id(std::string_view id) const {
  for (const auto& [seq, item] : confirmed_) {
    if (item.message.id == id) return &item;
  }
  return nullptr;
}

void Timeline::clear_confirmed() {
  confirmed_.clear();
  seen_ = 0;
}

bool Timeline::trim_oldest(std::size_t limit) {
  if (confirmed_.size() <= limit) return false;
  confirmed_.erase(confirmed_.begin(),
                   std::next(confirmed_.begin(), static_cast<std::ptrdiff_t>(confirmed_.size() - limit)));
  return true;
}

std::vector<protocol::Message> Timeline::newest(std::size_t keep) const {
  std::vector<protocol::Message> out;
  auto start =
      confirmed_.size() > keep ? std::prev(confirmed_.end(), static_cast<std::ptrdiff_t>(keep)) : confirmed_.begin();
  for (auto it = start; it != confirmed_.end(); ++it) {
    const TimelineItem& item = it->second;
    out.push_back(item.server ? *item.server : item.message);
  }
  return out;
}

}  // namespace parley::client
