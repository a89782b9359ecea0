// WebSocket framing for the client side of the load generator (RFC 6455):
// the encoder of client frames (always masked) and a parser of server frames
// (never masked). The server's own framing (server/src/ws/frame.hpp) works in
// the other direction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::bench {

enum class Opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// Appends one masked frame (FIN set) carrying `payload` to `out`.
void append_client_frame(std::string& out, Opcode opcode, std::string_view payload, std::uint32_t mask);

struct ServerFrame {
  bool fin = true;
  std::uint8_t opcode = 0;
  std::string_view payload;  // points into the parsed bytes
};

enum class ParseResult : std::uint8_t { frame, incomplete, error };

// Parses the first frame of `data`. On `frame`, `consumed` is the number of
// bytes it took (header and payload).
ParseResult parse_server_frame(std::string_view data, ServerFrame& frame, std::size_t& consumed);

}  // namespace parley::bench
