// One WebSocket connection after the HTTP upgrade: reads with a per-thread
// buffer (an idle connection holds no read buffer of its own), feeds the
// frame parser, hands each message to its ClientSession on the session's
// lane (lanes.hpp: the storage threads), and writes its queue of shared
// frames in one gathered write per turn of its worker's loop. Both ways are
// bounded: a client that stops reading is closed with 4003 instead of growing
// memory, and reading pauses while too many of a client's requests wait for
// the storage threads.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admission.hpp"
#include "client_session.hpp"
#include "lanes.hpp"
#include "peer.hpp"
#include "worker.hpp"
#include "ws/frame.hpp"

namespace parley::server {

class ServerContext;

class WsConnection : public Peer, public std::enable_shared_from_this<WsConnection> {
 public:
  // `slot` is the connection's place in the limits, taken over from the
  // HttpSession that upgraded it; it is given back when this is destroyed.
  WsConnection(Socket socket, Worker& worker, ServerContext& context, protocol::Codec codec, std::string remote_ip,
               ConnectionSlot slot);
  ~WsConnection() override;

  // Joins the worker's registry, sends the 101 response, then reads.
  // `leftover` holds bytes the HTTP parser read past the upgrade request.
  void start(std::string handshake_response, std::string leftover);

  protocol::Codec codec() const override { return codec_; }
  std::size_t worker() const override;
  void deliver_local(const SharedFrame& frame) override;
  void close(std::uint16_t code, std::string reason) override;

  // Periodic checks, on the worker thread: pings, handshake, idle and token
  // timeouts, a close that takes too long.
  void sweep();
  bool authenticated() const { return session_ && session_->authenticated(); }
  std::string_view tenant() const { return session_ ? session_->tenant() : std::string_view(); }

 private:
  friend class Worker;  // registry_index_
  static constexpr std::uint32_t kNotRegistered = UINT32_MAX;
  enum class State : std::uint8_t { open, closing, closed };
  using Clock = std::chrono::steady_clock;

  void wait_readable();
  void on_readable(boost::system::error_code ec);
  void consume(std::string_view bytes);
  void handle(ws::Event& event);
  void enqueue(SharedFrame frame, bool close_frame = false);
  void schedule_flush();
  void flush();
  void on_written(boost::system::error_code ec);
  void begin_close(std::uint16_t code, std::string reason);
  void finish();
  // Runs `job` on the session's lane, keeping this alive until it has run.
  void to_session(std::function<void(ClientSession&)> job);
  void resume_reading();
  void session_closed();
  void count_closed();

  ConnectionSlot slot_;  // first: given back after the socket is closed
  Socket socket_;
  Worker& worker_;
  ServerContext& context_;
  std::string remote_ip_;
  ws::Parser parser_;
  std::unique_ptr<ClientSession> session_;  // used on its lane only, but for what it keeps atomic
  std::shared_ptr<Lane> lane_;
  // Messages handed to the lane and not handled yet; past kMaxPending reading
  // pauses until the lane has caught up.
  static constexpr int kMaxPending = 64;
  std::atomic<int> pending_{0};
  std::atomic<bool> reading_paused_{false};
  bool session_closed_ = false;  // on_closed handed to the lane
  std::int64_t expiring_ = 0;    // the token expiry an expire was handed to the lane for
  protocol::Codec codec_;        // the bytes together: every connection pays for padding
  State state_ = State::open;
  bool counted_ = false;  // in the connection gauges (from start() until closed)
  bool flush_scheduled_ = false;
  bool write_in_flight_ = false;

  std::vector<SharedFrame> queue_;                  // waiting for the next write
  std::vector<SharedFrame> writing_;                // in the write under way
  std::vector<boost::asio::const_buffer> buffers_;  // writing_'s bytes, for the gathered write
  static constexpr std::size_t kKeptCapacity = 8;
  std::size_t queued_bytes_ = 0;  // both of the above
  std::uint32_t registry_index_ = kNotRegistered;

  // By state: opened (the handshake timeout), the last ping sent (open and
  // welcomed), or began closing (the close grace).
  Clock::time_point state_since_;
  Clock::time_point last_received_;
  Clock::time_point last_sent_;
};

}  // namespace parley::server
