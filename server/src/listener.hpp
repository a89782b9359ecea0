// Accepts TCP connections and spreads them over the workers (round robin).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>

namespace parley::server {

class ServerContext;

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens; throws boost::system::system_error on failure.
  Listener(ServerContext& context, boost::asio::ip::tcp::endpoint endpoint);
  void run();
  void stop();
  std::uint16_t port() const { return port_; }

 private:
  void do_accept();

  ServerContext& context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
};

}  // namespace parley::server
