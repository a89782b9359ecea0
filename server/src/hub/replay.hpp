// What a room's history gives a client: on join, what it missed since the
// seq it last saw (or, too far behind or no longer kept, a reset and the
// newest page), and pages of older messages. Reads storage only; the caller
// holds the room's lock, so the head cannot move meanwhile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/protocol/messages.hpp"
#include "storage/storage.hpp"

namespace parley::server {

// The newest messages a join without a position (or after a reset) gets.
inline constexpr std::size_t kJoinPage = 50;

struct Replay {
  std::vector<protocol::Message> messages;
  bool reset = false;  // the client's position is lost: it shows the newest page instead
};

// `since`: the last seq the client saw in this room (nullopt: a first join).
// More than `replay_limit` behind, or a position beyond the head (another
// history, after a restore), resets.
StorageResult<Replay> replay_since(Storage& storage, const RoomRecord& room, std::optional<std::int64_t> since,
                                   std::uint32_t replay_limit);

// Up to `limit` messages before `before_seq` (default: the newest), oldest
// first, and whether older ones remain.
StorageResult<protocol::s2c::History> history_page(Storage& storage, const RoomRecord& room,
                                                   std::optional<std::int64_t> before_seq, std::size_t limit);

}  // namespace parley::server
