#include "parley/client/connection.hpp"

#include <algorithm>

#include "backoff.hpp"

namespace parley::client {

std::uint32_t Connection::begin_attempt(std::int64_t now) {
  ++socket_;
  socket_open_ = false;
  last_received_at_ = now;
  attempt_started_at_ = now;
  return socket_;
}

void Connection::socket_opened(std::int64_t now) {
  socket_open_ = true;
  last_received_at_ = now;
}

void Connection::welcomed(std::int64_t heartbeat_ms, std::int64_t now) {
  retry_not_before_ = 0;
  heartbeat_ms_ = heartbeat_ms;
  connected_at_ = now;
  stable_ = false;
}

void Connection::lost() {
  ++socket_;
  socket_open_ = false;
  ping_sent_at_ = -1;
  if (stable_) view_.attempt = 0;
  stable_ = false;
}

std::int64_t Connection::backoff(std::int64_t now, double unit, std::int64_t at_least_ms) {
  std::int64_t delay = backoff_delay(view_.attempt, timings_.backoff_base_ms, timings_.backoff_cap_ms, unit);
  delay = std::max({delay, at_least_ms, retry_not_before_ - now});
  ++view_.attempt;
  view_.next_attempt_at = now + delay;
  return delay;
}

std::int64_t Connection::backoff_ceiling() const {
  return client::backoff_ceiling(view_.attempt, timings_.backoff_base_ms, timings_.backoff_cap_ms);
}

void Connection::hold_until(std::int64_t at) { retry_not_before_ = std::max(retry_not_before_, at); }

bool Connection::set_state(ConnectionState state) {
  if (view_.state == state) return false;
  view_.state = state;
  if (state != ConnectionState::reconnecting) view_.next_attempt_at.reset();
  return true;
}

void Connection::received(std::int64_t now) {
  last_received_at_ = now;
  ping_sent_at_ = -1;
}

bool Connection::dead(std::int64_t now) const {
  if (handshaking()) return now >= attempt_started_at_ + timings_.handshake_timeout_ms;
  return live() && now - last_received_at_ >= 2 * heartbeat_ms_;
}

bool Connection::ping_due(std::int64_t now) {
  if (!live() || ping_sent_at_ >= 0 || now - last_received_at_ < heartbeat_ms_) return false;
  ping_sent_at_ = now;
  return true;
}

bool Connection::became_stable(std::int64_t now) {
  if (!live() || stable_ || now - connected_at_ < timings_.stable_after_ms) return false;
  stable_ = true;
  view_.attempt = 0;
  return true;
}

std::optional<std::int64_t> Connection::deadline() const {
  if (handshaking()) return attempt_started_at_ + timings_.handshake_timeout_ms;
  if (!live()) return std::nullopt;
  std::int64_t at = last_received_at_ + (ping_sent_at_ >= 0 ? 2 : 1) * heartbeat_ms_;
  if (!stable_) at = std::min(at, connected_at_ + timings_.stable_after_ms);
  return at;
}

}  // namespace parley::client
