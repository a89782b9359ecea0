#include "client_frame.hpp"

namespace parley::bench {

void append_client_frame(std::string& out, Opcode opcode, std::string_view payload, std::uint32_t mask) {
  std::size_t n = payload.size();
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
  if (n < 126) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>((n >> 8) & 0xFF));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  char key[4] = {static_cast<char>(mask >> 24), static_cast<char>(mask >> 16), static_cast<char>(mask >> 8),
                 static_cast<char>(mask)};
  out.append(key, 4);
  std::size_t at = out.size();
  out.append(payload);
  for (std::size_t i = 0; i < n; ++i) out[at + i] = static_cast<char>(out[at + i] ^ key[i & 3]);
}

ParseResult parse_server_frame(std::string_view data, ServerFrame& frame, std::size_t& consumed) {
  if (data.size() < 2) return ParseResult::incomplete;
  auto b0 = static_cast<std::uint8_t>(data[0]);
  auto b1 = static_cast<std::uint8_t>(data[1]);
  if ((b0 & 0x70) != 0) return ParseResult::error;  // no extension was negotiated
  if ((b1 & 0x80) != 0) return ParseResult::error;  // a server never masks
  std::uint64_t length = b1 & 0x7F;
  std::size_t header = 2;
  if (length == 126) {
    if (data.size() < 4) return ParseResult::incomplete;
    length = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[2])) << 8) | static_cast<std::uint8_t>(data[3]);
    header = 4;
  } else if (length == 127) {
    if (data.size() < 10) return ParseResult::incomplete;
    length = 0;
    for (std::size_t i = 2; i < 10; ++i) length = (length << 8) | static_cast<std::uint8_t>(data[i]);
    header = 10;
    if (length > (std::uint64_t{1} << 32)) return ParseResult::error;
  }
  if (data.size() - header < length) return ParseResult::incomplete;
  frame.fin = (b0 & 0x80) != 0;
  frame.opcode = b0 & 0x0F;
  frame.payload = data.substr(header, static_cast<std::size_t>(length));
  consumed = header + static_cast<std::size_t>(length);
  return ParseResult::frame;
}

}  // namespace parley::bench
