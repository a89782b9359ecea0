// WebSocket framing (RFC 6455) for the server side, without I/O: a parser for
// client frames and the encoder of server frames. Parley frames its own
// messages so that a connection can send many queued frames in one gathered
// write, and so that a broadcast frame (header included) is built once and
// shared by every recipient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::server::ws {

enum class Opcode : std::uint8_t { continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// A server frame: FIN set, unmasked. The header is at most 10 bytes.
std::string make_frame(Opcode opcode, std::string_view payload);
std::string make_close_frame(std::uint16_t code, std::string_view reason);

struct Event {
  enum class Kind : std::uint8_t { text, binary, ping, pong, close };
  Kind kind = Kind::text;
  std::string payload;              // the message, ping/pong data, or the close reason
  std::uint16_t close_code = 1005;  // close: 1005 when the peer sent no code
};

// Why the stream is unusable: close the connection with `code`.
struct Failure {
  std::uint16_t code = 1002;
  std::string reason;
};

// Incremental parser of client frames: masked, possibly fragmented, with
// control frames interleaved. Each input byte is looked at once, however the
// stream is split (a peer dripping bytes cannot make it quadratic), and only
// the current frame's header, a control frame's payload and the fragments of
// the current message are held.
class Parser {
 public:
  explicit Parser(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // Consumes `data`, appending complete events to `out`. Returns a Failure
  // once the stream breaks the protocol; later input is then ignored.
  std::optional<Failure> feed(std::string_view data, std::vector<Event>& out);

  // Bytes held for incomplete frames and messages.
  std::size_t buffered() const { return header_size_ + control_.size() + message_.size(); }

 private:
  bool header_complete();  // validates the header once all of it is in
  void finish_frame(std::vector<Event>& out);
  void fail(std::uint16_t code, std::string reason);

  // Widest first, small counters as bytes: every connection has a parser.
  std::size_t max_message_;
  std::uint64_t remaining_ = 0;
  std::string control_;               // the payload of the control frame being read
  std::string message_;               // the fragments of the message being read
  std::unique_ptr<Failure> failure_;  // rare: no room for it in every connection
  std::uint8_t header_[14] = {};      // 2 + up to 8 length bytes + 4 mask bytes
  std::uint8_t mask_[4] = {};
  std::uint8_t header_size_ = 0;
  std::uint8_t mask_at_ = 0;  // only its value mod 4 matters
  std::uint8_t opcode_ = 0;
  bool in_payload_ = false;
  bool fin_ = false;
  std::optional<Opcode> fragmented_;  // that message's opcode
};

}  // namespace parley::server::ws
