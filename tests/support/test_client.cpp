#include "test_client.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

namespace parley::test {

Json parse_json(const std::string& text) {
  Json doc;
  doc.Parse(text.c_str());
  return doc;
}

namespace {
std::string type_of(const std::string& frame) {
  Json doc = parse_json(frame);
  if (!doc.IsObject() || !doc.HasMember("type") || !doc["type"].IsString()) return "";
  return doc["type"].GetString();
}
std::string ref_of(const std::string& frame) {
  Json doc = parse_json(frame);
  if (!doc.IsObject() || !doc.HasMember("ref") || !doc["ref"].IsString()) return "";
  return doc["ref"].GetString();
}
}  // namespace

TestClient::TestClient(std::uint16_t port, const std::string& user_id, const std::string& token_override,
                       int receive_buffer)
    : user(user_id), ws_(std::make_unique<WsClient>(port, "parley.v1.json", receive_buffer)) {
  std::string token = token_override.empty() ? token_for(user_id, user_id) : token_override;
  if (token == "-") return;  // no hello
  ws_->send(R"({"type":"hello","ref":"hello","v":1,"token":")" + token + R"("})");
  if (token_override.empty()) {
    Json welcome = next("welcome");
    EXPECT_TRUE(welcome.IsObject()) << user << " was not welcomed";
  }
}

Json TestClient::join(const std::string& room, std::optional<std::int64_t> since_seq) {
  std::string ref = "j" + std::to_string(++next_ref_);
  std::string frame = R"({"type":"join","ref":")" + ref + R"(","roomId":")" + room + "\"";
  if (since_seq) frame += ",\"sinceSeq\":" + std::to_string(*since_seq);
  return request(frame + "}", ref);
}

Json TestClient::send_text(const std::string& room, const std::string& client_msg_id, const std::string& content) {
  std::string ref = "s" + std::to_string(++next_ref_);
  return request(R"({"type":"send","ref":")" + ref + R"(","roomId":")" + room + R"(","clientMsgId":")" + client_msg_id +
                     R"(","message":{"type":"text","content":")" + content + R"("}})",
                 ref);
}

Json TestClient::request(const std::string& frame, const std::string& ref) {
  ws_->send(frame);
  return answer(ref);
}

Json TestClient::answer(const std::string& ref) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (ref_of(*it) == ref) {
      std::string hit = *it;
      kept_.erase(it);
      return parse_json(hit);
    }
  }
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = ws_->receive(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    if (!f) break;
    if (ref_of(*f) == ref) return parse_json(*f);
    kept_.push_back(*f);
  }
  return Json();
}

Json TestClient::next(const std::string& type, std::chrono::milliseconds timeout) {
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (type_of(*it) == type) {
      std::string hit = *it;
      kept_.erase(it);
      return parse_json(hit);
    }
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto f = ws_->receive(std::max(left, std::chrono::milliseconds(1)));
    if (!f) break;
    if (type_of(*f) == type) return parse_json(*f);
    kept_.push_back(*f);
  }
  return Json();
}

std::vector<std::string> TestClient::drain(const std::string& type) {
  // The pong comes after everything the server queued for us before it.
  std::string ref = "drain" + std::to_string(++next_ref_);
  ws_->send(R"({"type":"ping","ref":")" + ref + "\"}");
  std::vector<std::string> out;
  std::deque<std::string> others;
  for (auto& f : kept_) {
    if (type_of(f) == type) {
      out.push_back(f);
    } else {
      others.push_back(f);
    }
  }
  kept_ = others;
  while (auto f = ws_->receive()) {
    if (ref_of(*f) == ref && type_of(*f) == "pong") break;
    if (type_of(*f) == type) {
      out.push_back(*f);
    } else {
      kept_.push_back(*f);
    }
  }
  return out;
}

std::uint16_t TestClient::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ws_->closed() && std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto f = ws_->receive(std::max(left, std::chrono::milliseconds(1)));
    if (f) kept_.push_back(*f);
  }
  return ws_->closed() ? ws_->closed()->code : 0;
}

double metric(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

double metric_now(std::uint16_t port, const std::string& name) {
  std::string response = http_get(port, "/metrics");
  return response.rfind("200 ", 0) == 0 ? metric(response.substr(4), name) : -1;
}

double metric_when(std::uint16_t port, const std::string& name, double value, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  double seen = metric_now(port, name);
  while (seen != value && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition, bounded by the deadline
    seen = metric_now(port, name);
  }
  return seen;
}

}  // namespace parley::test
