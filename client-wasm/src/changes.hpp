// How a change message (edit, delete, react, unreact) sets the message it
// targets. The same rule applies the server's changes to the confirmed
// state and this client's pending ones on top of it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parley/protocol/messages.hpp"

namespace parley::client {

// Each change is a "set", so applying one twice, or after a message that
// already includes it (a replay brings targets in their current state and
// then the changes), leaves the same result: an edit sets content and
// updatedAt (a tombstone ignores it); a delete makes a tombstone (no content,
// metadata or reactions); react adds `by` to the emoji's reactors (a new
// emoji is appended) unless listed; unreact removes them (the emoji goes at
// count 0). Past kMaxListedReactors the server lists only the first
// reactors while `count` is exact: a reactor who is not listed cannot be told
// apart from one who never reacted, so react then counts one more and
// unreact one less (best effort, set right by the next page or rejoin).
void apply_change(protocol::Message& target, std::string_view type, const std::string& content, const std::string& by,
                  std::int64_t at);

// Whether `user` is among the listed reactors of `emoji` on `message`.
bool reacted(const protocol::Message& message, std::string_view emoji, const std::string& user);

}  // namespace parley::client
