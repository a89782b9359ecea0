// What travels on the bus, as bytes. Room events go on the room's channel
// (room_channel), node events on kNodesChannel. The encoding is a compact
// envelope: a kind byte, length-prefixed strings, fixed-width integers, and
// for frames the s2c frame in the protocol's binary codec as the rest:
// every field is checked on decoding, and anything malformed is refused
// whole (a node never trusts bytes it did not check, even from the bus).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hub/presence.hpp"

namespace parley::server {

inline constexpr std::string_view kNodesChannel = "p:nodes";
inline constexpr std::string_view kRoomChannelPrefix = "p:r:";

// "p:r:<tenant>/<room>": neither tenant names nor room ids hold a '/'.
std::string room_channel(std::string_view tenant, std::string_view room_id);
struct ChannelRoom {
  std::string tenant;
  std::string room_id;
};
std::optional<ChannelRoom> parse_room_channel(std::string_view channel);

struct RoomEvent {
  enum class Kind : char {
    message = 'M',   // frame: a committed message (s2c message), delivered in seq order
    frame = 'F',     // frame: for every subscriber (receipts, role changes)
    typing = 'T',    // frame: for every subscriber but `user_id`, the typist
    removed = 'K',   // frame (s2c removed): for `user_id`'s connections, which leave the room
    presence = 'P',  // the origin's contribution for `user_id`: status, last_seen
    status = 'S',    // `user_id` chose `status` (online, idle, away) on the origin
  };
  Kind kind = Kind::frame;
  std::string origin;  // the publishing node
  std::string user_id;
  PresenceStatus status = PresenceStatus::offline;
  std::int64_t last_seen = 0;
  std::string frame;  // an s2c frame, binary codec
};
std::string encode(const RoomEvent& event);
std::optional<RoomEvent> decode_room_event(std::string_view bytes);

struct NodeEvent {
  enum class Kind : char {
    heartbeat = 'H',     // text: the node's stats as JSON; every second while it runs
    announcement = 'A',  // text: an s2c announcement (binary codec) for `tenant`'s connections (empty: all)
  };
  Kind kind = Kind::heartbeat;
  std::string origin;
  std::string tenant;
  std::string text;
};
std::string encode(const NodeEvent& event);
std::optional<NodeEvent> decode_node_event(std::string_view bytes);

}  // namespace parley::server
