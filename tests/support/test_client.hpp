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
// parleyd's metric `name` now, from /metrics.
double metric_now(std::uint16_t port, const std::string& name);
// Polls /metrics until `name` equals `value` or `timeout` passes (for state
// that settles on the server's own timers); returns the last value seen.
double metric_when(std::uint16_t port, const std::string& name, double value,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Reading frames.
inline std::string str(const rapidjson::Value& doc, const char* key) {
  return doc.IsObject() && doc.HasMember(key) && doc[key].IsString() ? doc[key].GetString() : "";
}

inline std::int64_t seq_of(const Json& frame) { return frame["message"]["seq"].GetInt64(); }

inline std::vector<std::int64_t> seqs(const rapidjson::Value& messages) {
  std::vector<std::int64_t> out;
  for (const auto& m : messages.GetArray()) out.push_back(m["seq"].GetInt64());
  return out;
}

inline std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto i = from; i <= to; ++i) out.push_back(i);
  return out;
}

inline std::string cmid(const std::string& prefix, int i) { return "c_" + prefix + "_" + std::to_string(1000 + i); }

}  // namespace parley::test
