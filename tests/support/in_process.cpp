#include "support/in_process.hpp"

#include <gtest/gtest.h>

#include "clock.hpp"

namespace parley::test {

void FakePeer::deliver_local(const server::SharedFrame& frame) {
  // A server frame is unmasked: a 2-byte header, then 2 or 8 bytes of length
  // for payloads of 126 bytes and more.
  const std::string& bytes = frame->bytes;
  auto length = static_cast<std::uint8_t>(bytes[1]) & 0x7F;
  std::size_t header = length < 126 ? 2 : length == 126 ? 4 : 10;
  frames.push_back(bytes.substr(header));
}

void FakePeer::close(std::uint16_t code, std::string reason) {
  if (closed_with) return;
  closed_with = code;
  close_reason = std::move(reason);
}

void ImmediateDispatch::deliver(std::size_t, server::Delivery delivery) {
  for (const auto& peer : delivery.peers) {
    peer->deliver_local(delivery.frames[static_cast<std::size_t>(peer->codec())]);
  }
}

InProcessServer::InProcessServer(server::Config c) : InProcessServer(std::move(c), server::make_memory_storage()) {}

InProcessServer::InProcessServer(server::Config c, std::shared_ptr<server::Storage> shared)
    : InProcessServer(std::move(c), std::move(shared), nullptr) {}

InProcessServer::InProcessServer(server::Config c, std::shared_ptr<server::Storage> shared, server::RoomBus* bus)
    : config([&] {
        if (c.jwt_secret.empty()) c.jwt_secret = ParleydProcess::kSecret;
        c.storage = "memory";
        return c;
      }()),
      storage(std::move(shared)),
      verifier(config.jwt_secret),
      tenants(*storage, dispatch, config, config.tenant_limits, bus),
      now_(server::wall_ms()) {}

InProcessClient::InProcessClient(InProcessServer& server, const std::string& user, bool say_hello)
    : server_(server), peer_(std::make_shared<FakePeer>()) {
  session_ = std::make_unique<server::ClientSession>(server.services(), server.metrics, peer_);
  if (!say_hello) return;
  send(R"({"type":"hello","ref":"hello","v":1,"token":")" + token_for(user, user) + R"("})");
  Json welcome = next("welcome");
  if (!welcome.IsObject()) ADD_FAILURE() << user << " was not welcomed";
}

InProcessClient::~InProcessClient() { disconnect(); }

void InProcessClient::send(const std::string& frame) { session_->on_frame(frame, server_.now()); }

void InProcessClient::disconnect() {
  if (session_) session_->on_closed(server_.now());
}

Json InProcessClient::next(const std::string& type) {
  while (!peer_->frames.empty()) {
    Json doc = parse_json(peer_->frames.front());
    peer_->frames.pop_front();
    if (doc.IsObject() && doc.HasMember("type") && doc["type"].IsString() && doc["type"].GetString() == type) {
      return doc;
    }
  }
  return Json();
}

std::vector<Json> InProcessClient::all(const std::string& type) {
  std::vector<Json> out;
  for (Json doc = next(type); doc.IsObject(); doc = next(type)) out.push_back(std::move(doc));
  return out;
}

Json InProcessClient::request(const std::string& frame, const std::string& ref) {
  send(frame);
  for (auto it = peer_->frames.begin(); it != peer_->frames.end(); ++it) {
    Json doc = parse_json(*it);
    if (doc.IsObject() && doc.HasMember("ref") && doc["ref"].IsString() && doc["ref"].GetString() == ref) {
      peer_->frames.erase(it);
      return doc;
    }
  }
  return Json();
}

Json InProcessClient::join(const std::string& room) {
  return request(R"({"type":"join","ref":"j","roomId":")" + room + "\"}", "j");
}

Json InProcessClient::send_text(const std::string& room, const std::string& client_msg_id, const std::string& content,
                                const std::string& ref) {
  return request(R"({"type":"send","ref":")" + ref + R"(","roomId":")" + room + R"(","clientMsgId":")" + client_msg_id +
                     R"(","message":{"type":"text","content":")" + content + R"("}})",
                 ref);
}

}  // namespace parley::test
