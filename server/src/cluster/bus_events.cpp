#include "cluster/bus_events.hpp"

#include <cstring>

namespace parley::server {

namespace {

constexpr std::size_t kMaxShort = 0xffff;

void put_string(std::string& out, std::string_view s) {
  std::size_t n = std::min(s.size(), kMaxShort);
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n & 0xff));
  out.append(s.data(), n);
}

void put_i64(std::string& out, std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((u >> shift) & 0xff));
}

// Reads the envelope front to back; any short read fails the whole event.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : rest_(bytes) {}
  bool byte(char& c) {
    if (rest_.empty()) return false;
    c = rest_.front();
    rest_.remove_prefix(1);
    return true;
  }
  bool string(std::string& s) {
    if (rest_.size() < 2) return false;
    std::size_t n = (std::size_t{static_cast<std::uint8_t>(rest_[0])} << 8) | static_cast<std::uint8_t>(rest_[1]);
    if (rest_.size() < 2 + n) return false;
    s.assign(rest_.data() + 2, n);
    rest_.remove_prefix(2 + n);
    return true;
  }
  bool i64(std::int64_t& v) {
    if (rest_.size() < 8) return false;
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < 8; ++i) u = (u << 8) | static_cast<std::uint8_t>(rest_[i]);
    v = static_cast<std::int64_t>(u);
    rest_.remove_prefix(8);
    return true;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

bool known_room_kind(char k) { return k != '\0' && std::strchr("MFTKPS", k) != nullptr; }
bool known_node_kind(char k) { return k != '\0' && std::strchr("HA", k) != nullptr; }

}  // namespace

std::string room_channel(std::string_view tenant, std::string_view room_id) {
  std::string out(kRoomChannelPrefix);
  out.append(tenant).push_back('/');
  out.append(room_id);
  return out;
}

std::optional<ChannelRoom> parse_room_channel(std::string_view channel) {
  if (channel.substr(0, kRoomChannelPrefix.size()) != kRoomChannelPrefix) return std::nullopt;
  channel.remove_prefix(kRoomChannelPrefix.size());
  auto slash = channel.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == channel.size()) return std::nullopt;
  return ChannelRoom{std::string(channel.substr(0, slash)), std::string(channel.substr(slash + 1))};
}

std::string encode(const RoomEvent& e) {
  std::string out;
  out.reserve(32 + e.origin.size() + e.user_id.size() + e.frame.size());
  out.push_back(static_cast<char>(e.kind));
  put_string(out, e.origin);
  put_string(out, e.user_id);
  out.push_back(static_cast<char>(e.status));
  put_i64(out, e.last_seen);
  out += e.frame;
  return out;
}

std::optional<RoomEvent> decode_room_event(std::string_view bytes) {
  Cursor in(bytes);
  RoomEvent e;
  char kind = 0;
  char status = 0;
  if (!in.byte(kind) || !known_room_kind(kind) || !in.string(e.origin) || e.origin.empty() || !in.string(e.user_id) ||
      !in.byte(status) || !in.i64(e.last_seen)) {
    return std::nullopt;
  }
  if (static_cast<std::uint8_t>(status) > static_cast<std::uint8_t>(PresenceStatus::away)) return std::nullopt;
  e.kind = static_cast<RoomEvent::Kind>(kind);
  e.status = static_cast<PresenceStatus>(status);
  e.frame.assign(in.rest());
  bool needs_frame = e.kind != RoomEvent::Kind::presence && e.kind != RoomEvent::Kind::status;
  bool needs_user = e.kind != RoomEvent::Kind::message && e.kind != RoomEvent::Kind::frame;
  if (needs_frame && e.frame.empty()) return std::nullopt;
  if (needs_user && e.user_id.empty()) return std::nullopt;
  return e;
}

std::string encode(const NodeEvent& e) {
  std::string out;
  out.push_back(static_cast<char>(e.kind));
  put_string(out, e.origin);
  put_string(out, e.tenant);
  out += e.text;
  return out;
}

std::optional<NodeEvent> decode_node_event(std::string_view bytes) {
  Cursor in(bytes);
  NodeEvent e;
  char kind = 0;
  if (!in.byte(kind) || !known_node_kind(kind) || !in.string(e.origin) || e.origin.empty() || !in.string(e.tenant)) {
    return std::nullopt;
  }
  e.kind = static_cast<NodeEvent::Kind>(kind);
  e.text.assign(in.rest());
  return e;
}

}  // namespace parley::server
