// LoadGen's three protocol adapters (Parley v1 JSON, the plain ws room protocol, Socket.IO v5) and the
// protocol-dependent publishing and receiving of message bodies.
#include <algorithm>
#include <cstdio>
#include <ctime>

#include "auth.hpp"
#include "body.hpp"
#include "load_gen.hpp"

namespace parley::loadgen {

// ---------------------------------------------------------------- protocols

const std::string& LoadGen::token_of(Conn& c) {
  if (c.token.empty()) {
    std::int64_t exp = static_cast<std::int64_t>(std::time(nullptr)) + 6 * 3600;
    std::string user = "u" + std::to_string(c.index);
    c.token = parley::server::sign_hs256(
        R"({"sub":")" + user + R"(","name":")" + user + R"(","exp":)" + std::to_string(exp) + "}", opt_.secret);
  }
  return c.token;
}

void LoadGen::on_open(Conn& c) {
  switch (opt_.proto) {
    case Proto::parley:
      send_text(c, R"({"type":"hello","ref":"h","v":1,"token":")" + token_of(c) + R"("})");
      break;
    case Proto::ws:
      send_join(c);
      break;
    case Proto::sio:
      break;  // the server speaks first: 0{...}
  }
}

void LoadGen::send_join(Conn& c) {
  c.state = State::joining;
  if (!opt_.join) return on_joined(c);  // --join 0: connected and authenticated is enough
  switch (opt_.proto) {
    case Proto::parley: {
      std::string join = R"({"type":"join","ref":"j","roomId":")" + room_id(c) + "\"";
      if (c.last_seq > 0) join += ",\"sinceSeq\":" + std::to_string(c.last_seq);
      send_text(c, join + "}");
      break;
    }
    case Proto::ws:
      send_text(c, R"({"type":"join","room":")" + room_id(c) + R"("})");
      break;
    case Proto::sio:
      send_text(c, R"(42["join",")" + room_id(c) + R"("])");
      break;
  }
}

void LoadGen::on_text(Conn& c, std::string_view m) {
  switch (opt_.proto) {
    case Proto::parley:
      return on_parley(c, m);
    case Proto::ws:
      return on_ws(c, m);
    case Proto::sio:
      return on_sio(c, m);
  }
}

void LoadGen::on_parley(Conn& c, std::string_view m) {
  if (m.rfind(R"({"type":"message")", 0) == 0) {
    auto body = after(m, R"("content":")");
    if (body != std::string_view::npos) delivered(c, m, body);
    auto seq_at = after(m, R"("seq":)");
    if (seq_at != std::string_view::npos) c.last_seq = std::max(c.last_seq, parse_int(m, seq_at));
  } else if (m.rfind(R"({"type":"ack")", 0) == 0) {
    auto ref = after(m, R"("ref":"s)");
    if (ref != std::string_view::npos && c.publisher) acked(publishers_[c.room], parse_int(m, ref));
  } else if (m.rfind(R"({"type":"welcome")", 0) == 0) {
    send_join(c);
  } else if (m.rfind(R"({"type":"joined")", 0) == 0) {
    // Replayed messages (a resume) count as deliveries.
    for (auto at = after(m, R"("content":")"); at != std::string_view::npos; at = after(m, R"("content":")", at)) {
      delivered(c, m, at, true);
    }
    auto head = after(m, R"("headSeq":)");
    if (head != std::string_view::npos) c.last_seq = parse_int(m, head);
    on_joined(c);
  } else if (m.rfind(R"({"type":"error")", 0) == 0) {
    ++errors_;
    if (errors_ <= 5)
      std::fprintf(stderr, "parley_loadgen: connection %u: %.*s\n", c.index,
                   static_cast<int>(std::min<std::size_t>(m.size(), 300)), m.data());
    if (c.state != State::joined) lost(c, "refused");
  }
}

void LoadGen::on_ws(Conn& c, std::string_view m) {
  if (m.rfind(R"({"type":"message")", 0) == 0) {
    auto body = after(m, R"("body":")");
    if (body != std::string_view::npos) delivered(c, m, body);
  } else if (m.rfind(R"({"type":"joined")", 0) == 0) {
    on_joined(c);
  }
}

void LoadGen::on_sio(Conn& c, std::string_view m) {
  if (m.rfind(R"(42["message")", 0) == 0) {
    auto body = after(m, R"("body":")");
    if (body != std::string_view::npos) delivered(c, m, body);
  } else if (m == "2") {
    send_text(c, "3");  // Engine.IO ping -> pong
  } else if (m.rfind(R"(42["joined")", 0) == 0) {
    on_joined(c);
  } else if (m.rfind("40", 0) == 0) {
    send_join(c);  // connected to the namespace
  } else if (m.rfind("0{", 0) == 0) {
    send_text(c, "40");  // Engine.IO open -> Socket.IO connect
  } else if (m.rfind("44", 0) == 0) {
    ++errors_;
    lost(c, "socket.io connect_error");
  }
}

