#include "listener.hpp"

#include <boost/asio/post.hpp>

#include "http_session.hpp"
#include "log.hpp"
#include "server_context.hpp"

namespace parley::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Listener::Listener(ServerContext& context, tcp::endpoint endpoint)
    : context_(context), acceptor_(context.workers[0]->ioc()) {
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
  });
}

void Listener::do_accept() {
  Worker& worker = context_.next_worker();
  acceptor_.async_accept(worker.ioc(),
                         [self = shared_from_this(), &worker](boost::system::error_code ec, Socket socket) {
                           if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
                           if (ec) {
                             log::warn("accept failed", {{"error", ec.message()}});
                           } else {
                             socket.set_option(tcp::no_delay(true), ec);
                             std::make_shared<HttpSession>(std::move(socket), worker, self->context_)->run();
                           }
                           self->do_accept();
                         });
}

}  // namespace parley::server
