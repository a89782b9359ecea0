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
  void add_pending(const protocol::Message& draft, MessageStatus status);
  void set_pending_status(const std::string& client_msg_id, MessageStatus status,
                          std::optional<protocol::Error> error = std::nullopt);

  // A message the server confirmed (ack, live event, replay). A pending send
  // with the same clientMsgId from `me` becomes this message in place; a seq
  // already present is ignored. Returns false for a duplicate.
  bool confirm(const protocol::Message& message, const std::string& me);

  // Drops confirmed messages (the server reset the room's history).
  void clear_confirmed();

  std::int64_t last_seq() const { return confirmed_.empty() ? 0 : confirmed_.rbegin()->first; }
  std::vector<TimelineItem> items() const;

 private:
  std::map<std::int64_t, TimelineItem> confirmed_;  // by seq
  std::vector<TimelineItem> pending_;               // in send order
};

}  // namespace parley::client
