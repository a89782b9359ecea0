// A connected client as the rest of the server sees it: something frames can
// be delivered to, from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "parley/protocol/codec.hpp"

namespace parley::server {

// An encoded frame, shared by every recipient of a broadcast.
using SharedFrame = std::shared_ptr<const std::string>;

class Peer {
 public:
  virtual ~Peer() = default;
  virtual protocol::Codec codec() const = 0;
  // Queues a frame encoded in codec(); callable from any thread.
  virtual void deliver(SharedFrame frame) = 0;
  // Sends a close frame once the queued frames are out; callable from any thread.
  virtual void close(std::uint16_t code, std::string reason) = 0;
};

}  // namespace parley::server
