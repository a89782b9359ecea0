// A connected client as the rest of the server sees it, and fan-out: how a
// frame reaches many peers spread over worker threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parley/protocol/codec.hpp"

namespace parley::server {

// A server frame ready for the wire: WebSocket header and payload in one
// buffer, built once and shared by every recipient.
struct OutFrame {
  std::string bytes;
  std::uint8_t type = 0;  // index in s2c::Frame, for metrics
};
using SharedFrame = std::shared_ptr<const OutFrame>;

SharedFrame make_out_frame(const protocol::s2c::Frame& frame, protocol::Codec codec);

class Peer {
 public:
  virtual ~Peer() = default;
  virtual protocol::Codec codec() const = 0;
  virtual std::size_t worker() const = 0;
  // Queues a frame; only on the peer's worker thread.
  virtual void deliver_local(const SharedFrame& frame) = 0;
  // Closes once the queued frames are out; from any thread.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

// A frame for some peers of one worker, encoded once per codec.
struct Delivery {
  std::vector<std::shared_ptr<Peer>> peers;
  SharedFrame frames[2];  // by protocol::Codec
};

// Hands deliveries to the workers. Each worker takes them in the order they
// were handed over, whatever thread handed them: a room fans out under its
// lock, so every subscriber gets the room's frames in seq order, and a
// connection's replies keep their place among them.
class Dispatch {
 public:
  virtual ~Dispatch() = default;
  virtual void deliver(std::size_t worker, Delivery delivery) = 0;
};

// Delivers `frame` to every peer, encoding it once per codec.
void fan_out(Dispatch& dispatch, const std::vector<std::shared_ptr<Peer>>& peers, const protocol::s2c::Frame& frame);

}  // namespace parley::server
