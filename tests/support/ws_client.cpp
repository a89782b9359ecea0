#include "ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <stdexcept>

namespace parley::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

struct WsClient::Impl {
  net::io_context ioc;
  websocket::stream<tcp::socket> ws{ioc};
  beast::flat_buffer buffer;
};

WsClient::WsClient(std::uint16_t port, const std::string& subprotocol, int receive_buffer)
    : impl_(std::make_unique<Impl>()) {
  auto& socket = impl_->ws.next_layer();
  socket.open(tcp::v4());
  if (receive_buffer > 0) socket.set_option(net::socket_base::receive_buffer_size(receive_buffer));
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  impl_->ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::request_type& req) {
    if (!subprotocol.empty()) req.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  websocket::response_type res;
  impl_->ws.handshake(res, "127.0.0.1:" + std::to_string(port), "/ws");
  subprotocol_ = std::string(res[http::field::sec_websocket_protocol]);
  impl_->ws.binary(subprotocol == "parley.v1.bin");
}

WsClient::~WsClient() {
  beast::error_code ignored;
  impl_->ws.next_layer().close(ignored);
}

void WsClient::send(const std::string& frame) { impl_->ws.write(net::buffer(frame)); }

void WsClient::ping(const std::string& payload) { impl_->ws.ping(websocket::ping_data(payload.c_str())); }

std::optional<std::string> WsClient::receive(std::chrono::milliseconds timeout) {
  if (closed_) return std::nullopt;
  std::optional<std::string> out;
  bool done = false;
  impl_->ws.async_read(impl_->buffer, [&](beast::error_code ec, std::size_t) {
    done = true;
    const auto& reason = impl_->ws.reason();
    if (ec == websocket::error::closed || (ec && reason.code != 0)) {
      // A close frame arrived (the teardown after it may still report an error).
      closed_ = Closed{reason.code, std::string(reason.reason.data(), reason.reason.size())};
    } else if (ec) {
      closed_ = Closed{1006, ec.message()};
    } else {
      out = beast::buffers_to_string(impl_->buffer.data());
      impl_->buffer.consume(impl_->buffer.size());
    }
  });
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  if (!done) {
    // A cancelled WebSocket read cannot be resumed: this client is done.
    // Closed, not cancelled: cancel() misses a step of the read that is
    // queued but not started (run_for may stop between two), which then
    // waits on a silent socket forever (seen about once in 20 ASan runs).
    beast::error_code ignored;
    impl_->ws.next_layer().close(ignored);
    impl_->ioc.restart();
    impl_->ioc.run();
    closed_ = Closed{0, "timed out waiting for a frame"};
    return std::nullopt;
  }
  return out;
}

std::string http_get(std::uint16_t port, const std::string& target) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return std::to_string(res.result_int()) + " " + res.body();
}

std::string http_request(std::uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body, const std::string& bearer) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return std::to_string(res.result_int()) + " " + res.body();
}

int upgrade_status(std::uint16_t port, const std::string& subprotocol) {
  net::io_context ioc;
  websocket::stream<tcp::socket> ws(ioc);
  ws.next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  ws.set_option(websocket::stream_base::decorator(
      [subprotocol](websocket::request_type& req) { req.set(http::field::sec_websocket_protocol, subprotocol); }));
  websocket::response_type res;
  beast::error_code ec;
  ws.handshake(res, "127.0.0.1", "/ws", ec);
  return static_cast<int>(res.result_int());
}

}  // namespace parley::test
