// Who may do what in a room: pure decisions over the room's kind, the
// user's token and the roles stored for the room's members. The hub asks
// before it writes anything; nothing here touches storage or sockets.
//
//   join     public: anyone; private: members, a token whose `rooms` claim
//            names it, or an admin token; direct ("dm:<a>:<b>", a < b):
//            its two users only. A full room takes no new member.
//   leave    for good: any room but a direct one.
//   kick     the room's owner or admins, or an admin token; never the owner.
//   set role admin or member (the admin API); the owner's role never changes.
//   edit     a message: its sender only.
//   delete   a message: its sender, the room's owner or admins, or an admin token.
//   react    any member, on any message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "auth.hpp"
#include "parley/protocol/errors.hpp"
#include "parley/protocol/result.hpp"
#include "storage/records.hpp"

namespace parley::server::access {

// The two users a direct room's id names.
struct DirectPair {
  std::string first;
  std::string second;
};

// nullopt for a room id that is not a direct one; the pair when it is one
// and names `user`; otherwise why not (a malformed id, or another pair's).
protocol::Result<std::optional<DirectPair>> direct_room(const std::string& room_id, const Identity& user);

// The kind a room opened by `user` gets: private when their token names it.
RoomKind kind_of_new_room(const std::string& room_id, bool direct, const Identity& user);

// Whether `user`, not yet a member, may become one; then whether the room
// has space for one more.
std::optional<protocol::Error> may_become_member(RoomKind kind, const std::string& room_id, const Identity& user);
std::optional<protocol::Error> has_space(std::size_t members, std::uint32_t max_members);

std::optional<protocol::Error> may_leave_for_good(RoomKind kind);

// Removing a member, in two steps so that the target is looked up only for
// an actor who may remove (a member cannot probe who else is in the room):
// whether `actor` (`actor_role` in the room, nullopt: not a member) removes
// members at all, then whether `target` (`target_role`, nullopt: not a
// member) can be removed.
std::optional<protocol::Error> may_remove_members(const Identity& actor, std::optional<Role> actor_role);
std::optional<protocol::Error> removable(const std::string& target, std::optional<Role> target_role);

// Whether `actor` (`actor_role` in the room) may make a change of `type`
// (edit, delete, react, unreact) to a message sent by `sender_id`.
std::optional<protocol::Error> may_change(const std::string& type, const Identity& actor, const std::string& sender_id,
                                          std::optional<Role> actor_role);

std::optional<protocol::Error> may_set_role(Role current, Role wanted);

// The role word of the admin API: admin or member.
protocol::Result<Role> settable_role(const std::string& word);

bool is_admin(const Identity& user);

}  // namespace parley::server::access