void LoadGen::on_joined(Conn& c) {
  if (c.state == State::joined) return;
  c.state = State::joined;
  ++joined_;
  std::int64_t now = now_ns();
  c.joined_at = now;
  if (c.setup_counted) {
    c.setup_counted = false;
    --setup_in_flight_;
    start_more();
  }
  if (first_loss_ns_ >= 0 && c.rejoined_at < 0) {
    c.rejoined_at = now;
    rejoin_times_.push_back(now - first_loss_ns_);
  }
  if (c.publisher) flush_pending(publishers_[c.room]);
}

// ---------------------------------------------------------------- publishing

void LoadGen::generate(Publisher& p, std::int64_t now) {
  ++generated_;
  std::uint32_t n = p.next++;
  p.pending.emplace_back(n, now);
  if (p.committed.size() <= n) p.committed.resize(n + 1024);
  ++phase_sent_;
  if (p.conn->state != State::joined) return;
  write_message(p, n, now);
  if (opt_.proto != Proto::parley) commit(p, n);
}

void LoadGen::write_message(Publisher& p, std::uint32_t n, std::int64_t sent) {
  Conn& c = *p.conn;
  std::string body = make_body(sent, c.room, n);
  switch (opt_.proto) {
    case Proto::parley: {
      char id[40];
      std::snprintf(id, sizeof id, "b%u_%08u", c.room, n);
      send_text(c, R"({"type":"send","ref":"s)" + std::to_string(n) + R"(","roomId":")" + room_id(c) +
                       R"(","clientMsgId":")" + id + R"(","message":{"type":"text","content":")" + body + R"("}})");
      break;
    }
    case Proto::ws:
      send_text(c, R"({"type":"publish","room":")" + room_id(c) + R"(","body":")" + body + R"("})");
      break;
    case Proto::sio:
      send_text(c, R"(42["publish",{"room":")" + room_id(c) + R"(","body":")" + body + R"("}])");
      break;
  }
}

void LoadGen::commit(Publisher& p, std::uint32_t n) {
  if (p.committed.size() <= n) p.committed.resize(n + 1024);
  if (!p.committed[n]) {
    p.committed[n] = true;
    ++p.committed_count;
  }
  // Peers: written means committed; pending holds only what is unsent.
  while (!p.pending.empty() && p.committed[p.pending.front().first]) p.pending.pop_front();
}

void LoadGen::acked(Publisher& p, std::int64_t n) {
  if (n < 0) return;
  commit(p, static_cast<std::uint32_t>(n));
}

// After a (re)join: Parley resends everything not acked (same clientMsgId:
// the server deduplicates); the peers send what was never written.
void LoadGen::flush_pending(Publisher& p) {
  std::vector<std::pair<std::uint32_t, std::int64_t>> todo(p.pending.begin(), p.pending.end());
  for (auto& [n, sent] : todo) {
    if (p.conn->state != State::joined) return;
    if (n < p.committed.size() && p.committed[n]) continue;
    write_message(p, n, sent);
    if (opt_.proto != Proto::parley) commit(p, n);
  }
}

// ---------------------------------------------------------------- receiving

void LoadGen::delivered(Conn& c, std::string_view m, std::size_t body_at, bool replay) {
  Body b;
  if (!parse_body(m, body_at, b)) return;
  ++phase_received_;
  if (track_seen_) {
    auto n = static_cast<std::size_t>(b.number);
    if (c.seen.size() <= n) c.seen.resize(n + 1024);
    if (c.seen[n]) {
      ++duplicates_;
    } else {
      c.seen[n] = true;
    }
  }
  if (replay) {
    ++replayed_;
    return;
  }
  std::int64_t now = recv_now_;
  if (now >= win_start_ && now < win_end_) ++win_received_;
  bool sample =
      lat_by_recv_ ? (now >= win_start_ && now < win_end_) : (b.sent_ns >= win_start_ && b.sent_ns < win_end_);
  if (sample) {
    auto us = static_cast<std::uint32_t>(std::clamp<std::int64_t>((now - b.sent_ns) / 1000, 0, UINT32_MAX));
    latencies_.push_back(us);
    max_latency_us_ = std::max(max_latency_us_, us);
  }
}

}  // namespace parley::loadgen
