#include "ws_session.hpp"

#include <boost/asio/post.hpp>
#include <chrono>

#include "log.hpp"

namespace parley::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;

namespace {
std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

WsSession::WsSession(beast::tcp_stream&& stream, ServerContext& context, protocol::Codec codec, std::string subprotocol)
    : ws_(std::move(stream)), context_(context), codec_(codec), subprotocol_(std::move(subprotocol)) {}

WsSession::~WsSession() = default;

void WsSession::run(http::request<http::string_body> upgrade_request) {
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = std::chrono::seconds(10);
  // A peer silent for two heartbeats is gone; Beast pings it halfway through.
  timeouts.idle_timeout = std::chrono::milliseconds(2 * context_.config.heartbeat_ms);
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator([protocol = subprotocol_](websocket::response_type& res) {
    res.set(http::field::server, "parleyd");
    if (!protocol.empty()) res.set(http::field::sec_websocket_protocol, protocol);
  }));
  ws_.read_message_max(context_.config.max_frame_bytes);
  ws_.binary(codec_ == protocol::Codec::binary);
  ws_.async_accept(upgrade_request, beast::bind_front_handler(&WsSession::on_accept, shared_from_this()));
}

void WsSession::on_accept(beast::error_code ec) {
  if (ec) return;
  logic_ = std::make_unique<ClientSession>(context_.hub, context_.verifier, context_.config, weak_from_this());
  do_read();
}

void WsSession::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&WsSession::on_read, shared_from_this()));
}

void WsSession::on_read(beast::error_code ec, std::size_t) {
  if (ec) {
    if (ec == websocket::error::message_too_big) {
      log::info("frame too big", {{"limit", std::to_string(context_.config.max_frame_bytes)}});
    }
    closed_ = true;
    logic_->on_closed();
    return;
  }
  auto data = buffer_.cdata();
  logic_->on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()), now_ms());
  buffer_.consume(buffer_.size());
  if (!closed_) do_read();
}

void WsSession::deliver(SharedFrame frame) {
  net::post(ws_.get_executor(),
            [self = shared_from_this(), frame = std::move(frame)]() mutable { self->enqueue(std::move(frame)); });
}

void WsSession::close(std::uint16_t code, std::string reason) {
  net::post(ws_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)] {
    if (self->closed_ || self->close_after_queue_) return;
    self->close_after_queue_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    if (!self->writing_) self->do_close();
  });
}

void WsSession::enqueue(SharedFrame frame) {
  if (closed_ || close_after_queue_) return;
  queue_.push_back(std::move(frame));
  if (!writing_) do_write();
}

void WsSession::do_write() {
  writing_ = true;
  ws_.async_write(net::buffer(*queue_.front()), beast::bind_front_handler(&WsSession::on_write, shared_from_this()));
}

void WsSession::on_write(beast::error_code ec, std::size_t) {
  writing_ = false;
  if (ec) {
    closed_ = true;
    queue_.clear();
    return;
  }
  queue_.pop_front();
  if (!queue_.empty()) return do_write();
  if (close_after_queue_) do_close();
}

void WsSession::do_close() {
  closed_ = true;
  ws_.async_close(*close_after_queue_, [self = shared_from_this()](beast::error_code) {});
}

}  // namespace parley::server
