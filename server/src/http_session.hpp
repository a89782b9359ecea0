// Plain HTTP on a connection: /healthz, /metrics, /admin/*, and the upgrade
// to WebSocket on /ws (after which a WsConnection owns the socket).
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>

#include "worker.hpp"

namespace parley::server {

class ServerContext;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Socket&& socket, Worker& worker, ServerContext& context);
  void run();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void route(const Request& req);
  void admin(const Request& req, std::string_view target);
  void upgrade(const Request& req);
  void respond(boost::beast::http::status status, std::string content_type, std::string body,
               std::optional<std::string> retry_after = std::nullopt);
  void on_write(bool keep_alive, boost::beast::error_code ec);

  boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::io_context::executor_type> stream_;
  boost::beast::flat_buffer buffer_;
  Worker& worker_;
  ServerContext& context_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
};

}  // namespace parley::server
