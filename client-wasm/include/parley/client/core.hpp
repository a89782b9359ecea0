// The Parley client core: a deterministic, sans-I/O state machine.
//
// Inputs are method calls (app calls, transport events, timer firings), each
// with the current time in milliseconds. Outputs are effects (take_effects)
// that the host performs, and views (connection(), room()) that the host
// re-reads when a Notify effect names them. The core owns no socket, timer or
// clock, so tests drive it with a fake transport and a fake clock.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/effects.hpp"
#include "parley/client/timeline.hpp"
#include "parley/client/views.hpp"
#include "parley/protocol/codec.hpp"

namespace parley::client {

struct Config {
  std::string url;  // ws://host:port/ws
  protocol::Codec codec = protocol::Codec::json;
  std::string client_name = "parley-core";
  std::string client_version = "0.1.0";
  std::uint64_t seed = 1;  // randomness for ids and jitter; the host passes real entropy
  std::int64_t backoff_base_ms = 500;
  std::int64_t backoff_cap_ms = 10'000;
};

// Timer ids used by the core.
enum Timer : std::uint32_t { reconnect_timer = 1 };

class Core {
 public:
  explicit Core(Config config);

  // ---- app
  void connect(std::int64_t now);
  void disconnect(std::int64_t now);
  void set_token(std::string token, std::int64_t now);
  void join(const std::string& room_id, std::int64_t now);
  // Posts a text message; returns its clientMsgId (the timeline key).
  std::string send(const std::string& room_id, const std::string& content, std::int64_t now);

  // ---- transport and environment
  void socket_opened(std::uint32_t socket, std::int64_t now);
  void socket_closed(std::uint32_t socket, std::uint16_t code, std::int64_t now);
  void received(std::uint32_t socket, std::string_view bytes, std::int64_t now);
  void timer_fired(std::uint32_t timer, std::int64_t now);
  void network_online(std::int64_t now);
  void network_offline(std::int64_t now);

  // ---- outputs
  std::vector<Effect> take_effects();
  const ConnectionView& connection() const { return connection_; }
  RoomView room(const std::string& room_id) const;

 private:
  // A send not yet acknowledged by the server.
  struct Pending {
    std::string room_id;
    std::string client_msg_id;
    protocol::Draft draft;
    std::optional<std::string> ref;  // while in flight on the current socket
  };
  struct Room {
    bool wanted = false;  // the app joined it: rejoin after every reconnect
    bool joined = false;  // joined on the current connection
    std::string epoch;
    Timeline timeline;
  };
  struct Request {
    enum Kind : std::uint8_t { hello_request, join_request, send_request } kind;
    std::string room_id;
    std::string client_msg_id;
  };

  void start_attempt(std::int64_t now);
  void send_hello();
  void send_join(const std::string& room_id, const Room& room);
  void lost_connection(std::int64_t now);
  void schedule_retry(std::int64_t now);
  void send_frame(const protocol::c2s::Frame& frame);
  std::string next_ref();
  std::string new_client_msg_id();
  std::uint64_t random();
  void flush_outbox(const std::string& room_id);
  void transmit(Pending& pending);
  void set_state(ConnectionState state);
  void notify(std::string topic);
  void notify_room(const std::string& room_id) { notify("room:" + room_id); }

  void on_frame(protocol::s2c::Welcome& f, std::int64_t now);
  void on_frame(protocol::s2c::Joined& f, std::int64_t now);
  void on_frame(protocol::s2c::Ack& f, std::int64_t now);
  void on_frame(protocol::s2c::Error& f, std::int64_t now);
  void on_frame(protocol::s2c::MessageEvent& f, std::int64_t now);
  // Frames the core does not act on yet (typing, presence, receipts, history,
  // pong, announcements) are accepted and ignored.
  template <class Frame>
  void on_frame(Frame&, std::int64_t) {}

  Room& room_state(const std::string& room_id);
  void confirm(Room& room, const protocol::Message& message);

  Config config_;
  ConnectionView connection_;
  std::vector<Effect> effects_;
  std::uint64_t rng_;
  std::uint32_t socket_ = 0;  // id of the current socket; events for older ones are ignored
  bool socket_open_ = false;
  std::optional<std::string> token_;  // for the current attempt
  std::uint64_t next_ref_ = 1;
  std::map<std::string, Request> requests_;  // by ref
  std::map<std::string, Room> rooms_;
  std::deque<Pending> outbox_;  // unacknowledged sends, in send order
};

}  // namespace parley::client
