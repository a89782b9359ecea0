// Protocol version and the WebSocket subprotocols that carry it.
#pragma once

#include <string_view>

namespace parley::protocol {

inline constexpr int protocol_version = 1;
inline constexpr std::string_view subprotocol_json = "parley.v1.json";
inline constexpr std::string_view subprotocol_binary = "parley.v1.bin";

}  // namespace parley::protocol
