// A room's optimistic timeline: confirmed messages ordered by seq, then this
// client's pending sends in send order. A pure data structure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/client/views.hpp"

namespace parley::client {

class Timeline {
 public:
  // Shows a send at once, before the server has it: the caller fills in its message.
  TimelineItem& add_pending(const std::string& key, MessageStatus status, std::optional<protocol::Error> error);
  void set_pending_status(const std::string& key, MessageStatus status,
                          std::optional<protocol::Error> error = std::nullopt);
  bool remove_pending(const std::string& key);
  const TimelineItem* pending(const std::string& key) const;

  // A message the server confirmed (ack, live event, replay, history). A
  // pending send with the same clientMsgId from `me` becomes this message in
  // place; a seq already present is ignored. Returns the new line, nullptr
  // for a duplicate.
  TimelineItem* confirm(const protocol::Message& message, const std::string& me);
  // A change message (edit, delete, react, unreact) took `seq`: the room's
  // position moves past it, though it is not a line of its own.
  void saw(std::int64_t seq) { seen_ = std::max(seen_, seq); }

  // A line by its key (pending or confirmed), or a confirmed one by its server id.
  const TimelineItem* find(std::string_view key) const;
  const TimelineItem* find_id(std::string_view id) const;
  TimelineItem* find(std::string_view key) { return const_cast<TimelineItem*>(std::as_const(*this).find(key)); }
  TimelineItem* find_id(std::string_view id) { return const_cast<TimelineItem*>(std::as_const(*this).find_id(id)); }

  // Drops confirmed messages (the server reset the room's history).
  void clear_confirmed();
  // Keeps at most `limit` confirmed messages, dropping the oldest; true if any were dropped.
  bool trim_oldest(std::size_t limit);
  std::size_t confirmed_count() const { return confirmed_.size(); }
  // The newest `keep` confirmed messages as the server has them (the part
  // worth caching; changes still on their way are in the queue).
  std::vector<protocol::Message> newest(std::size_t keep) const;

  // The room's position: the last seq seen, a message's or a change's.
  std::int64_t last_seq() const {
    return std::max(seen_, confirmed_.empty() ? std::int64_t{0} : confirmed_.rbegin()->first);
  }
  std::int64_t first_seq() const { return confirmed_.empty() ? 0 : confirmed_.begin()->first; }
  bool has_seq(std::int64_t seq) const { return confirmed_.count(seq) != 0; }
  // The confirmed line with `seq` (one that is held).
  TimelineItem* at_seq(std::int64_t seq) { return &confirmed_.find(seq)->second; }
  std::size_t size() const { return confirmed_.size() + pending_.size(); }

  using Members = std::map<std::string, protocol::Member>;  // by user id

  // Calls visit(item, mine, status, read_by) for each line, in order: the
  // status of this client's confirmed messages is derived from the other
  // members' watermarks (delivered, read), and read_by names the members
  // whose read watermark covers it. Nothing is copied: the JSON view is
  // written from this.
  template <class Visit>
  void each(const Members& members, const std::string& me, Visit&& visit) const {
    std::vector<std::string> read_by;
    for (const auto& [seq, item] : confirmed_) {
      read_by.clear();
      bool mine = !me.empty() && item.message.senderId == me;
      MessageStatus status = MessageStatus::sent;
      if (mine) {
        bool delivered = false;
        for (const auto& [id, m] : members) {
          if (id == me) continue;
          if (m.readSeq.value_or(0) >= seq) read_by.push_back(m.name);
          if (m.deliveredSeq.value_or(0) >= seq || m.readSeq.value_or(0) >= seq) delivered = true;
        }
        status = !read_by.empty() ? MessageStatus::read : delivered ? MessageStatus::delivered : MessageStatus::sent;
      }
      visit(item, mine, status, read_by);
    }
    read_by.clear();
    for (const auto& item : pending_) visit(item, true, item.status, read_by);
  }

 private:
  std::map<std::int64_t, TimelineItem> confirmed_;  // by seq
  std::vector<TimelineItem> pending_;               // in send order
  std::int64_t seen_ = 0;                           // the newest change message's seq
};

}  // namespace parley::client
