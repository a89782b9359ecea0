// Plain HTTP on a connection: /healthz, /metrics, /admin/*, and the upgrade
// to WebSocket on /ws (after which a WsConnection owns the socket and its
// slot). The upgrade request is checked by check_upgrade (handshake.hpp).
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admission.hpp"
#include "client_address.hpp"
#include "worker.hpp"

namespace parley::server {

class ServerContext;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `slot` holds the connection's place in the limits; `peer` is the TCP
  // peer's address.
  HttpSession(Socket&& socket, Worker& worker, ServerContext& context, ConnectionSlot slot, IpAddress peer);
  void run();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void route(const Request& req);
  void admin(const Request& req, std::string_view target);
  // An admin request that touches storage: `work` runs on the storage
  // threads (lanes.hpp), and its answer is sent from this session's thread.
  struct Answer {
    boost::beast::http::status status;
    std::string content_type;
    std::string body;
  };
  void on_storage_threads(std::function<Answer()> work);
  void upgrade(const Request& req);
  using Headers = std::vector<std::pair<std::string, std::string>>;
  void respond(boost::beast::http::status status, std::string content_type, std::string body,
               std::optional<std::string> retry_after = std::nullopt);
  // A refusal: plain text, the connection closes after it.
  void refuse(unsigned status, std::string reason, Headers headers = {});
  void send(std::shared_ptr<boost::beast::http::response<boost::beast::http::string_body>> res, bool keep_alive);
  void on_write(bool keep_alive, boost::beast::error_code ec);
  // After a request that could not be parsed: stop sending, and read and drop
  // what the peer still sends until it closes (or a short while passes), so
  // that closing does not reset the connection before it read the answer.
  void linger();
  void drain();

  boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::io_context::executor_type> stream_;
  boost::beast::flat_buffer buffer_;
  Worker& worker_;
  ServerContext& context_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  ConnectionSlot slot_;
  IpAddress peer_;
  bool lingering_ = false;
};

}  // namespace parley::server
