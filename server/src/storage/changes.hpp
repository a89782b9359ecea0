// What storing a message does to the messages it refers to, the same in
// every store (memory, SQLite, PostgreSQL). A change (edit, delete, react,
// unreact) is stored as a message of its own, with its own seq, and also
// applied to its target; a reply must answer a message of the room.
//
// Each store calls these inside the transaction that appends the message,
// after the seq and dedup checks, with the referenced message as stored:
//   refused = check_references(message, referenced)   -> append nothing
//   change_target(message, target)                   -> write the target back
// Who may change what (edit own, delete own or as owner/admin) is the hub's
// (access_policy); these check what only the stored state can tell.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parley/protocol/messages.hpp"
#include "parley/protocol/result.hpp"

namespace parley::server::store {

// The message `message` refers to: its target for a change, else the one it
// answers (replyTo); nullopt when it refers to none.
std::optional<std::string> referenced_id(const protocol::Message& message);

// Whether `message` may be stored given what it refers to (`referenced`, as
// stored, or nullptr when the room has no message of that id): refused with
// not_found for a missing, deleted or non-timeline message, with the path of
// the field (/message/target, /message/replyTo).
std::optional<protocol::Error> check_references(const protocol::Message& message, const protocol::Message* referenced);

// Applies a change to its target (as stored: reactor lists complete). Returns
// a refusal (the 21st distinct emoji: too_large) and leaves the target alone,
// or nullopt. A react by a user already listed, or an unreact by one not
// listed, changes nothing and is not refused.
std::optional<protocol::Error> change_target(const protocol::Message& change, protocol::Message& target);

// What a reply shows of `original` (as stored).
protocol::Quote quote_of(const protocol::Message& original);

// A stored message as the wire carries it: reactor lists cut to the first
// kMaxListedReactors (count stays exact), no empty reactions list.
void trim_for_wire(protocol::Message& message);

// Reactions in one column: "emoji\x1Fuser\x1Fuser\x1E..." (neither separator
// can occur in an emoji or a user id), complete lists; "" for none.
std::string encode_reactions(const std::optional<std::vector<protocol::Reaction>>& reactions);
// Throws std::runtime_error for text this version did not write.
std::optional<std::vector<protocol::Reaction>> decode_reactions(std::string_view text);

}  // namespace parley::server::store
