// parleyd's protocol logic in process, without sockets or threads: a real
// Hub on memory storage, real ClientSessions, fake peers that keep what is
// delivered to them, and a clock the test moves. Sessions, rate limits,
// presence and typing are tested here at exact times; what needs the wire
// (framing, the handshake, closing) is tested against a running parleyd.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "client_session.hpp"
#include "cluster/room_bus.hpp"
#include "metrics.hpp"
#include "peer.hpp"
#include "storage/storage.hpp"
#include "support/test_client.hpp"
#include "tenants/tenants.hpp"

namespace parley::test {

// A connection as the hub and a session see it: frames delivered to it are
// kept (as JSON text) for the test to read, and a close is recorded.
class FakePeer : public server::Peer {
 public:
  protocol::Codec codec() const override { return protocol::Codec::json; }
  std::size_t worker() const override { return 0; }
  void deliver_local(const server::SharedFrame& frame) override;
  void close(std::uint16_t code, std::string reason) override;

  std::deque<std::string> frames;  // oldest first
  std::optional<std::uint16_t> closed_with;
  std::string close_reason;
};

// Hands every delivery straight to its peers, on the calling thread.
class ImmediateDispatch : public server::Dispatch {
 public:
  void deliver(std::size_t worker, server::Delivery delivery) override;
};

class InProcessServer;

// One client: its peer and its session.
class InProcessClient {
 public:
  InProcessClient(InProcessServer& server, const std::string& user, bool say_hello = true);
  ~InProcessClient();

  // Hands a frame to the session at the server's current time.
  void send(const std::string& frame);
  // The next frame of `type` delivered to this client, taking it and every
  // frame before it; a null document when none is waiting.
  Json next(const std::string& type);
  // Sends a request and returns the frame answering `ref`.
  Json request(const std::string& frame, const std::string& ref);
  Json join(const std::string& room);
  Json send_text(const std::string& room, const std::string& client_msg_id, const std::string& content,
                 const std::string& ref = "s");
  // Every waiting frame of `type` (and drops the others).
  std::vector<Json> all(const std::string& type);
  // Ends the connection as a socket close does.
  void disconnect();

  FakePeer& peer() { return *peer_; }
  server::ClientSession& session() { return *session_; }

 private:
  InProcessServer& server_;
  std::shared_ptr<FakePeer> peer_;
  std::unique_ptr<server::ClientSession> session_;
};

class InProcessServer {
 public:
  explicit InProcessServer(server::Config config = {});
  // A second "node" on the same storage as `other` (a shared PostgreSQL, in
  // parleyd): its own hubs and sessions, the other's rooms and messages.
  InProcessServer(server::Config config, std::shared_ptr<server::Storage> shared);
  // A node of a cluster: its hubs talk to the others' over `bus` (fake_bus.hpp).
  InProcessServer(server::Config config, std::shared_ptr<server::Storage> shared, server::RoomBus* bus);

  // The clock: starts at the real time (tokens are signed against it), moves
  // only when the test says.
  std::int64_t now() const { return now_; }
  void advance(std::int64_t ms) { now_ += ms; }
  // What parleyd's timer does every few milliseconds.
  void tick() { tenants.tick(now_); }
  server::SessionServices services() { return {config, verifier, tenants, dispatch}; }
  // A tenant's parts (the default tenant's unless named).
  server::Tenant& tenant(const std::string& name = "default") { return *tenants.get(name).value(); }

  server::Config config;
  std::shared_ptr<server::Storage> storage;
  ImmediateDispatch dispatch;
  server::TokenVerifier verifier;
  server::Tenants tenants;
  server::WorkerMetrics metrics;

 private:
  std::int64_t now_;
};

}  // namespace parley::test
