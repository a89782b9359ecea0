// A message in the offline queue: what a reload must not lose of it (see
// state_blob.hpp), and whether it is on the wire now.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "parley/protocol/errors.hpp"
#include "parley/protocol/messages.hpp"

namespace parley::client {

struct QueuedSend {
  std::string room_id;
  std::string client_msg_id;
  protocol::Draft draft;
  std::int64_t created_at = 0;
  std::optional<protocol::Error> failed;  // refused for good: kept until retried or discarded
  bool in_flight = false;                 // sent on the current socket, not answered yet (not persisted)
};

}  // namespace parley::client
