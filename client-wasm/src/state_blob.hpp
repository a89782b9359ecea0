// The client state a page reload must not lose, as versioned binary blobs:
// the queue of unsent messages and receipts ("outbox", written at every
// change) and a cache of each room's newest messages and position ("rooms",
// written lazily). Version 1 outboxes (sends only) are still read.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/client/queued_send.hpp"
#include "parley/protocol/messages.hpp"

namespace parley::client {

// Read and delivered watermarks not yet sent (0: none).
struct SavedReceipt {
  std::string room_id;
  std::int64_t read = 0;
  std::int64_t delivered = 0;
};

struct SavedRoom {
  std::string room_id;
  std::string epoch;
  bool has_more = false;
  std::vector<protocol::Message> messages;  // the newest, ascending
};

struct SavedState {
  std::string user_id;  // whose state it is: another user's is not restored
  std::vector<QueuedSend> sends;
  std::vector<SavedReceipt> receipts;
  std::vector<SavedRoom> rooms;
};

std::string encode_outbox(const std::string& user_id, const std::vector<QueuedSend>& sends,
                          const std::vector<SavedReceipt>& receipts);
std::string encode_rooms(const std::string& user_id, const std::vector<SavedRoom>& rooms);
// nullopt for a blob of another version or a damaged one.
std::optional<SavedState> decode_outbox(std::string_view blob);
std::optional<SavedState> decode_rooms(std::string_view blob);

}  // namespace parley::client
