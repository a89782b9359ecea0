#include "parley/protocol/codec.hpp"

#include "codecs.hpp"
#include "parley/protocol/version.hpp"
#include "rules.hpp"

namespace parley::protocol {

std::string_view subprotocol(Codec codec) { return codec == Codec::binary ? subprotocol_binary : subprotocol_json; }

std::optional<Codec> codec_for_subprotocol(std::string_view name) {
  if (name == subprotocol_json) return Codec::json;
  if (name == subprotocol_binary) return Codec::binary;
  return std::nullopt;
}

std::string encode(const c2s::Frame& frame, Codec codec) {
  return codec == Codec::binary ? detail::encode_binary(frame) : detail::encode_json(frame);
}

std::string encode(const s2c::Frame& frame, Codec codec) {
  return codec == Codec::binary ? detail::encode_binary(frame) : detail::encode_json(frame);
}

Result<c2s::Frame> decode_client_frame(std::string_view bytes, Codec codec) {
  auto result = codec == Codec::binary ? detail::decode_binary_client(bytes) : detail::decode_json_client(bytes);
  if (result) {
    if (const auto* hello = std::get_if<c2s::Hello>(&result.value()); hello && hello->v != protocol_version) {
      return Error{ErrorCode::unsupported_version,
                   PARLEY_WORDS("protocol version " + std::to_string(hello->v) +
                                " is not supported; this server speaks " + std::to_string(protocol_version)),
                   "/v"};
    }
  }
  return result;
}

std::string encode_json(const c2s::Frame& frame) { return detail::encode_json(frame); }

Result<s2c::Frame> decode_server_json(std::string_view bytes) { return detail::decode_json_server(bytes); }

Result<s2c::Frame> decode_server_frame(std::string_view bytes, Codec codec) {
  return codec == Codec::binary ? detail::decode_binary_server(bytes) : detail::decode_json_server(bytes);
}

std::string_view type_name(const c2s::Frame& frame) {
  return std::visit([](const auto& f) { return f.type; }, frame);
}

std::string_view type_name(const s2c::Frame& frame) {
  return std::visit([](const auto& f) { return f.type; }, frame);
}

namespace {
std::optional<Error> check_with_rule(std::string_view key, std::string_view value, const char* what) {
  const detail::FieldRule* rule = detail::find_rule(detail::server_frame_rules(), key);
  if (!rule) return Error{ErrorCode::internal, PARLEY_WORDS("no schema rule for " + std::string(key)), ""};
  auto error = detail::check_string(*rule, value, "");
  if (error) error->message = what + error->message.substr(std::string_view("the frame").size());
  return error;
}
}  // namespace

std::optional<Error> check_draft(std::string_view room_id, const Draft& draft) {
  auto check = [](std::string_view key, std::string_view value, const char* path) -> std::optional<Error> {
    // The stored message's rules (server frames) are the draft's too.
    const detail::FieldRule* rule = detail::find_rule(detail::server_frame_rules(), key);
    if (!rule) return Error{ErrorCode::internal, PARLEY_WORDS("no schema rule for " + std::string(key)), path};
    return detail::check_string(*rule, value, path);
  };
  if (auto e = check("#message/roomId", room_id, "/roomId")) return e;
  if (auto e = check("#message/type", draft.type, "/message/type")) return e;
  if (auto e = check("#message/content", draft.content, "/message/content")) return e;
  if (draft.replyTo) return check("#message/replyTo", *draft.replyTo, "/message/replyTo");
  return std::nullopt;
}

std::optional<Error> check_user_id(std::string_view user_id) {
  return check_with_rule("#user/id", user_id, "the user id");
}

std::optional<Error> check_user_name(std::string_view name) { return check_with_rule("#user/name", name, "the name"); }

std::optional<std::string> ref_of(const c2s::Frame& frame) {
  return std::visit([](const auto& f) -> std::optional<std::string> { return f.ref; }, frame);
}

}  // namespace parley::protocol
