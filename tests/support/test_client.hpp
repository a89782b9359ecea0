// A protocol-level client for server tests: says hello, joins, sends, and
// waits for a frame of a given type while keeping the others it sees.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/parleyd_process.hpp"
#include "support/ws_client.hpp"

namespace parley::test {

using Json = rapidjson::Document;
Json parse_json(const std::string& text);

class TestClient {
 public:
  // Connects and, unless `token` is empty, says hello with it (expecting welcome).
  TestClient(std::uint16_t port, const std::string& user, const std::string& token_override = "",
             int receive_buffer = 0);

  // Joins and returns the `joined` frame (or the error, if refused).
  Json join(const std::string& room, std::optional<std::int64_t> since_seq = std::nullopt);
  // Sends a text message with a ref; returns the answer (ack or error).
  Json send_text(const std::string& room, const std::string& client_msg_id, const std::string& content);
  // Sends any frame; `request` answers return the frame answering `ref`.
  void send(const std::string& frame) { ws_->send(frame); }
  Json request(const std::string& frame, const std::string& ref);
  // The frame answering `ref` (a null document when none arrives in time).
  Json answer(const std::string& ref);

  // The next frame of `type` (others are kept for later calls); a null
  // document when none arrives in time or the connection closed.
  Json next(const std::string& type, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Every frame of `type` received up to a ping round trip from now.
  std::vector<std::string> drain(const std::string& type);
  const std::optional<Closed>& closed() const { return ws_->closed(); }
  // Waits for the server to close the connection; its close code (0 on timeout).
  std::uint16_t wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  WsClient& raw() { return *ws_; }
  std::string user;

 private:
  std::unique_ptr<WsClient> ws_;
  std::deque<std::string> kept_;
  int next_ref_ = 0;
};

// The value of a metric line in Prometheus text ("name{labels} value"), or -1.
double metric(const std::string& metrics_text, const std::string& name);

}  // namespace parley::test
