// One room as this client holds it: where its join stands (RoomJoin), what
// part of its history the timeline shows and which history to fetch next
// (RoomHistory), and the other parts it owns (timeline, members, typing,
// receipts). The parts decide; the core sends the frames.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "parley/client/receipts.hpp"
#include "parley/client/timeline.hpp"
#include "parley/client/typing.hpp"

namespace parley::client {

// Whether the app wants the room, and its join on the current connection:
// sent, answered, or refused for now and due again later.
class RoomJoin {
 public:
  bool wanted() const { return wanted_; }
  bool joined() const { return joined_; }
  bool joining() const { return joining_; }
  // A join already under way, done, or waiting out a refusal: nothing to send.
  bool settled() const { return joined_ || joining_ || due_ > 0; }
  int failures() const { return failures_; }
  // When a join refused for now goes again.
  std::optional<std::int64_t> due() const { return due_ > 0 ? std::optional<std::int64_t>(due_) : std::nullopt; }

  void want() { wanted_ = true; }
  // Left by the app, removed by the server, or refused for good.
  void drop() {
    wanted_ = false;
    joined_ = false;
  }
  void sent() { joining_ = true; }
  // The answer came; false if the app left meanwhile (the answer is moot).
  bool answered() {
    joining_ = false;
    return wanted_;
  }
  void succeeded() {
    joined_ = true;
    due_ = 0;
    failures_ = 0;
  }
  // Refused for a transient reason: again after `wait_ms`.
  void refused_for_now(std::int64_t now, std::int64_t wait_ms) {
    ++failures_;
    due_ = now + (wait_ms > 0 ? wait_ms : 1);
  }
  // True once the wait is over and a join should go again.
  bool take_due(std::int64_t now) {
    if (due_ == 0 || now < due_) return false;
    due_ = 0;
    return wanted_ && !joined_;
  }
  // The connection is gone: rejoined after the next welcome.
  void connection_lost() {
    joined_ = false;
    joining_ = false;
    due_ = 0;
  }

 private:
  bool wanted_ = false;   // the app joined it: rejoin after every reconnect
  bool joined_ = false;   // joined on the current connection
  bool joining_ = false;  // a join is on its way
  std::int64_t due_ = 0;  // a join refused for a transient reason goes again then (0: none waits)
  int failures_ = 0;      // transient refusals in a row
};

// What part of the room's history the timeline holds, and how it grows:
// older pages on demand, gaps filled page by page when a live message skips
// seqs, the oldest messages dropped past the size limit (they come back as
// older pages), and a start over when the server's history is another one
// (its epoch changed, or it says reset).
class RoomHistory {
 public:
  struct Limits {
    std::size_t timeline = 500;  // confirmed messages kept (more after older pages are loaded)
    std::size_t page = 50;       // an older page
  };
  // A history request: up to `limit` messages before `before_seq`; `older`
  // for a page the user asked for; `gap_from` >= 0 when it fills a gap down
  // to that seq (the newest message held before the gap).
  struct Fetch {
    std::int64_t before_seq = 0;
    std::int64_t limit = 0;
    bool older = false;
    std::int64_t gap_from = -1;
  };

  explicit RoomHistory(Limits limits) : limits_(limits) {}

  bool has_more() const { return has_more_; }
  bool loading_older() const { return loading_older_; }
  const std::string& epoch() const { return epoch_; }

  // From the cache a page reload left.
  void restored(std::string epoch, bool has_more) {
    epoch_ = std::move(epoch);
    has_more_ = has_more;
  }
  // `joined` arrives: a reset, or another epoch, clears the timeline. Call
  // joined_page() once its messages are in.
  void joining(Timeline& timeline, const std::string& epoch, bool reset);
  // A fresh page knows whether older messages exist only by its first seq.
  void joined_page(const Timeline& timeline) { has_more_ = timeline.first_seq() > 1; }
  // The user scrolls back: the page before the oldest message, unless one is
  // on its way or there is nothing older.
  std::optional<Fetch> load_older(const Timeline& timeline);
  // A live message with `seq`, before it goes into the timeline: the fetch
  // that fills the gap before it, if any. A gap wider than the timeline keeps
  // starts over from the page before it (older pages load on demand).
  std::optional<Fetch> live(Timeline& timeline, std::int64_t seq);
  // After a message went into the timeline: memory stays bounded.
  void trim(Timeline& timeline);
  // A history page arrived for `fetch` (its oldest seq `first`, 0: empty):
  // the next page back while a gap is still open.
  std::optional<Fetch> page(const Timeline& timeline, const Fetch& fetch, std::int64_t first, bool has_more);
  // The server refused a history request (the room is still there: the user
  // may scroll back again).
  void refused() { loading_older_ = false; }
  void connection_lost() { loading_older_ = false; }

 private:
  std::size_t kept() const { return keep_ > limits_.timeline ? keep_ : limits_.timeline; }
  static Fetch gap(std::int64_t before_seq, std::int64_t from) {
    return Fetch{before_seq, before_seq - from - 1, false, from};
  }

  Limits limits_;
  std::string epoch_;
  bool has_more_ = false;
  bool loading_older_ = false;
  std::size_t keep_ = 0;  // what the user scrolled back to stays
};

struct Room {
  explicit Room(RoomHistory::Limits limits) : history(limits) {}

  RoomJoin join;
  RoomHistory history;
  Timeline timeline;
  Timeline::Members members;
  Typists typists;    // others typing
  OwnTyping typing;   // ours
  Receipts receipts;  // our watermarks on their way
};

}  // namespace parley::client
