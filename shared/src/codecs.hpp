// Codec implementations behind codec.hpp. Private to the protocol library.
#pragma once

#include <string>
#include <string_view>

#include "parley/protocol/messages.hpp"
#include "parley/protocol/result.hpp"

namespace parley::protocol::detail {

std::string encode_json(const c2s::Frame& frame);
std::string encode_json(const s2c::Frame& frame);
Result<c2s::Frame> decode_json_client(std::string_view text);
Result<s2c::Frame> decode_json_server(std::string_view text);

std::string encode_binary(const c2s::Frame& frame);
std::string encode_binary(const s2c::Frame& frame);
Result<c2s::Frame> decode_binary_client(std::string_view bytes);
Result<s2c::Frame> decode_binary_server(std::string_view bytes);

}  // namespace parley::protocol::detail
