// A message in the offline queue: what a reload must not lose of it (see
// state_blob.hpp), and whether it is on the wire now.
//
// Besides new messages, the queue holds changes to earlier ones (drafts of
// type edit, delete, react, unreact, whose `target` is the server id of the
// message they change): they travel like any send, in order, deduplicated by
// their own clientMsgId.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "parley/protocol/errors.hpp"
#include "parley/protocol/messages.hpp"

namespace parley::client {

struct QueuedSend {
  std::string room_id;
  std::string client_msg_id;
  protocol::Draft draft;
  std::int64_t created_at = 0;
  std::optional<protocol::Error> failed;  // refused for good: kept until retried or discarded
  // Held by the app until it says so (an attachment still uploading): it and
  // the later messages of its room wait; changes of the room do not.
  bool held = false;
  // The key (clientMsgId) of a send of ours whose server id this one needs
  // (a change's target, or a reply's original) and which is not acknowledged
  // yet; empty when none. Set to the id when the ack comes.
  std::string waits_for = {};
  bool in_flight = false;    // sent on the current socket, not answered yet (not persisted)
  std::int64_t sent_at = 0;  // when it went on the wire (not persisted): changes time out
};

// Whether a message type is a change (edit, delete, react, unreact) rather
// than a line of the timeline (text, image, file, system). The protocol's
// eight types differ in their first letter, which is all this looks at: it
// runs in every pass over the queue, and one byte costs the WebAssembly
// module less than protocol::is_change_type's four comparisons (a test holds
// the two to the same answers).
inline bool is_change(std::string_view type) {
  char c = type.empty() ? 't' : type[0];
  return c == 'e' || c == 'd' || c == 'r' || c == 'u';
}

}  // namespace parley::client
