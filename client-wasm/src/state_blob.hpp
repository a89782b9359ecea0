// The client state a page reload must not lose, as versioned binary blobs:
// the queue of unsent messages and receipts ("outbox", written at every
// change; every version since 1 is still read) and a cache of each room's
// newest messages and position ("rooms", written lazily). The cache holds
// each room as the JSON of a `joined` frame, read back by the protocol's own
// decoder: a second binary codec for messages cost the WebAssembly module
// 1.1 kB gzipped. A cache of an earlier version is not read (the rooms are
// then joined afresh).
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
  bool has_more = false;                    // when read back: the first message kept is not the room's first
  std::vector<protocol::Message> messages;  // the newest, ascending
  std::int64_t position = 0;                // the last seq seen (a change's, possibly)
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

// A room of the cache as the JSON of a `joined` frame (written by view_json.cpp,
// which writes messages as JSON for the views too).
std::string room_cache_json(const SavedRoom& room);

}  // namespace parley::client
