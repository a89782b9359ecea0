#include "parley/client/room.hpp"

namespace parley::client {

void RoomHistory::joining(Timeline& timeline, const std::string& epoch, bool reset) {
  if (reset || (!epoch_.empty() && epoch_ != epoch)) timeline.clear_confirmed();
  epoch_ = epoch;
}

std::optional<RoomHistory::Fetch> RoomHistory::load_older(const Timeline& timeline) {
  std::int64_t first = timeline.first_seq();
  if (loading_older_ || !has_more_ || first <= 1) return std::nullopt;
  loading_older_ = true;
  return Fetch{first, static_cast<std::int64_t>(limits_.page), true};
}

std::optional<RoomHistory::Fetch> RoomHistory::live(Timeline& timeline, std::int64_t seq) {
  std::int64_t last = timeline.last_seq();
  if (last == 0 || seq <= last + 1) return std::nullopt;
  std::int64_t from = last;
  if (seq - 1 - last > static_cast<std::int64_t>(kept())) {
    from = seq - 1 - static_cast<std::int64_t>(limits_.page);
    timeline.clear_confirmed();
    has_more_ = true;
  }
  return gap(seq, from);
}

void RoomHistory::trim(Timeline& timeline) {
  if (timeline.trim_oldest(kept())) has_more_ = true;
}

std::optional<RoomHistory::Fetch> RoomHistory::page(const Timeline& timeline, const Fetch& fetch, std::int64_t first,
                                                    bool has_more) {
  if (fetch.older) {
    loading_older_ = false;
    has_more_ = has_more;
    keep_ = timeline.confirmed_count();
  }
  // A gap wider than one page: the next page back, until it is filled.
  if (fetch.gap_from >= 0 && first > fetch.gap_from + 1) return gap(first, fetch.gap_from);
  return std::nullopt;
}

}  // namespace parley::client
