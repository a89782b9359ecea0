#include "frame.hpp"

#include <algorithm>

#include "parley/protocol/utf8.hpp"

namespace parley::server::ws {

namespace {

void append_header(std::string& out, Opcode opcode, std::size_t length) {
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
  if (length < 126) {
    out.push_back(static_cast<char>(length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(length) >> shift) & 0xFF));
    }
  }
}

bool valid_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

}  // namespace

std::string make_frame(Opcode opcode, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  append_header(out, opcode, payload.size());
  out.append(payload);
  return out;
}

std::string make_close_frame(std::uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));  // control frames carry at most 125 bytes
  return make_frame(Opcode::close, payload);
}

void Parser::fail(std::uint16_t code, std::string reason) {
  failure_ = std::make_unique<Failure>(Failure{code, std::move(reason)});
  header_size_ = 0;
  control_.clear();
  control_.shrink_to_fit();
  message_.clear();
  message_.shrink_to_fit();
}

std::optional<Failure> Parser::feed(std::string_view data, std::vector<Event>& out) {
  while (!data.empty() && !failure_) {
    if (!in_payload_) {
      // Take header bytes one at a time until the header is whole: at most 14.
      header_[header_size_++] = static_cast<std::uint8_t>(data.front());
      data.remove_prefix(1);
      if (!header_complete()) continue;
      in_payload_ = true;
      header_size_ = 0;
      if (remaining_ == 0) finish_frame(out);
      continue;
    }
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
    std::string& dest = opcode_ >= 0x8 ? control_ : message_;
    std::size_t start = dest.size();
    dest.append(data.substr(0, n));
    for (std::size_t i = start; i < dest.size(); ++i) dest[i] = static_cast<char>(dest[i] ^ mask_[mask_at_++ & 3]);
    data.remove_prefix(n);
    remaining_ -= n;
    if (remaining_ == 0) finish_frame(out);
  }
  if (failure_) return *failure_;
  return std::nullopt;
}

bool Parser::header_complete() {
  if (header_size_ < 2) return false;
  std::uint8_t b0 = header_[0];
  std::uint8_t b1 = header_[1];
  std::size_t length_bytes = (b1 & 0x7F) == 126 ? 2 : (b1 & 0x7F) == 127 ? 8 : 0;
  if (header_size_ == 2) {
    // Everything about the frame but its long length can be checked now.
    fin_ = (b0 & 0x80) != 0;
    opcode_ = b0 & 0x0F;
    if ((b0 & 0x70) != 0) return fail(1002, "reserved bits set"), false;
    if (opcode_ > 0xA || (opcode_ > 0x2 && opcode_ < 0x8)) return fail(1002, "unknown opcode"), false;
    if ((b1 & 0x80) == 0) return fail(1002, "client frames must be masked"), false;
    if (opcode_ >= 0x8 && !fin_) return fail(1002, "fragmented control frame"), false;
    if (opcode_ >= 0x8 && (b1 & 0x7F) > 125) return fail(1002, "control frame longer than 125 bytes"), false;
    if (opcode_ == 0x0 && !fragmented_) return fail(1002, "continuation without a message"), false;
    if ((opcode_ == 0x1 || opcode_ == 0x2) && fragmented_)
      return fail(1002, "new message inside a fragmented one"), false;
  }
  if (header_size_ < 2 + length_bytes + 4) return false;

  std::uint64_t length = b1 & 0x7F;
  if (length_bytes > 0) {
    length = 0;
    for (std::size_t i = 0; i < length_bytes; ++i) length = (length << 8) | header_[2 + i];
    if (length >> 63) return fail(1002, "frame length out of range"), false;
    // RFC 6455 5.2: the minimal number of bytes must be used.
    if (length < (length_bytes == 2 ? 126u : 0x10000u))
      return fail(1002, "frame length not in its shortest form"), false;
  }
  if (opcode_ < 0x8 && message_.size() + length > max_message_) {
    return fail(1009, "message larger than the limit of " + std::to_string(max_message_) + " bytes"), false;
  }
  for (std::size_t i = 0; i < 4; ++i) mask_[i] = header_[2 + length_bytes + i];
  mask_at_ = 0;
  remaining_ = length;
  if (opcode_ != 0x0 && opcode_ < 0x8) fragmented_ = static_cast<Opcode>(opcode_);
  return true;
}

void Parser::finish_frame(std::vector<Event>& out) {
  in_payload_ = false;
  if (opcode_ >= 0x8) {
    Event e;
    e.payload = std::move(control_);
    control_.clear();
    if (opcode_ == 0x8) {
      e.kind = Event::Kind::close;
      if (e.payload.size() == 1) return fail(1002, "close frame with a 1-byte payload");
      if (e.payload.size() >= 2) {
        e.close_code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(e.payload[0]) << 8) |
                                                  static_cast<std::uint8_t>(e.payload[1]));
        if (!valid_close_code(e.close_code)) return fail(1002, "invalid close code");
        e.payload.erase(0, 2);
        if (!protocol::utf8_length(e.payload)) return fail(1007, "close reason is not UTF-8");
      }
    } else {
      e.kind = opcode_ == 0x9 ? Event::Kind::ping : Event::Kind::pong;
    }
    out.push_back(std::move(e));
    return;
  }
  if (!fin_) return;  // more fragments to come
  Event e;
  e.kind = *fragmented_ == Opcode::text ? Event::Kind::text : Event::Kind::binary;
  fragmented_.reset();
  e.payload = std::move(message_);
  message_.clear();
  if (e.kind == Event::Kind::text && !protocol::utf8_length(e.payload)) return fail(1007, "text message is not UTF-8");
  out.push_back(std::move(e));
}

}  // namespace parley::server::ws
