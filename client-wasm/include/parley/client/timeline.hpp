// A room's optimistic timeline: confirmed messages ordered by seq, then this
// client's pending sends in send order. A pure data structure.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/views.hpp"

namespace parley::client {

class Timeline {
 public:
  // Shows a send at once, before the server has it.
  void add_pending(const protocol::Message& draft, MessageStatus status,
                   std::optional<protocol::Error> error = std::nullopt);
  void set_pending_status(const std::string& key, MessageStatus status,
                          std::optional<protocol::Error> error = std::nullopt);
  bool remove_pending(const std::string& key);
  const TimelineItem* pending(const std::string& key) const;

  // A message the server confirmed (ack, live event, replay, history). A
  // pending send with the same clientMsgId from `me` becomes this message in
  // place; a seq already present is ignored. Returns false for a duplicate.
  bool confirm(const protocol::Message& message, const std::string& me);

  // Drops confirmed messages (the server reset the room's history).
  void clear_confirmed();
  // Keeps at most `limit` confirmed messages, dropping the oldest; true if any were dropped.
  bool trim_oldest(std::size_t limit);
  std::size_t confirmed_count() const { return confirmed_.size(); }
  // Keeps only the newest `keep` confirmed messages (the part worth caching).
  std::vector<protocol::Message> newest(std::size_t keep) const;

  std::int64_t last_seq() const { return confirmed_.empty() ? 0 : confirmed_.rbegin()->first; }
  std::int64_t first_seq() const { return confirmed_.empty() ? 0 : confirmed_.begin()->first; }
  bool has_seq(std::int64_t seq) const { return confirmed_.count(seq) != 0; }
  std::size_t size() const { return confirmed_.size() + pending_.size(); }

  // The view, with statuses of this client's confirmed messages derived from
  // the other members' watermarks (delivered, read) and `read_by` filled.
  std::vector<TimelineItem> items(const std::vector<protocol::Member>& members, const std::string& me) const;

 private:
  std::map<std::int64_t, TimelineItem> confirmed_;  // by seq
  std::vector<TimelineItem> pending_;               // in send order
};

}  // namespace parley::client
