#include "http_session.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/websocket.hpp>

#include "ws_session.hpp"

namespace parley::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

HttpSession::HttpSession(net::ip::tcp::socket&& socket, ServerContext& context)
    : stream_(std::move(socket)), context_(context) {}

void HttpSession::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(8 * 1024);
  parser_->body_limit(64 * 1024);
  stream_.expires_after(std::chrono::seconds(10));
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream) {
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  if (ec) return;  // timeouts and resets end the connection quietly
  const auto& req = parser_->get();
  std::string_view target(req.target().data(), req.target().size());
  if (beast::websocket::is_upgrade(req)) {
    if (target == "/ws") return upgrade();
    return respond(http::status::not_found, "text/plain", "WebSocket endpoint is /ws\n");
  }
  if (target == "/healthz" && (req.method() == http::verb::get || req.method() == http::verb::head)) {
    return respond(http::status::ok, "application/json", "{\"status\":\"ok\"}\n");
  }
  respond(http::status::not_found, "text/plain", "not found\n");
}

void HttpSession::upgrade() {
  // Pick the codec from the subprotocols the client offers, in its order.
  const auto& req = parser_->get();
  auto offered = req[http::field::sec_websocket_protocol];
  std::optional<protocol::Codec> codec;
  std::string chosen;
  if (offered.empty()) {
    codec = protocol::Codec::json;
  } else {
    std::string_view list(offered.data(), offered.size());
    while (!list.empty() && !codec) {
      auto comma = list.find(',');
      std::string_view item = list.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if ((codec = protocol::codec_for_subprotocol(item))) chosen = std::string(item);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  if (!codec) {
    return respond(http::status::bad_request, "text/plain",
                   "unsupported WebSocket subprotocol; this server speaks parley.v1.json and parley.v1.bin\n");
  }
  stream_.expires_never();
  std::make_shared<WsSession>(std::move(stream_), context_, *codec, std::move(chosen))->run(parser_->release());
}

void HttpSession::respond(http::status status, std::string content_type, std::string body) {
  auto res = std::make_shared<http::response<http::string_body>>(status, parser_->get().version());
  res->set(http::field::server, "parleyd");
  res->set(http::field::content_type, content_type);
  res->set(http::field::cache_control, "no-store");
  res->keep_alive(parser_->get().keep_alive());
  res->body() = std::move(body);
  res->prepare_payload();
  bool keep_alive = res->keep_alive();
  http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t n) {
    self->on_write(keep_alive, ec, n);
  });
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec, std::size_t) {
  if (ec) return;
  if (!keep_alive) {
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  do_read();
}

}  // namespace parley::server
