// Accepts TCP connections and hands each to an HttpSession on its own strand.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>

#include "server_context.hpp"

namespace parley::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens; throws boost::system::system_error on failure.
  Listener(boost::asio::io_context& ioc, boost::asio::ip::tcp::endpoint endpoint, ServerContext& context);
  void run();
  void stop();
  std::uint16_t port() const { return port_; }

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  ServerContext& context_;
  std::uint16_t port_ = 0;
};

}  // namespace parley::server
