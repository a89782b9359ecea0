// One WebSocket connection: the read loop feeding a ClientSession, and a
// write queue that sends frames in order, one at a time.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <memory>
#include <optional>

#include "client_session.hpp"
#include "peer.hpp"
#include "server_context.hpp"

namespace parley::server {

class WsSession : public Peer, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(boost::beast::tcp_stream&& stream, ServerContext& context, protocol::Codec codec, std::string subprotocol);
  ~WsSession() override;

  void run(boost::beast::http::request<boost::beast::http::string_body> upgrade_request);

  protocol::Codec codec() const override { return codec_; }
  void deliver(SharedFrame frame) override;
  void close(std::uint16_t code, std::string reason) override;

 private:
  void on_accept(boost::beast::error_code ec);
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void enqueue(SharedFrame frame);
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void do_close();

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  boost::beast::flat_buffer buffer_;
  ServerContext& context_;
  protocol::Codec codec_;
  std::string subprotocol_;
  std::unique_ptr<ClientSession> logic_;
  std::deque<SharedFrame> queue_;
  bool writing_ = false;
  bool closed_ = false;
  std::optional<boost::beast::websocket::close_reason> close_after_queue_;
};

}  // namespace parley::server
