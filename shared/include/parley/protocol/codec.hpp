// The two wire codecs of protocol v1 behind one interface.
//
//   json    text frames, one idiomatic camelCase JSON object per frame
//   binary  the same structs in a little-endian cereal archive (docs/protocol.md)
//
// Decoding checks every field against the rules generated from
// shared/schemas/ (types, required, lengths, id forms, enums, ranges, array
// sizes), rejects unknown fields, unknown types, a wrong version and trailing
// bytes, and never throws: failures come back as an Error with a stable code
// and the JSON pointer of the offending field.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "parley/protocol/messages.hpp"
#include "parley/protocol/result.hpp"

namespace parley::protocol {

enum class Codec : std::uint8_t { json, binary };

std::string_view subprotocol(Codec codec);
std::optional<Codec> codec_for_subprotocol(std::string_view name);

std::string encode(const c2s::Frame& frame, Codec codec);
std::string encode(const s2c::Frame& frame, Codec codec);

Result<c2s::Frame> decode_client_frame(std::string_view bytes, Codec codec);
Result<s2c::Frame> decode_server_frame(std::string_view bytes, Codec codec);

// The JSON codec alone, for peers that speak only JSON (the browser client):
// linking these instead of the dispatching functions leaves the binary codec out.
std::string encode_json(const c2s::Frame& frame);
Result<s2c::Frame> decode_server_json(std::string_view bytes);

// The wire `type` of a frame ("hello", "message", ...).
std::string_view type_name(const c2s::Frame& frame);
std::string_view type_name(const s2c::Frame& frame);

// Checks a value against the schema's form for user ids and display names
// (for identities that arrive outside frames, such as JWT claims).
std::optional<Error> check_user_id(std::string_view user_id);
std::optional<Error> check_user_name(std::string_view name);
// Checks what a client is about to send, before it is queued: the room id
// and the draft's type, content and reply, with their frame paths.
std::optional<Error> check_draft(std::string_view room_id, const Draft& draft);

// The `ref` of a request, if it has one.
std::optional<std::string> ref_of(const c2s::Frame& frame);

}  // namespace parley::protocol
