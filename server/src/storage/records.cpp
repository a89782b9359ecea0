#include "storage/records.hpp"

#include <array>

namespace parley::server {

namespace {

constexpr std::array<std::string_view, 3> kKinds = {"public", "private", "direct"};
constexpr std::array<std::string_view, 3> kRoles = {"owner", "admin", "member"};

template <class Enum, std::size_t N>
std::optional<Enum> find(const std::array<std::string_view, N>& words, std::string_view word) {
  for (std::size_t i = 0; i < N; ++i) {
    if (words[i] == word) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(RoomKind kind) { return kKinds[static_cast<std::size_t>(kind)]; }
std::string_view to_string(Role role) { return kRoles[static_cast<std::size_t>(role)]; }
std::string_view to_string(Watermark which) { return which == Watermark::read ? "read" : "delivered"; }
std::optional<RoomKind> parse_room_kind(std::string_view word) { return find<RoomKind>(kKinds, word); }
std::optional<Role> parse_role(std::string_view word) { return find<Role>(kRoles, word); }

}  // namespace parley::server
