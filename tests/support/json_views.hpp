// The views as the browser sees them: the test side reads Core::room_json
// and Core::connection_json, the JSON the JS wrapper hands to React, into
// plain structs. The native suites assert on these, so what they check is
// the view that ships (there is no second, test-only view path in the core).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/client/views.hpp"
#include "parley/protocol/errors.hpp"
#include "parley/protocol/messages.hpp"

namespace parley::test {

struct ViewReaction {
  std::string emoji;
  std::int64_t count = 0;
  std::vector<std::string> user_ids;
  bool mine = false;
};

// A reply's quote, as the view shows it.
struct ViewQuote {
  std::string sender_id;
  std::string sender_name;
  std::string excerpt;
  bool deleted = false;
};

struct ViewItem {
  std::string key;
  protocol::Message message;  // with updatedAt, deletedAt (reactions and quote are below)
  client::MessageStatus status = client::MessageStatus::sent;
  std::optional<protocol::Error> error;
  std::string error_change;  // the change of ours the error is about ("" for a send's)
  bool timed_out = false;    // error code "timeout" (error->code reads internal)
  bool mine = false;
  std::vector<std::string> read_by;
  bool edited = false;
  bool deleted = false;
  bool held = false;
  bool change_pending = false;
  std::vector<ViewReaction> reactions;
  std::optional<ViewQuote> quote;  // a reply's, when it has one
  // Reactions as "emoji:count" (with "*" when mine), for short assertions.
  std::vector<std::string> reaction_summary() const;
};

struct TypingUser {
  std::string user_id;
  std::string name;
};

struct RoomView {
  std::string room_id;
  bool joined = false;
  std::vector<ViewItem> items;
  std::vector<protocol::Member> members;
  std::vector<TypingUser> typing;
  bool has_more = false;
  bool loading_older = false;
};

// Parses connection_json's output into the core's own struct (the JSON is
// written from one: reading it back checks every field crosses).
client::ConnectionView parse_connection_view(const std::string& json);

// Parses room_json's output; a field missing or of the wrong type fails the
// test that reads it (the wrapper would misread it too).
RoomView parse_room_view(const std::string& json);

}  // namespace parley::test
