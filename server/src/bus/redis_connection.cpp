#include "bus/redis_connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <set>

#include "bus/backoff.hpp"
#include "log.hpp"

namespace parley::server::redis {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

namespace {

// What a failure Reply says, whatever failed.
Reply failure(const std::string& why) { return Reply::error("redis: " + why); }

// Text from the peer going into a log or a message: short and printable.
std::string printable(const std::string& text) {
  std::string out = text.substr(0, 200);
  for (char& c : out) {
    if (std::isprint(static_cast<unsigned char>(c)) == 0) c = '?';
  }
  return out;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Commands whose replies do not come one per command: after them the
// pipeline would pair replies with the wrong callbacks.
const char* refused_command(const std::vector<std::string>& args) {
  if (args.empty()) return "an empty command";
  std::string name = lower(args[0]);
  static const std::set<std::string> refused = {"subscribe",    "psubscribe",   "ssubscribe", "unsubscribe",
                                                "punsubscribe", "sunsubscribe", "monitor",    "hello"};
  if (refused.count(name) != 0) return "a command that breaks the pipeline (pub/sub, MONITOR, HELLO)";
  if (name == "client" && args.size() > 1 && lower(args[1]) == "reply") return "CLIENT REPLY";
  return nullptr;
}

// PING's answer: +PONG, or ["pong", ""] once subscribed (RESP2).
bool is_pong(const Reply& reply) {
  if (reply.type == Reply::Type::status) return reply.str == "PONG";
  return reply.type == Reply::Type::array && !reply.elements.empty() && reply.elements[0].type == Reply::Type::string &&
         reply.elements[0].str == "pong";
}

// Keeps buffers across ordinary traffic, gives back what a burst took.
constexpr std::size_t kKeptBufferBytes = std::size_t{1} << 20;

}  // namespace

// A command waiting for its reply.
struct Pending {
  enum class Kind { user, auth, select, hello, ping };
  Kind kind = Kind::user;
  Connection::Callback done;
  bool direct = false;  // call()'s: resolved at once (it only wakes a thread), not through the delivery queue
};

// One connection attempt and, when it succeeds, the link it becomes. Each
// attempt has its own: the handlers of an old one hold it (its buffers stay
// valid until they have run) and see that it is no longer current.
struct Link {
  explicit Link(asio::io_context& ioc) : socket(ioc), resolver(ioc), timer(ioc) {}

  asio::generic::stream_protocol::socket socket;
  asio::ip::tcp::resolver resolver;
  std::vector<asio::generic::stream_protocol::endpoint> endpoints;  // tcp: tried in order
  std::size_t endpoint = 0;
  bool connected = false;  // the socket is (the handshake may not be done)
  bool up = false;         // the handshake is done

  // One timer: the connect deadline, then the PING ticks. Each arming has a
  // number, so that a tick that had already fired when it was re-armed is
  // recognised as stale.
  asio::steady_timer timer;
  std::uint64_t timer_arming = 0;
  bool ping_outstanding = false;
  Clock::time_point ping_sent;

  std::array<char, 64 * 1024> input{};
  Reader reader;

  std::string out;      // formatted, not yet handed to the socket
  std::string writing;  // being written
  std::size_t written = 0;
  bool write_in_flight = false;

  std::deque<Pending> pending;   // awaiting replies, in order
  std::size_t awaited_acks = 0;  // subscriber: SUBSCRIBE/UNSUBSCRIBE confirmations due
};

// The internals, shared with the handlers in flight so that the Connection
// can go at any time. One mutex guards the state and every call on a link's
// socket, resolver and timer (Asio objects are not thread-safe); user code
// never runs under it. User code runs in flush(), one callback at a time,
// under deliver_mutex_, which stop() and the destructor take to wait for a
// callback running elsewhere (recursive: a callback may stop or destroy its
// own connection).
class Connection::Impl : public std::enable_shared_from_this<Connection::Impl> {
 public:
  Impl(asio::io_context& ioc, Address address, Mode mode, Handlers handlers, Options options)
      : ioc_(ioc),
        address_(std::move(address)),
        mode_(mode),
        handlers_(std::move(handlers)),
        options_(options),
        retry_timer_(ioc),
        random_(std::random_device{}()) {}

