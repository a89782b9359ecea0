#include "hub/replay.hpp"

namespace parley::server {

StorageResult<Replay> replay_since(Storage& storage, const RoomRecord& room, std::optional<std::int64_t> since,
                                   std::uint32_t replay_limit) {
  Replay out;
  auto newest_page = [&]() -> StorageResult<Replay> {
    auto page = storage.messages_before(room.id, room.head_seq + 1, kJoinPage);
    if (!page) return page.error();
    out.messages = std::move(page).value();
    return std::move(out);
  };
  if (!since) return newest_page();
  if (*since > room.head_seq || room.head_seq - *since > static_cast<std::int64_t>(replay_limit)) {
    out.reset = true;
    return newest_page();
  }
  auto missed = storage.messages_after(room.id, *since, replay_limit);
  if (!missed) return missed.error();
  if (*since < room.head_seq && (missed.value().empty() || missed.value().front().seq != *since + 1)) {
    // What was missed is no longer kept (--history-limit).
    out.reset = true;
    return newest_page();
  }
  out.messages = std::move(missed).value();
  // Another node may have stored messages this one has not delivered yet:
  // they come live, after `joined`.
  std::erase_if(out.messages, [&](const protocol::Message& m) { return m.seq > room.head_seq; });
  return out;
}

StorageResult<protocol::s2c::History> history_page(Storage& storage, const RoomRecord& room,
                                                   std::optional<std::int64_t> before_seq, std::size_t limit) {
  std::int64_t before = before_seq.value_or(room.head_seq + 1);
  protocol::s2c::History out;
  out.roomId = room.id;
  auto page = storage.messages_before(room.id, before, limit);
  if (!page) return page.error();
  out.messages = std::move(page).value();
  std::int64_t oldest = out.messages.empty() ? before : out.messages.front().seq;
  out.hasMore = false;
  if (oldest > 1) {
    auto older = storage.messages_before(room.id, oldest, 1);
    if (!older) return older.error();
    out.hasMore = !older.value().empty();
  }
  return out;
}

}  // namespace parley::server
