// What the server stores about rooms and their members, with the words the
// wire and the database use for room kinds and roles held as enums: the
// code compares enums, and the strings appear only here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::server {

// public: anyone may join; private: only with a token whose `rooms` claim
// names it (or an admin token); direct: "dm:<a>:<b>", its two users only.
enum class RoomKind : std::uint8_t { public_room, private_room, direct };
enum class Role : std::uint8_t { owner, admin, member };
enum class Watermark : std::uint8_t { read, delivered };

std::string_view to_string(RoomKind kind);
std::string_view to_string(Role role);
std::string_view to_string(Watermark which);
std::optional<RoomKind> parse_room_kind(std::string_view word);
std::optional<Role> parse_role(std::string_view word);

struct RoomRecord {
  std::string id;
  RoomKind kind = RoomKind::public_room;
  std::string epoch;
  std::int64_t head_seq = 0;  // seq of the newest message, 0 when empty
  std::int64_t created_at = 0;
  bool operator==(const RoomRecord&) const = default;
};

struct MemberRecord {
  std::string room_id;
  std::string user_id;
  std::string name;
  Role role = Role::member;
  std::int64_t read_seq = 0;
  std::int64_t delivered_seq = 0;
  std::int64_t joined_at = 0;
  std::int64_t last_seen = 0;
  bool operator==(const MemberRecord&) const = default;
};

}  // namespace parley::server