  void start();
  void shutdown(bool detach);
  bool up() const { return up_.load(); }
  void command(std::vector<std::string> args, Callback done, bool direct);
  Reply call(std::vector<std::string> args, std::chrono::milliseconds timeout);
  void subscribe(const std::string& channel);
  void unsubscribe(const std::string& channel);

 private:
  struct Delivery {
    bool handler = false;  // a Handlers member: dropped once stopped
    std::function<void()> run;
  };
  using LinkPtr = std::shared_ptr<Link>;

  // Under mutex_.
  void connect_locked();
  void connect_next_locked(const LinkPtr& link);
  void on_resolved(const LinkPtr& link, const ErrorCode& ec, const asio::ip::tcp::resolver::results_type& results);
  void on_connected(const LinkPtr& link, const ErrorCode& ec);
  void read_locked(const LinkPtr& link);
  void on_read(const LinkPtr& link, const ErrorCode& ec, std::size_t n);
  void send_locked(const LinkPtr& link, const std::vector<std::string>& args, Pending pending);
  void write_locked(const LinkPtr& link);
  void on_written(const LinkPtr& link, const ErrorCode& ec, std::size_t n);
  void arm_timer_locked(const LinkPtr& link, std::chrono::milliseconds after);
  void on_timer(const LinkPtr& link, std::uint64_t arming);
  std::string on_reply_locked(const LinkPtr& link, Reply reply);
  std::string on_push_locked(Link& link, Reply& reply, bool& handled);
  void became_up_locked(const LinkPtr& link);
  void lose_locked(const std::string& why);
  void close_locked(Link& link, const std::string& why);
  void schedule_retry_locked();
  void resolve_locked(Pending& pending, Reply reply);
  void handler_locked(std::function<void()> run);

  void flush();

  const char* mode_name() const { return mode_ == Mode::commands ? "commands" : "subscriber"; }

  asio::io_context& ioc_;
  const Address address_;
  const Mode mode_;
  const Handlers handlers_;
  const Options options_;
  std::atomic<bool> up_{false};

  std::mutex mutex_;
  bool running_ = false;
  LinkPtr link_;  // the current attempt or link; none while waiting to retry, or stopped
  asio::steady_timer retry_timer_;
  std::uint64_t retry_arming_ = 0;
  unsigned failures_ = 0;       // since the last handshake: the backoff's exponent
  bool down_reported_ = false;  // on_down sent since start() or the last on_up
  std::set<std::string> wanted_;
  std::deque<Delivery> deliveries_;
  std::minstd_rand random_;

