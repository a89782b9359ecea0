// Accepts TCP connections and spreads them over the workers (round robin).
// Every connection is admitted (admission.hpp) before anything else: past a
// limit it gets a short 503 and is closed at once. When accept fails for
// want of descriptors or memory, the listener waits (backoff, growing to
// 1 s, reset by a success) instead of retrying in a loop, and says so in
// the log at most every 5 s.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "accept_backoff.hpp"
#include "admission.hpp"
#include "worker.hpp"

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
  void on_accept(Worker& worker, boost::system::error_code ec, Socket socket);
  void on_accept_failed(const boost::system::error_code& ec);
  void admit(Worker& worker, Socket socket);
  void refuse(Socket& socket, Admission::Refusal why);

  ServerContext& context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;  // the pause after a failed accept
  std::uint16_t port_ = 0;
  // Acceptor thread only.
  AcceptBackoff backoff_;
  std::uint64_t failures_ = 0;  // failed accepts since the last success
  LogThrottle failure_log_{std::chrono::seconds(5)};
  LogThrottle resumed_log_{std::chrono::seconds(5)};
  LogThrottle refusal_log_{std::chrono::seconds(5)};
};

}  // namespace parley::server
