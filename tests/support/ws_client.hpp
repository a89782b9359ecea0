// A blocking WebSocket client for server tests (Boost.Beast), with timeouts.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace parley::test {

struct Closed {
  std::uint16_t code = 0;
  std::string reason;
};

class WsClient {
 public:
  // Connects to 127.0.0.1:port/ws offering `subprotocol` (none if empty);
  // a `receive_buffer` (bytes) shrinks the socket's kernel receive buffer.
  explicit WsClient(std::uint16_t port, const std::string& subprotocol = "parley.v1.json", int receive_buffer = 0);
  ~WsClient();

  void send(const std::string& frame);
  // A WebSocket ping (payload up to 125 bytes); the pong is read like any frame.
  void ping(const std::string& payload);
  // The next frame, or nullopt if the socket closed (closed() says how) or
  // nothing arrived in time (closed() has code 0: the client is unusable).
  std::optional<std::string> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  const std::optional<Closed>& closed() const { return closed_; }
  std::string negotiated_subprotocol() const { return subprotocol_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::optional<Closed> closed_;
  std::string subprotocol_;
};

// An HTTP GET on 127.0.0.1:port; returns "<status> <body>".
std::string http_get(std::uint16_t port, const std::string& target);
// Any HTTP request, with an optional bearer token; returns "<status> <body>".
std::string http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& bearer);
// The HTTP status of a WebSocket upgrade offering `subprotocol`.
int upgrade_status(std::uint16_t port, const std::string& subprotocol);

}  // namespace parley::test
