// Plain HTTP on a connection: /healthz, and the upgrade to WebSocket on /ws.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

#include "server_context.hpp"

namespace parley::server {

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, ServerContext& context);
  void run();

 private:
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void respond(boost::beast::http::status status, std::string content_type, std::string body);
  void on_write(bool keep_alive, boost::beast::error_code ec, std::size_t bytes);
  void upgrade();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  ServerContext& context_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
};

}  // namespace parley::server
