#include "ws_connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "clock.hpp"
#include "log.hpp"
#include "server_context.hpp"
#include "worker.hpp"

namespace parley::server {

namespace net = boost::asio;

namespace {

// Frames that are not protocol messages (handshake, pings, close) skip the
// per-type metrics.
constexpr std::uint8_t kControl = 0xFF;

SharedFrame control_frame(std::string bytes) {
  auto f = std::make_shared<OutFrame>();
  f->bytes = std::move(bytes);
  f->type = kControl;
  return f;
}

constexpr auto kCloseGrace = std::chrono::seconds(2);

}  // namespace

WsConnection::WsConnection(Socket socket, Worker& worker, ServerContext& context, protocol::Codec codec,
                           std::string remote_ip, ConnectionSlot slot)
    : slot_(std::move(slot)),
      socket_(std::move(socket)),
      worker_(worker),
      context_(context),
      remote_ip_(std::move(remote_ip)),
      parser_(context.config.max_frame_bytes),
      codec_(codec) {
  state_since_ = last_received_ = last_sent_ = Clock::now();
}

WsConnection::~WsConnection() {
  // Never in the registry here (it holds a reference until finish()); only a
  // connection torn down with its worker arrives unfinished.
  count_closed();
  session_.reset();  // leaves rooms while `this` is still a valid key
  worker_.metrics().queued_bytes.fetch_sub(static_cast<std::int64_t>(queued_bytes_), std::memory_order_relaxed);
}

std::size_t WsConnection::worker() const { return worker_.index(); }

void WsConnection::start(std::string handshake_response, std::string leftover) {
  worker_.adopt(shared_from_this());
  WorkerMetrics::add(worker_.metrics().connections_opened);
  worker_.metrics().connections.fetch_add(1, std::memory_order_relaxed);
  counted_ = true;
  session_ = std::make_unique<ClientSession>(context_.session_services(), worker_.metrics(), weak_from_this());
  lane_ = context_.lanes->make_lane();
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  enqueue(control_frame(std::move(handshake_response)));
  if (!leftover.empty()) consume(leftover);
  if (state_ != State::closed) wait_readable();
}

void WsConnection::wait_readable() {
  socket_.async_wait(net::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void WsConnection::on_readable(boost::system::error_code ec) {
  if (state_ == State::closed) return;
  if (ec) return finish();
  // One read buffer per thread: idle connections hold none.
  thread_local std::vector<char> buffer(64 * 1024);
  for (int round = 0; round < 4 && state_ != State::closed; ++round) {
    if (pending_.load(std::memory_order_acquire) >= kMaxPending) {
      // The storage threads are behind with this client's requests: read no
      // more until they catch up (the last of them resumes reading).
      reading_paused_.store(true, std::memory_order_release);
      if (pending_.load(std::memory_order_acquire) > 0 || !reading_paused_.exchange(false)) return;
    }
    std::size_t n = socket_.read_some(net::buffer(buffer), ec);
    if (ec == net::error::would_block) break;
    if (ec || n == 0) return finish();  // EOF or reset
    last_received_ = Clock::now();
    consume(std::string_view(buffer.data(), n));
    if (n < buffer.size()) break;
  }
  if (state_ != State::closed) wait_readable();
}

void WsConnection::consume(std::string_view bytes) {
  thread_local std::vector<ws::Event> events;
  events.clear();
  auto failure = parser_.feed(bytes, events);
  for (auto& e : events) {
    if (state_ == State::closed) return;
    handle(e);
  }
  if (failure && state_ == State::open) {
    log::info("websocket protocol error",
              {{"code", std::to_string(failure->code)}, {"reason", failure->reason}, {"ip", remote_ip_}});
    // Reading goes on after this, and the parser drops what comes: closing
    // a socket with unread input would reset it, and the peer could lose our
    // close frame before reading it. The peer's EOF, or the close grace, ends it.
    begin_close(failure->code, failure->reason);
  }
}

void WsConnection::handle(ws::Event& e) {
  switch (e.kind) {
    case ws::Event::Kind::text:
    case ws::Event::Kind::binary:
      if (state_ != State::open) break;
      // parley.v1.json is text frames only, parley.v1.bin binary only.
      if ((e.kind == ws::Event::Kind::binary) != (codec_ == protocol::Codec::binary)) {
        return begin_close(1003, codec_ == protocol::Codec::binary ? "parley.v1.bin takes binary frames only"
                                                                   : "parley.v1.json takes text frames only");
      }
      pending_.fetch_add(1, std::memory_order_acq_rel);
      to_session([self = shared_from_this(), payload = std::string(e.payload), now = wall_ms()](ClientSession& s) {
        s.on_frame(payload, now);
        if (self->pending_.fetch_sub(1, std::memory_order_acq_rel) == 1 && self->reading_paused_.exchange(false)) {
          net::post(self->socket_.get_executor(), [self] { self->resume_reading(); });
        }
      });
      break;
    case ws::Event::Kind::ping:
      enqueue(control_frame(ws::make_frame(ws::Opcode::pong, e.payload)));
      break;
    case ws::Event::Kind::pong:
      break;
    case ws::Event::Kind::close:
      if (state_ == State::closing) return finish();  // the answer to our close
      // Echo the peer's close, then end the connection once it is written.
      begin_close(e.close_code == 1005 ? 1000 : e.close_code, "");
      break;
  }
}

void WsConnection::to_session(std::function<void(ClientSession&)> job) {
  lane_->post([self = shared_from_this(), job = std::move(job)] { job(*self->session_); });
}

void WsConnection::resume_reading() {
  if (state_ != State::closed) wait_readable();
}

void WsConnection::session_closed() {
  if (session_closed_ || !session_) return;
  session_closed_ = true;
  to_session([now = wall_ms()](ClientSession& s) { s.on_closed(now); });
}

void WsConnection::deliver_local(const SharedFrame& frame) { enqueue(frame); }

void WsConnection::close(std::uint16_t code, std::string reason) {
  net::post(socket_.get_executor(), [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
    self->begin_close(code, std::move(reason));
  });
}

void WsConnection::enqueue(SharedFrame frame, bool close_frame) {
  // Once closing, only the close frame itself is still queued.
  if (state_ == State::closed || (state_ == State::closing && !close_frame)) return;
  std::size_t size = frame->bytes.size();
  // Every frame counts against the bound, pongs too (a client that pings and
  // never reads is a slow consumer); only the close frame goes past it.
  if (!close_frame && queued_bytes_ + size > context_.config.max_queue_bytes) {
    // The client is not reading: drop what it will never get and close.
    WorkerMetrics::add(worker_.metrics().slow_consumers);
    log::info("slow consumer", {{"queued_bytes", std::to_string(queued_bytes_)}, {"ip", remote_ip_}});
    std::size_t dropped = 0;
    for (const auto& f : queue_) dropped += f->bytes.size();
    queue_.clear();
    queued_bytes_ -= dropped;
    worker_.metrics().queued_bytes.fetch_sub(static_cast<std::int64_t>(dropped), std::memory_order_relaxed);
    return begin_close(protocol::close_code::slow_consumer, "slow consumer: too many unread frames");
  }
  if (frame->type != kControl) {
    WorkerMetrics::add(worker_.metrics().frames_out[frame->type]);
    WorkerMetrics::add(worker_.metrics().bytes_out[frame->type], size);
  }
  queued_bytes_ += size;
  worker_.metrics().queued_bytes.fetch_add(static_cast<std::int64_t>(size), std::memory_order_relaxed);
  WorkerMetrics::raise(worker_.metrics().queue_peak_bytes, static_cast<std::int64_t>(queued_bytes_));
  queue_.push_back(std::move(frame));
  schedule_flush();
}

void WsConnection::schedule_flush() {
  if (flush_scheduled_ || write_in_flight_) return;
  flush_scheduled_ = true;
  // After the handlers already queued on this worker: frames they add join the same write.
  net::post(socket_.get_executor(), [self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->flush();
  });
}

void WsConnection::flush() {
  if (write_in_flight_ || queue_.empty() || state_ == State::closed) return;
  writing_.swap(queue_);
  buffers_.clear();
  std::size_t total = 0;
  for (const auto& f : writing_) {
    buffers_.emplace_back(net::buffer(f->bytes));
    total += f->bytes.size();
  }
  last_sent_ = Clock::now();
  // Most writes fit in the socket's send buffer: write at once (the socket is
  // non-blocking), with no asynchronous operation to allocate and complete.
  // Only what does not fit waits for the socket to become writable.
  boost::system::error_code ec;
  std::size_t written = socket_.write_some(buffers_, ec);
  if (ec == net::error::would_block || ec == net::error::try_again) {
    ec = {};
    written = 0;
  }
  if (ec || written == total) return on_written(ec);
  auto first = buffers_.begin();
  while (written >= first->size()) written -= (first++)->size();
  *first += written;
  buffers_.erase(buffers_.begin(), first);
  write_in_flight_ = true;
  net::async_write(socket_, buffers_,
                   [self = shared_from_this()](boost::system::error_code e, std::size_t) { self->on_written(e); });
}

void WsConnection::on_written(boost::system::error_code ec) {
  write_in_flight_ = false;
  std::size_t written = 0;
  for (const auto& f : writing_) written += f->bytes.size();
  writing_.clear();
  buffers_.clear();
  if (writing_.capacity() > kKeptCapacity) {
    // A burst (a join's presence diffs, a replay) is over: an idle
    // connection keeps no room for it.
    std::vector<SharedFrame>().swap(writing_);
    std::vector<net::const_buffer>().swap(buffers_);
  }
  queued_bytes_ -= written;
  worker_.metrics().queued_bytes.fetch_sub(static_cast<std::int64_t>(written), std::memory_order_relaxed);
  if (ec) return finish();
  if (!queue_.empty()) return flush();
  if (state_ == State::closing) {
    // Our close frame is out: stop sending; the peer's close (or EOF) ends it.
    boost::system::error_code ignored;
    socket_.shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  }
}

void WsConnection::begin_close(std::uint16_t code, std::string reason) {
  if (state_ != State::open) return;
  state_ = State::closing;
  state_since_ = Clock::now();
  enqueue(control_frame(ws::make_close_frame(code, reason)), true);
  session_closed();
}

void WsConnection::finish() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  // Held until this function returns: it may be the last reference.
  std::shared_ptr<WsConnection> registered = worker_.release(*this);
  boost::system::error_code ignored;
  socket_.close(ignored);
  // The place in the limits goes back now, not when the last reference does
  // (a request of this connection may still be on the storage threads).
  slot_.release();
  session_closed();
  count_closed();
}

void WsConnection::count_closed() {
  if (!counted_) return;
  counted_ = false;
  WorkerMetrics::add(worker_.metrics().connections_closed);
  worker_.metrics().connections.fetch_sub(1, std::memory_order_relaxed);
}

void WsConnection::sweep() {
  if (state_ == State::closed) return;
  auto now = Clock::now();
  const Config& config = context_.config;
  if (state_ == State::closing) {
    if (now - state_since_ > kCloseGrace) finish();
    return;
  }
  if (!session_->authenticated()) {
    if (now - state_since_ > std::chrono::milliseconds(config.handshake_timeout_ms)) {
      begin_close(protocol::close_code::handshake_timeout, "no hello in time");
    }
    return;
  }
  if (auto expires = session_->expires_at(); expires && *expires <= wall_ms()) {
    if (expiring_ != *expires) to_session([now = wall_ms()](ClientSession& s) { s.expire(now); });
    expiring_ = *expires;  // once per expiry: a fresh token (auth) moves it
    return;
  }
  if (now - last_received_ > std::chrono::milliseconds(config.idle_timeout_ms)) {
    log::debug("idle connection dropped", {{"ip", remote_ip_}});
    return finish();
  }
  // Ping when nothing went out for an interval (so proxies and NATs keep the
  // connection), and when nothing came in for one: a client that only
  // listens sends nothing while deliveries flow to it, and its pong is what
  // tells it is alive (without that ping, the soak found thousands of
  // listeners dropped as idle). Once welcomed, state_since_ is when the last
  // ping went out: a silent peer gets one per interval, not one per sweep.
  auto ping_every = std::chrono::milliseconds(config.ping_interval_ms);
  bool quiet_out = now - last_sent_ >= ping_every;
  bool quiet_in = now - last_received_ >= ping_every && now - state_since_ >= ping_every;
  if (quiet_out || quiet_in) {
    enqueue(control_frame(ws::make_frame(ws::Opcode::ping, "")));
    state_since_ = now;
  } else if (queue_.empty() && !write_in_flight_) {
    // Between writes: give back what the queues kept for bursts, so that an
    // idle connection holds no write buffers (a busy one reallocates once
    // per sweep).
    std::vector<SharedFrame>().swap(queue_);
    std::vector<SharedFrame>().swap(writing_);
    std::vector<net::const_buffer>().swap(buffers_);
  }
}

}  // namespace parley::server
