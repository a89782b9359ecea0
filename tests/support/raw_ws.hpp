// A raw TCP client for hostile and conformance tests: it writes exactly the
// bytes a test gives it (any header, any frame, malformed on purpose) and
// reads the server's frames and close code as a peer on the wire sees them.
// Blocking POSIX sockets with deadlines; no WebSocket library in between.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace parley::test {

// One client frame as bytes. Defaults: FIN, masked, no reserved bits, the
// shortest length encoding.
struct FrameSpec {
  std::uint8_t opcode = 0x1;
  std::string payload;
  bool fin = true;
  bool mask = true;
  std::uint8_t rsv = 0;  // the three reserved bits, as 0..7 (RSV1 = 4)
  // Forces the 7-bit length field (126, 127 or a value < 126) and writes
  // `length` in the extended field, whatever the payload's size.
  std::optional<std::uint8_t> length_code;
  std::optional<std::uint64_t> length;
};
std::string client_frame(const FrameSpec& spec);
std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin = true);
std::string close_payload(std::uint16_t code, std::string_view reason = "");

struct HttpResponse {
  int status = 0;                              // 0: no response (the connection closed or timed out)
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string header(const std::string& name) const;
};

struct ServerFrame {
  std::uint8_t opcode = 0;
  bool fin = false;
  std::uint8_t rsv = 0;
  bool masked = false;
  std::string payload;
};

class RawSocket {
 public:
  // `source`: a local address to connect from ("127.0.0.2": another client
  // address on the loopback), or the system's choice when empty.
  explicit RawSocket(std::uint16_t port, int receive_buffer = 0, const std::string& source = "");
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  // Writes everything (or as much as the peer takes before `timeout`);
  // false if the connection broke or the time ran out.
  bool write(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void shutdown_write();
  // Reads what arrives within `timeout` into the buffer; false on EOF or error.
  bool fill(std::chrono::milliseconds timeout);
  // The HTTP response head (and a Content-Length body) once it is in.
  HttpResponse read_http(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // The next server frame; nullopt on EOF, reset or timeout (see eof()).
  std::optional<ServerFrame> read_frame(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Whether the peer ended the connection (FIN or reset) and how.
  bool eof() const { return eof_; }
  bool reset() const { return reset_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::string in_;
  bool eof_ = false;
  bool reset_ = false;
};

// The close a peer observed: the code of the server's close frame (1005 if it
// had none), 1006 when the connection ended without one, 0 on timeout.
struct CloseSeen {
  std::uint16_t code = 0;
  std::string reason;
  bool tcp_closed = false;  // the server then ended the TCP connection (FIN)
  bool reset = false;       // ... or reset it
};

// A WebSocket connection over a RawSocket, after a valid upgrade.
class RawWs {
 public:
  // Upgrades with the given subprotocol (none if empty); the upgrade must succeed.
  explicit RawWs(std::uint16_t port, const std::string& subprotocol = "parley.v1.json", int receive_buffer = 0,
                 const std::string& source = "");

  bool send_raw(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return socket_.write(bytes, timeout);
  }
  bool send(const FrameSpec& spec) { return send_raw(client_frame(spec)); }
  bool send_text(std::string_view text) { return send_raw(client_frame(0x1, text)); }
  // `hello` with a valid token for `user`; true once `welcome` came.
  bool hello(const std::string& user);

  // The next data frame's payload, answering pings and skipping nothing
  // else; nullopt on close or timeout (then closed() says what was seen).
  std::optional<ServerFrame> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads until the server's close frame (echoing it, as a client must)
  // and then the end of the TCP connection.
  CloseSeen wait_close(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  RawSocket& socket() { return socket_; }

 private:
  RawSocket socket_;
};

// The status of an upgrade request written verbatim ("GET /ws HTTP/1.1\r\n...").
HttpResponse raw_http(std::uint16_t port, const std::string& request);
// A valid upgrade request with `extra` header lines ("Name: value\r\n"),
// where `drop` names headers of the valid request to leave out.
std::string upgrade_request(const std::string& extra = "", const std::string& drop = "");

// A client that connects, says hello, pings and gets its pong: proof that
// parleyd still serves. Returns an explanation when it does not.
// `source` as for RawSocket.
std::optional<std::string> check_served(std::uint16_t port, const std::string& source = "");

}  // namespace parley::test
