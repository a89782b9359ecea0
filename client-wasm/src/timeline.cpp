#include "parley/client/timeline.hpp"

#include <algorithm>

namespace parley::client {

void Timeline::add_pending(const protocol::Message& draft, MessageStatus status) {
  TimelineItem item;
  item.key = draft.clientMsgId;
  item.message = draft;
  item.status = status;
  item.mine = true;
  pending_.push_back(std::move(item));
}

void Timeline::set_pending_status(const std::string& client_msg_id, MessageStatus status,
                                  std::optional<protocol::Error> error) {
  for (auto& item : pending_) {
    if (item.key == client_msg_id) {
      item.status = status;
      item.error = std::move(error);
    }
  }
}

bool Timeline::confirm(const protocol::Message& message, const std::string& me) {
  bool mine = message.senderId == me;
  if (mine) {
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const TimelineItem& p) { return p.key == message.clientMsgId; });
    if (it != pending_.end()) pending_.erase(it);
  }
  if (confirmed_.count(message.seq)) return false;
  TimelineItem item;
  item.key = message.clientMsgId;
  item.message = message;
  item.status = MessageStatus::sent;
  item.mine = mine;
  confirmed_.emplace(message.seq, std::move(item));
  return true;
}

void Timeline::clear_confirmed() { confirmed_.clear(); }

std::vector<TimelineItem> Timeline::items() const {
  std::vector<TimelineItem> out;
  out.reserve(confirmed_.size() + pending_.size());
  for (const auto& [seq, item] : confirmed_) out.push_back(item);
  out.insert(out.end(), pending_.begin(), pending_.end());
  return out;
}

}  // namespace parley::client
