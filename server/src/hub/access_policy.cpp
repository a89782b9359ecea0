#include "hub/access_policy.hpp"

#include <algorithm>

namespace parley::server::access {

using protocol::Error;
using protocol::ErrorCode;

namespace {

Error refuse(ErrorCode code, std::string message, std::string path = "/roomId") {
  return Error{code, std::move(message), std::move(path)};
}

bool has_claim(const Identity& user, const std::string& room_id) {
  return std::find(user.rooms.begin(), user.rooms.end(), room_id) != user.rooms.end();
}

}  // namespace

bool is_admin(const Identity& user) { return user.role == "admin"; }

protocol::Result<std::optional<DirectPair>> direct_room(const std::string& room_id, const Identity& user) {
  if (room_id.rfind("dm:", 0) != 0) return std::optional<DirectPair>();
  auto colon = room_id.find(':', 3);
  DirectPair pair;
  if (colon != std::string::npos) pair = {room_id.substr(3, colon - 3), room_id.substr(colon + 1)};
  if (pair.first.empty() || pair.second.empty() || pair.first == pair.second ||
      pair.second.find(':') != std::string::npos) {
    return refuse(ErrorCode::bad_request, "a direct room is dm:<userA>:<userB> with two different user ids");
  }
  if (pair.first > pair.second) {
    return refuse(ErrorCode::bad_request, "a direct room lists its two user ids in ascending order");
  }
  if (user.user_id != pair.first && user.user_id != pair.second) {
    return refuse(ErrorCode::forbidden, "this direct room is not yours");
  }
  return std::optional<DirectPair>(std::move(pair));
}

RoomKind kind_of_new_room(const std::string& room_id, bool direct, const Identity& user) {
  if (direct) return RoomKind::direct;
  return has_claim(user, room_id) ? RoomKind::private_room : RoomKind::public_room;
}

std::optional<Error> may_become_member(RoomKind kind, const std::string& room_id, const Identity& user) {
  if (kind == RoomKind::direct) return refuse(ErrorCode::forbidden, "this direct room is not yours");
  if (kind == RoomKind::private_room && !has_claim(user, room_id) && !is_admin(user)) {
    return refuse(ErrorCode::forbidden, "this room is private: you are not a member");
  }
  return std::nullopt;
}

std::optional<Error> has_space(std::size_t members, std::uint32_t max_members) {
  if (members >= max_members) return refuse(ErrorCode::forbidden, "this room is full");
  return std::nullopt;
}

std::optional<Error> may_leave_for_good(RoomKind kind) {
  if (kind == RoomKind::direct) return refuse(ErrorCode::forbidden, "a direct room cannot be left for good");
  return std::nullopt;
}

std::optional<Error> may_remove_members(const Identity& actor, std::optional<Role> actor_role) {
  bool may = is_admin(actor) || actor_role == Role::owner || actor_role == Role::admin;
  if (!may) return refuse(ErrorCode::forbidden, "only the room's owner or admins can remove members");
  return std::nullopt;
}

std::optional<Error> removable(const std::string& target, std::optional<Role> target_role) {
  if (!target_role) return refuse(ErrorCode::not_found, target + " is not a member of this room", "/userId");
  if (*target_role == Role::owner) return refuse(ErrorCode::forbidden, "the owner cannot be removed", "/userId");
  return std::nullopt;
}

std::optional<Error> may_change(const std::string& type, const Identity& actor, const std::string& sender_id,
                                std::optional<Role> actor_role) {
  if (type == "edit" && actor.user_id != sender_id) {
    return refuse(ErrorCode::forbidden, "only its sender can edit a message", "/message/target");
  }
  if (type == "delete" && actor.user_id != sender_id) {
    bool may = is_admin(actor) || actor_role == Role::owner || actor_role == Role::admin;
    if (!may) {
      return refuse(ErrorCode::forbidden, "only its sender, or the room's owner or admins, can delete a message",
                    "/message/target");
    }
  }
  return std::nullopt;
}

std::optional<Error> may_set_role(Role current, Role) {
  if (current == Role::owner) return refuse(ErrorCode::forbidden, "the owner's role does not change", "/userId");
  return std::nullopt;
}

protocol::Result<Role> settable_role(const std::string& word) {
  auto role = parse_role(word);
  if (!role || *role == Role::owner) return refuse(ErrorCode::bad_request, "role is admin or member", "/role");
  return *role;
}

}  // namespace parley::server::access
