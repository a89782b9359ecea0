#include "listener.hpp"

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

#include "http_session.hpp"
#include "log.hpp"
#include "server_context.hpp"

namespace parley::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

IpAddress to_ip(const net::ip::address& a) {
  if (a.is_v4()) return IpAddress::from_v4(a.to_v4().to_bytes());
  return IpAddress::from_v6(a.to_v6().to_bytes());  // the zone, if any, is not part of the key
}

// Errors of one connection that went away before it was accepted: the next
// accept may succeed at once. Compared by value, like the message below,
// without a virtual call on the error's category: under the sanitizers an
// unseen virtual call is checked through a pipe, which a process out of
// descriptors cannot open (a false "invalid vptr" report).
bool transient(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  switch (ec.value()) {
    case ECONNABORTED:
    case ECONNRESET:
    case EPROTO:
    case EAGAIN:
    case EINTR:
      return true;
    default:
      return false;
  }
}

std::string describe(const boost::system::error_code& ec) {
  return ec.category() == boost::system::system_category() ? std::strerror(ec.value()) : ec.message();
}

std::string refusal_response(const char* reason) {
  std::string body = std::string(reason) + "\n";
  return "HTTP/1.1 503 Service Unavailable\r\nServer: parleyd\r\nContent-Type: text/plain; charset=utf-8\r\n"
         "Cache-Control: no-store\r\nRetry-After: 5\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

Listener::Listener(ServerContext& context, tcp::endpoint endpoint)
    : context_(context), acceptor_(context.workers[0]->ioc()), retry_(context.workers[0]->ioc()) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

void Listener::run() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_.cancel();
  });
}

void Listener::do_accept() {
  Worker& worker = context_.next_worker();
  acceptor_.async_accept(worker.ioc(),
                         [self = shared_from_this(), &worker](boost::system::error_code ec, Socket socket) {
                           self->on_accept(worker, ec, std::move(socket));
                         });
}

void Listener::on_accept(Worker& worker, boost::system::error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec && !transient(ec)) return on_accept_failed(ec);
  if (!ec) {
    if (failures_ > 0) {
      if (auto held = resumed_log_.allow(LogThrottle::Clock::now())) {
        log::info("accept resumed", {{"failed_accepts", std::to_string(failures_)}});
      }
      failures_ = 0;
      backoff_.reset();
    }
    admit(worker, std::move(socket));
  }
  do_accept();
}

void Listener::on_accept_failed(const boost::system::error_code& ec) {
  // Out of descriptors (EMFILE, ENFILE) or memory (ENOBUFS, ENOMEM): the
  // connection waits in the backlog, and trying again at once would fail
  // the same way, as fast as the loop turns.
  ++failures_;
  context_.admission.count_accept_error();
  auto delay = backoff_.next();
  if (auto held = failure_log_.allow(LogThrottle::Clock::now())) {
    log::warn("accept failed", {{"error", describe(ec)},
                                {"retry_in_ms", std::to_string(delay.count())},
                                {"failed_accepts", std::to_string(failures_)},
                                {"lines_suppressed", std::to_string(*held)}});
  }
  retry_.expires_after(delay);
  retry_.async_wait([self = shared_from_this()](boost::system::error_code e) {
    if (!e && self->acceptor_.is_open()) self->do_accept();
  });
}

void Listener::admit(Worker& worker, Socket socket) {
  boost::system::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return;  // gone already
  IpAddress peer = to_ip(endpoint.address());
  Admission::Refusal why = Admission::Refusal::none;
  ConnectionSlot slot = context_.admission.admit(peer.to_string(), context_.config.trusted_proxies.contains(peer), why);
  if (!slot) return refuse(socket, why);
  socket.set_option(tcp::no_delay(true), ec);
  std::make_shared<HttpSession>(std::move(socket), worker, context_, std::move(slot), peer)->run();
}

void Listener::refuse(Socket& socket, Admission::Refusal why) {
  static const std::string capacity = refusal_response("the server is at capacity; retry later");
  static const std::string address =
      refusal_response("too many connections from this address are still in their handshake; retry later");
  const std::string& response = why == Admission::Refusal::capacity ? capacity : address;
  if (auto held = refusal_log_.allow(LogThrottle::Clock::now())) {
    log::warn("connection refused", {{"reason", Admission::name(why)}, {"lines_suppressed", std::to_string(*held)}});
  }
  // Without a session: the answer fits a fresh socket's send buffer, so one
  // non-blocking write says it. What the client already sent is read, so
  // that the close does not reset the connection before it reads the answer.
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(net::buffer(response), ec);
  char sink[4096];
  for (int i = 0; i < 4 && !ec; ++i) socket.read_some(net::buffer(sink), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

}  // namespace parley::server