  std::recursive_mutex deliver_mutex_;
  bool handlers_on_ = false;  // under deliver_mutex_: between start() and stop()
  bool detached_ = false;     // under deliver_mutex_: the Connection is gone
};

void Connection::Impl::start() {
  {
    std::lock_guard deliver(deliver_mutex_);
    if (detached_) return;
    handlers_on_ = true;
  }
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  failures_ = 0;
  down_reported_ = false;
  connect_locked();
}

void Connection::Impl::shutdown(bool detach) {
  {
    std::lock_guard lock(mutex_);
    running_ = false;
    ++retry_arming_;
    retry_timer_.cancel();
    if (link_) {
      LinkPtr link = std::move(link_);
      close_locked(*link, "stopped");
    }
    up_ = false;
  }
  std::lock_guard deliver(deliver_mutex_);
  handlers_on_ = false;
  flush();  // the failed commands, on this thread
  if (detach) detached_ = true;
}

void Connection::Impl::connect_locked() {
  auto link = std::make_shared<Link>(ioc_);
  link_ = link;
  arm_timer_locked(link, options_.connect_timeout);
  if (address_.kind == Address::Kind::unix_socket) {
    link->endpoints.emplace_back(asio::local::stream_protocol::endpoint(address_.path));
    connect_next_locked(link);
    return;
  }
  link->resolver.async_resolve(address_.host, std::to_string(address_.port), asio::ip::tcp::resolver::numeric_service,
                               [self = shared_from_this(), link](const ErrorCode& ec, const auto& results) {
                                 self->on_resolved(link, ec, results);
                               });
}

void Connection::Impl::on_resolved(const LinkPtr& link, const ErrorCode& ec,
                                   const asio::ip::tcp::resolver::results_type& results) {
  {
    std::lock_guard lock(mutex_);
    if (link != link_) return;
    if (ec) {
      lose_locked("cannot resolve " + address_.host + ": " + ec.message());
    } else {
      for (const auto& entry : results) link->endpoints.emplace_back(entry.endpoint());
      connect_next_locked(link);
    }
  }
  flush();
}

// Asio's composed connect (and write) would touch the socket from their
// intermediate steps, outside mutex_: the loops over endpoints (and over
// partial writes) are written out here instead.
void Connection::Impl::connect_next_locked(const LinkPtr& link) {
  if (link->endpoint >= link->endpoints.size()) {
    lose_locked("cannot connect: no address for " + address_.host);
    return;
  }
  ErrorCode ignored;
  link->socket.close(ignored);
  link->socket.async_connect(link->endpoints[link->endpoint],
                             [self = shared_from_this(), link](const ErrorCode& ec) { self->on_connected(link, ec); });
}

void Connection::Impl::on_connected(const LinkPtr& link, const ErrorCode& ec) {
  {
    std::lock_guard lock(mutex_);
    if (link != link_) return;
    if (ec) {
      if (++link->endpoint < link->endpoints.size()) {
        connect_next_locked(link);
      } else {
        lose_locked("cannot connect: " + ec.message());
      }
    } else {
      link->connected = true;
      if (address_.kind == Address::Kind::tcp) {
        ErrorCode ignored;  // only latency: one small command must not wait for Nagle
        link->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
      }
      // The handshake, pipelined: the link is up when PING answers.
      if (!address_.password.empty()) {
        std::vector<std::string> auth = {"AUTH"};
        if (!address_.user.empty()) auth.push_back(address_.user);
        auth.push_back(address_.password);
        send_locked(link, auth, {Pending::Kind::auth, {}, false});
      }
      if (address_.db != 0)
        send_locked(link, {"SELECT", std::to_string(address_.db)}, {Pending::Kind::select, {}, false});
      send_locked(link, {"PING"}, {Pending::Kind::hello, {}, false});
      read_locked(link);
    }
  }
  flush();
}

void Connection::Impl::read_locked(const LinkPtr& link) {
  link->socket.async_read_some(
      asio::buffer(link->input),
      [self = shared_from_this(), link](const ErrorCode& ec, std::size_t n) { self->on_read(link, ec, n); });
}

void Connection::Impl::on_read(const LinkPtr& link, const ErrorCode& ec, std::size_t n) {
  {
    std::lock_guard lock(mutex_);
    if (link != link_) return;
    if (ec) {
      lose_locked(ec == asio::error::eof ? "Redis closed the connection" : "read failed: " + ec.message());
    } else {
      link->reader.feed(link->input.data(), n);
      std::string wrong;
      while (wrong.empty()) {
        std::optional<Reply> reply = link->reader.next();
        if (!reply) break;
        wrong = on_reply_locked(link, std::move(*reply));
      }
      if (wrong.empty() && !link->reader.error().empty()) wrong = "protocol error: " + link->reader.error();
      if (!wrong.empty()) {
        lose_locked(wrong);
      } else if (link == link_) {
        read_locked(link);
      }
    }
  }
  flush();
}

void Connection::Impl::send_locked(const LinkPtr& link, const std::vector<std::string>& args, Pending pending) {
  link->out += format_command(args);
  link->pending.push_back(std::move(pending));
  write_locked(link);
}

void Connection::Impl::write_locked(const LinkPtr& link) {
  if (link->write_in_flight || !link->connected) return;
  if (link->written == link->writing.size()) {
    if (link->out.empty()) return;
    link->writing.clear();
    link->writing.swap(link->out);
    link->written = 0;
    if (link->out.capacity() > kKeptBufferBytes) std::string().swap(link->out);
  }
  link->write_in_flight = true;
  link->socket.async_write_some(
      asio::buffer(link->writing.data() + link->written, link->writing.size() - link->written),
      [self = shared_from_this(), link](const ErrorCode& ec, std::size_t n) { self->on_written(link, ec, n); });
}

void Connection::Impl::on_written(const LinkPtr& link, const ErrorCode& ec, std::size_t n) {
  {
    std::lock_guard lock(mutex_);
    if (link != link_) return;
    link->write_in_flight = false;
    if (ec) {
      lose_locked("write failed: " + ec.message());
    } else {
      link->written += n;
      write_locked(link);
    }
  }
  flush();
}

void Connection::Impl::arm_timer_locked(const LinkPtr& link, std::chrono::milliseconds after) {
  std::uint64_t arming = ++link->timer_arming;
  link->timer.expires_after(after);
  link->timer.async_wait([self = shared_from_this(), link, arming](const ErrorCode& ec) {
    if (ec != asio::error::operation_aborted) self->on_timer(link, arming);
  });
}

void Connection::Impl::on_timer(const LinkPtr& link, std::uint64_t arming) {
  {
    std::lock_guard lock(mutex_);
    if (link != link_ || arming != link->timer_arming) return;
    if (!link->up) {
      lose_locked(link->connected
                      ? "no answer to the handshake within " + std::to_string(options_.connect_timeout.count()) + " ms"
                      : "cannot connect within " + std::to_string(options_.connect_timeout.count()) + " ms");
    } else if (link->ping_outstanding && Clock::now() - link->ping_sent >= options_.ping_timeout) {
      // A Redis that hangs, or a socket whose other end is gone.
      lose_locked("no answer to PING for " + std::to_string(options_.ping_timeout.count()) + " ms");
    } else {
      if (!link->ping_outstanding) {
        link->ping_outstanding = true;
        link->ping_sent = Clock::now();
        send_locked(link, {"PING"}, {Pending::Kind::ping, {}, false});
      }
      arm_timer_locked(link, options_.ping_every);
    }
  }
  flush();
}

// A reply from Redis; returns what is wrong with it (the link is then lost),
// or "".
std::string Connection::Impl::on_reply_locked(const LinkPtr& link, Reply reply) {
  if (mode_ == Mode::subscriber) {
    bool handled = false;
    std::string wrong = on_push_locked(*link, reply, handled);
    if (!wrong.empty() || handled) return wrong;
  }
  if (link->pending.empty()) return "a reply to no command";
  Pending pending = std::move(link->pending.front());
  link->pending.pop_front();
  switch (pending.kind) {
    case Pending::Kind::user:
      resolve_locked(pending, std::move(reply));
      return "";
    case Pending::Kind::auth:
      if (reply.is_error()) return "AUTH refused: " + printable(reply.str);
      if (reply.type != Reply::Type::status) return "an unexpected answer to AUTH";
      return "";
    case Pending::Kind::select:
      if (reply.is_error()) return "SELECT " + std::to_string(address_.db) + " refused: " + printable(reply.str);
      if (reply.type != Reply::Type::status) return "an unexpected answer to SELECT";
      return "";
    case Pending::Kind::hello:
      if (reply.is_error()) return "Redis answered PING with: " + printable(reply.str);
      if (!is_pong(reply)) return "an answer to PING that is not PONG";
      became_up_locked(link);
      return "";
    case Pending::Kind::ping:
      if (!is_pong(reply)) return "an answer to PING that is not PONG";
      link->ping_outstanding = false;
      return "";
  }
  return "";
}

// subscriber: the arrays Redis pushes (messages, confirmations). `handled`
// stays false for what answers a command (AUTH, SELECT, PING).
std::string Connection::Impl::on_push_locked(Link& link, Reply& reply, bool& handled) {
  if (reply.type != Reply::Type::array || reply.elements.empty() || reply.elements[0].type != Reply::Type::string ||
      reply.elements[0].str == "pong") {
    return "";
  }
  handled = true;
  auto& e = reply.elements;
  const std::string& kind = e[0].str;
  if (kind == "message") {
    if (e.size() != 3 || e[1].type != Reply::Type::string || e[2].type != Reply::Type::string) {
      return "a malformed pub/sub message";
    }
    if (!link.up) return "a pub/sub message before subscribing";
    // A channel unsubscribed a moment ago may still have messages on the way.
    if (wanted_.count(e[1].str) != 0 && handlers_.on_message) {
      handler_locked([this, channel = std::move(e[1].str), payload = std::move(e[2].str)] {
        handlers_.on_message(channel, payload);
      });
    }
    return "";
  }
  if (kind == "subscribe" || kind == "unsubscribe") {
    if (e.size() != 3 || e[1].type != Reply::Type::string) return "a malformed " + kind + " confirmation";
    if (link.awaited_acks == 0) return "a confirmation of no " + kind;
    --link.awaited_acks;
    if (kind == "subscribe" && wanted_.count(e[1].str) != 0 && handlers_.on_subscribed) {
      handler_locked([this, channel = e[1].str] { handlers_.on_subscribed(channel); });
    }
    return "";
  }
  return "an unexpected push '" + printable(kind) + "'";
}

void Connection::Impl::became_up_locked(const LinkPtr& link) {
  link->up = true;
  up_ = true;
  failures_ = 0;
  down_reported_ = false;
  log::info("bus redis up", {{"redis", address_.describe()}, {"mode", mode_name()}});
  if (handlers_.on_up) handler_locked([this] { handlers_.on_up(); });
  arm_timer_locked(link, options_.ping_every);
  if (mode_ == Mode::subscriber && !wanted_.empty()) {
    std::vector<std::string> args = {"SUBSCRIBE"};
    args.insert(args.end(), wanted_.begin(), wanted_.end());
    link->awaited_acks += wanted_.size();
    link->out += format_command(args);
    write_locked(link);
  }
}

// The current link failed: close it, fail its commands, say so once, retry.
void Connection::Impl::lose_locked(const std::string& why) {
  if (!link_) return;
  LinkPtr link = std::move(link_);
  close_locked(*link, "connection lost: " + why);
  up_ = false;
  if (!down_reported_) {
    down_reported_ = true;
    log::warn("bus redis down", {{"redis", address_.describe()}, {"mode", mode_name()}, {"why", why}});
    if (handlers_.on_down) handler_locked([this, why] { handlers_.on_down(why); });
  } else {
    log::debug("bus redis retry failed", {{"redis", address_.describe()}, {"why", why}});
  }
  schedule_retry_locked();
}

void Connection::Impl::close_locked(Link& link, const std::string& why) {
  ErrorCode ignored;
  link.resolver.cancel();
  link.socket.close(ignored);
  link.timer.cancel();
  ++link.timer_arming;
  for (Pending& pending : link.pending) {
    if (pending.kind == Pending::Kind::user) resolve_locked(pending, failure(why));
  }
  link.pending.clear();
}

void Connection::Impl::schedule_retry_locked() {
  if (!running_) return;
  auto delay = reconnect_delay(failures_, std::uniform_real_distribution<double>(0.0, 1.0)(random_),
                               options_.backoff_first, options_.backoff_cap);
  if (failures_ < 64) ++failures_;
  std::uint64_t arming = ++retry_arming_;
  retry_timer_.expires_after(delay);
  retry_timer_.async_wait([self = shared_from_this(), arming](const ErrorCode& ec) {
    if (ec == asio::error::operation_aborted) return;
    {
      std::lock_guard lock(self->mutex_);
      if (!self->running_ || arming != self->retry_arming_ || self->link_) return;
      self->connect_locked();
    }
    self->flush();
  });
}

void Connection::Impl::resolve_locked(Pending& pending, Reply reply) {
  if (!pending.done) return;
  if (pending.direct) {
    pending.done(reply);
    return;
  }
  deliveries_.push_back({false, [done = std::move(pending.done), reply = std::move(reply)] { done(reply); }});
}

void Connection::Impl::handler_locked(std::function<void()> run) { deliveries_.push_back({true, std::move(run)}); }

void Connection::Impl::flush() {
  std::lock_guard deliver(deliver_mutex_);
  for (;;) {
    Delivery next;
    {
      std::lock_guard lock(mutex_);
      if (deliveries_.empty()) return;
      next = std::move(deliveries_.front());
      deliveries_.pop_front();
    }
    if (detached_ || (next.handler && !handlers_on_)) continue;
    try {
      next.run();
    } catch (const std::exception& e) {
      log::error("bus redis callback threw", {{"redis", address_.describe()}, {"what", e.what()}});
    }
  }
}

void Connection::Impl::command(std::vector<std::string> args, Callback done, bool direct) {
  std::string refusal;
  std::string bytes;
  if (mode_ != Mode::commands) {
    refusal = "a subscriber connection takes no commands";
  } else if (const char* refused = refused_command(args)) {
    refusal = std::string("refused ") + refused;
  } else {
    try {
      bytes = format_command(args);
    } catch (const std::exception& e) {
      refusal = e.what();
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (refusal.empty()) {
      if (!link_ || !link_->up) {
        refusal = "not connected";
      } else if (link_->out.size() + (link_->writing.size() - link_->written) + bytes.size() >
                 options_.max_outgoing_bytes) {
        refusal = "more than " + std::to_string(options_.max_outgoing_bytes) + " bytes waiting to be sent";
      } else {
        link_->out += bytes;
        link_->pending.push_back({Pending::Kind::user, std::move(done), direct});
        write_locked(link_);
        return;
      }
    }
    if (!done) return;
    if (direct) {
      done(failure(refusal));
      return;
    }
    deliveries_.push_back({false, [done = std::move(done), reply = failure(refusal)] { done(reply); }});
  }
  // Not inside command(): the caller may hold locks its callback takes.
  asio::post(ioc_, [self = shared_from_this()] { self->flush(); });
}

Reply Connection::Impl::call(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  if (ioc_.get_executor().running_in_this_thread()) {
    log::error("bus redis call() on an I/O thread", {{"redis", address_.describe()}});
    return failure("call() refused on a thread running the io_context (it would wait for itself): use command()");
  }
  struct Waiter {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<Reply> reply;
  };
  auto waiter = std::make_shared<Waiter>();
  command(
      std::move(args),
      [waiter](const Reply& reply) {
        std::lock_guard lock(waiter->mutex);
        waiter->reply = reply;
        waiter->done.notify_all();
      },
      true);
  std::unique_lock lock(waiter->mutex);
  if (!waiter->done.wait_for(lock, timeout, [&] { return waiter->reply.has_value(); })) {
    return failure("no reply within " + std::to_string(timeout.count()) + " ms");
  }
  return std::move(*waiter->reply);
}

void Connection::Impl::subscribe(const std::string& channel) {
  if (mode_ != Mode::subscriber) {
    log::error("bus redis subscribe() on a commands connection", {{"redis", address_.describe()}});
    return;
  }
  std::lock_guard lock(mutex_);
  if (!wanted_.insert(channel).second) return;
  if (link_ && link_->up) {
    link_->awaited_acks += 1;
    link_->out += format_command({"SUBSCRIBE", channel});
    write_locked(link_);
  }
}

void Connection::Impl::unsubscribe(const std::string& channel) {
  if (mode_ != Mode::subscriber) return;
  std::lock_guard lock(mutex_);
  if (wanted_.erase(channel) == 0) return;
  if (link_ && link_->up) {
    link_->awaited_acks += 1;
    link_->out += format_command({"UNSUBSCRIBE", channel});
    write_locked(link_);
  }
}

Connection::Connection(asio::io_context& ioc, Address address, Mode mode, Handlers handlers)
    : Connection(ioc, std::move(address), mode, std::move(handlers), Options{}) {}

Connection::Connection(asio::io_context& ioc, Address address, Mode mode, Handlers handlers, Options options)
    : impl_(std::make_shared<Impl>(ioc, std::move(address), mode, std::move(handlers), options)) {}

Connection::~Connection() { impl_->shutdown(true); }

void Connection::start() { impl_->start(); }
void Connection::stop() { impl_->shutdown(false); }
bool Connection::up() const { return impl_->up(); }

void Connection::command(std::vector<std::string> args, Callback done) {
  impl_->command(std::move(args), std::move(done), false);
}

Reply Connection::call(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  return impl_->call(std::move(args), timeout);
}

void Connection::subscribe(const std::string& channel) { impl_->subscribe(channel); }
void Connection::unsubscribe(const std::string& channel) { impl_->unsubscribe(channel); }

}  // namespace parley::server::redis
