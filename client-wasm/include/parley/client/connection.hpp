// The connection's life, over explicit time: its state and the socket in
// use, the attempts and the backoff between them (exponential with full
// jitter, started over after a stable connection), the handshake's deadline,
// the heartbeat (a ping after a quiet heartbeat, dead after two), and the
// waits the server asked for. It decides when; the core does the talking.
#pragma once

#include <cstdint>
#include <optional>

#include "parley/client/views.hpp"

namespace parley::client {

class Connection {
 public:
  struct Timings {
    std::int64_t backoff_base_ms = 500;
    std::int64_t backoff_cap_ms = 10'000;
    std::int64_t stable_after_ms = 5'000;  // connected this long: the backoff starts over
    std::int64_t handshake_timeout_ms = 10'000;
    std::int64_t heartbeat_ms = 25'000;  // until welcome says otherwise
  };
  explicit Connection(Timings timings) : timings_(timings), heartbeat_ms_(timings.heartbeat_ms) {}

  const ConnectionView& view() const { return view_; }
  ConnectionView& view() { return view_; }
  ConnectionState state() const { return view_.state; }
  bool live() const { return view_.state == ConnectionState::connected; }
  bool handshaking() const {
    return view_.state == ConnectionState::connecting || view_.state == ConnectionState::authenticating;
  }
  // Whether the socket the core has open (the effect's id) is still ours.
  bool is_current(std::uint32_t socket) const { return socket == socket_; }
  std::uint32_t socket() const { return socket_; }
  bool socket_open() const { return socket_open_; }

  // ---- attempts (the caller sets the state that follows: connecting,
  // connected, backoff)
  // A new socket: its id.
  std::uint32_t begin_attempt(std::int64_t now);
  void socket_opened(std::int64_t now);
  void welcomed(std::int64_t heartbeat_ms, std::int64_t now);
  // The socket is gone (closed, dead, or given up): events from it are
  // stale from now on. Only a connection that lasted starts the backoff over.
  void lost();
  // In backoff: returns the wait before the next attempt, drawn from the
  // backoff range with `unit` in [0, 1), but not shorter than `at_least_ms`
  // nor than a wait the server asked for.
  std::int64_t backoff(std::int64_t now, double unit, std::int64_t at_least_ms = 0);
  // The upper bound of the next wait (1013 draws from its upper half).
  std::int64_t backoff_ceiling() const;
  // The server asked for a wait before the next attempt.
  void hold_until(std::int64_t at);
  void forget_attempts() { view_.attempt = 0; }
  // Sets the state; true when it changed.
  bool set_state(ConnectionState state);

  // ---- heartbeat
  void received(std::int64_t now);
  // No welcome within the handshake timeout (the socket never opened, or
  // opened and stays silent), or nothing from the server for two heartbeats.
  bool dead(std::int64_t now) const;
  // True when a ping should go now (once per quiet heartbeat).
  bool ping_due(std::int64_t now);
  // True once, when the connection has lasted long enough to be stable.
  bool became_stable(std::int64_t now);
  std::optional<std::int64_t> deadline() const;

 private:
  Timings timings_;
  ConnectionView view_;
  std::uint32_t socket_ = 0;  // id of the current socket; events for older ones are ignored
  bool socket_open_ = false;
  std::int64_t attempt_started_at_ = 0;
  std::int64_t retry_not_before_ = 0;  // the server's retryAfterMs for the connection
  std::int64_t heartbeat_ms_;
  std::int64_t last_received_at_ = 0;
  std::int64_t ping_sent_at_ = -1;
  std::int64_t connected_at_ = 0;
  bool stable_ = false;
};

}  // namespace parley::client
