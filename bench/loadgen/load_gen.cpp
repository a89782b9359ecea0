// LoadGen's construction and run loop, timing (sleeps, the 1 ms ticker, the publishing pace), and the non-blocking
// sockets: connect with backoff, HTTP upgrade, reads and writes, WebSocket frames.
#include "load_gen.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <exception>

#include "client_frame.hpp"

namespace parley::loadgen {

using parley::bench::Opcode;

// ---------------------------------------------------------------- construction and running

LoadGen::LoadGen(Options o) : opt_(std::move(o)), rbuf_(256 * 1024) {
  endpoint_ = tcp::endpoint(net::ip::make_address(opt_.host), opt_.port);
  publisher_endpoint_ =
      opt_.publisher_port ? tcp::endpoint(net::ip::make_address(opt_.host), opt_.publisher_port) : endpoint_;
  int n = opt_.rooms * opt_.per_room;
  conns_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<Conn>(io_);
    c->index = static_cast<std::uint32_t>(i);
    c->room = static_cast<std::uint32_t>(i / opt_.per_room);
    c->publisher = i % opt_.per_room == 0;
    conns_.push_back(std::move(c));
  }
  publishers_.resize(static_cast<std::size_t>(opt_.rooms));
  for (auto& c : conns_) {
    if (c->publisher) publishers_[c->room].conn = c.get();
  }
  rng_.seed(static_cast<std::uint64_t>(now_ns()));
  // Source addresses 127.0.0.1 .. 127.0.0.N when the target is loopback.
  auto target = endpoint_.address().to_v4().to_bytes();
  for (int i = 0; i < opt_.sources; ++i) {
    if (target[0] == 127) {
      sources_.push_back(net::ip::address_v4({127, 0, 0, static_cast<unsigned char>(1 + i)}));
    }
  }
}

int LoadGen::run() {
  net::co_spawn(io_, ticker(), net::detached);
  net::co_spawn(
      io_,
      [this]() -> net::awaitable<void> {
        if (opt_.scenario == "fanout") {
          co_await fanout();
        } else if (opt_.scenario == "saturation") {
          co_await saturation();
        } else if (opt_.scenario == "idle") {
          co_await idle();
        } else if (opt_.scenario == "storm") {
          co_await storm();
        } else if (opt_.scenario == "soak") {
          co_await soak();
        } else {
          die("unknown --scenario " + opt_.scenario);
        }
        io_.stop();
      },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          die(std::string("scenario failed: ") + ex.what());
        }
      });
  io_.run();
  return 0;
}

// ---------------------------------------------------------------- timing

net::awaitable<void> LoadGen::sleep_s(double seconds) {
  net::steady_timer t(io_);
  t.expires_after(std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9)));
  co_await t.async_wait(net::use_awaitable);
}

net::awaitable<bool> LoadGen::wait_until(const std::function<bool()>& done, double timeout_s, double poll_s) {
  std::int64_t deadline = now_ns() + static_cast<std::int64_t>(timeout_s * 1e9);
  while (!done()) {
    if (now_ns() > deadline) co_return false;
    co_await sleep_s(poll_s);
  }
  co_return true;
}

// Every millisecond: due reconnects, and the publishers' pace.
net::awaitable<void> LoadGen::ticker() {
  net::steady_timer t(io_);
  for (;;) {
    t.expires_after(std::chrono::milliseconds(1));
    co_await t.async_wait(net::use_awaitable);
    std::int64_t now = now_ns();
    while (!retries_.empty() && retries_.top().due <= now) {
      Retry r = retries_.top();
      retries_.pop();
      Conn& c = *conns_[r.conn];
      if (c.gen == r.gen && c.state == State::down) start_connect(c);
    }
    pump(now);
  }
}

void LoadGen::set_rate(double messages_per_s) {
  pace_origin_ = now_ns();
  pace_base_ = generated_;
  rate_ = messages_per_s;
}

void LoadGen::pump(std::int64_t now) {
  if (rate_ <= 0) return;
  auto due = pace_base_ + static_cast<std::uint64_t>(rate_ * static_cast<double>(now - pace_origin_) / 1e9);
  while (generated_ < due) {
    Publisher& p = publishers_[pub_rr_];
    pub_rr_ = (pub_rr_ + 1) % publishers_.size();
    generate(p, now);
  }
}

// ---------------------------------------------------------------- connections

void LoadGen::start_connect(Conn& c) {
  ++c.gen;
  c.state = State::connecting;
  c.in.clear();
  c.out.clear();
  c.fragments.clear();
  c.read_wait = c.write_wait = false;
  std::int64_t now = now_ns();
  if (track_attempts_) attempts_.push_back(now);
  boost::system::error_code ec;
  if (c.sock.is_open()) c.sock.close(ec);
  c.sock.open(tcp::v4(), ec);
  if (ec) return lost(c, "socket: " + ec.message());
  c.sock.non_blocking(true, ec);
  c.sock.set_option(tcp::no_delay(true), ec);
  if (!sources_.empty()) {
    int one = 1;
    ::setsockopt(c.sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    c.sock.bind(tcp::endpoint(sources_[c.index % sources_.size()], 0), ec);
    if (ec) return lost(c, "bind: " + ec.message());
  }
  auto gen = c.gen;
  c.sock.async_connect(c.publisher ? publisher_endpoint_ : endpoint_, [this, &c, gen](boost::system::error_code e) {
    if (gen != c.gen) return;
    if (e) return lost(c, "connect: " + e.message());
    c.state = State::upgrading;
    std::string req = "GET " + path() + " HTTP/1.1\r\nHost: " + opt_.host + ":" + std::to_string(opt_.port) +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n";
    if (opt_.proto == Proto::parley) req += "Sec-WebSocket-Protocol: parley.v1.json\r\n";
    req += "\r\n";
    send_raw(c, req);
    if (gen == c.gen) arm_read(c);
  });
}

std::string LoadGen::path() const {
  switch (opt_.proto) {
    case Proto::parley:
      return "/ws";
    case Proto::ws:
      return "/";
    case Proto::sio:
      return "/socket.io/?EIO=4&transport=websocket";
  }
  return "/";
}

void LoadGen::lost(Conn& c, const std::string& why) {
  if (c.state == State::down) return;
  if (c.state == State::joined) --joined_;
  std::int64_t now = now_ns();
  if (first_loss_ns_ < 0 && track_losses_) first_loss_ns_ = now;
  ++disconnects_;
  if (disconnects_ <= 5 || (disconnects_ & (disconnects_ - 1)) == 0) {
    std::fprintf(stderr, "parley_loadgen: connection %u lost (%s); %llu so far\n", c.index, why.c_str(),
                 static_cast<unsigned long long>(disconnects_));
  }
  c.state = State::down;
  ++c.gen;
  boost::system::error_code ec;
  c.sock.close(ec);
  c.in.clear();
  c.out.clear();
  c.fragments.clear();
  c.read_wait = c.write_wait = false;
  if (stopping_) return;
  // Exponential backoff with full jitter, as Parley's client: base 500 ms,
  // cap 10 s; only a connection that lasted 5 s starts the count over.
  if (c.joined_at > 0 && now - c.joined_at >= 5'000'000'000LL) c.attempt = 0;
  c.joined_at = 0;
  std::int64_t ceiling = 500;
  for (int i = 0; i < c.attempt && ceiling < 10'000; ++i) ceiling *= 2;
  ceiling = std::min<std::int64_t>(ceiling, 10'000);
  double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  auto delay_ms = static_cast<std::int64_t>(unit * static_cast<double>(ceiling + 1)) % (ceiling + 1);
  ++c.attempt;
  retries_.push(Retry{now + delay_ms * 1'000'000, c.index, c.gen});
}

void LoadGen::arm_read(Conn& c) {
  if (c.read_wait || c.state == State::down) return;
  c.read_wait = true;
  auto gen = c.gen;
  c.sock.async_wait(tcp::socket::wait_read, [this, &c, gen](boost::system::error_code ec) {
    if (gen != c.gen) return;
    c.read_wait = false;
    if (ec) return lost(c, "wait: " + ec.message());
    on_readable(c);
  });
}

void LoadGen::on_readable(Conn& c) {
  auto gen = c.gen;
  for (int round = 0; round < 8; ++round) {
    boost::system::error_code ec;
    std::size_t n = c.sock.read_some(net::buffer(rbuf_), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) break;
    if (ec) return lost(c, "read: " + ec.message());
    if (n == 0) return lost(c, "eof");
    recv_now_ = now_ns();
    feed(c, std::string_view(rbuf_.data(), n));
    if (gen != c.gen) return;
    if (n < rbuf_.size()) break;
  }
  arm_read(c);
}

void LoadGen::send_raw(Conn& c, std::string_view bytes) {
  if (c.state == State::down) return;
  if (c.out.empty() && !c.write_wait) {
    boost::system::error_code ec;
    std::size_t n = c.sock.write_some(net::buffer(bytes.data(), bytes.size()), ec);
    if (ec == net::error::would_block || ec == net::error::try_again) {
      n = 0;
    } else if (ec) {
      return lost(c, "write: " + ec.message());
    }
    if (n == bytes.size()) return;
    bytes.remove_prefix(n);
  }
  c.out.append(bytes);
  arm_write(c);
}

void LoadGen::arm_write(Conn& c) {
  if (c.write_wait) return;
  c.write_wait = true;
  auto gen = c.gen;
  c.sock.async_wait(tcp::socket::wait_write, [this, &c, gen](boost::system::error_code ec) {
    if (gen != c.gen) return;
    c.write_wait = false;
    if (ec) return lost(c, "wait write: " + ec.message());
    std::string pending;
    pending.swap(c.out);
    send_raw(c, pending);
  });
}

void LoadGen::send_text(Conn& c, std::string_view payload) {
  frame_.clear();
  mask_ = mask_ * 1664525u + 1013904223u;
  parley::bench::append_client_frame(frame_, Opcode::text, payload, mask_);
  send_raw(c, frame_);
}

void LoadGen::feed(Conn& c, std::string_view data) {
  auto gen = c.gen;
  std::string held;
  if (c.state == State::upgrading) {
    c.in.append(data);
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (c.in.size() > 16384) lost(c, "HTTP response too large");
      return;
    }
    if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
      return lost(c, "upgrade refused: " + c.in.substr(0, c.in.find("\r\n")));
    }
    held = c.in.substr(end + 4);
    c.in.clear();
    c.state = State::opening;
    on_open(c);
    if (gen != c.gen) return;
    data = held;
  } else if (!c.in.empty()) {
    held.swap(c.in);
    held.append(data);
    data = held;
  }
  std::size_t at = 0;
  while (at < data.size()) {
    parley::bench::ServerFrame f;
    std::size_t used = 0;
    auto r = parley::bench::parse_server_frame(data.substr(at), f, used);
    if (r == parley::bench::ParseResult::incomplete) break;
    if (r == parley::bench::ParseResult::error) return lost(c, "bad frame");
    at += used;
    switch (f.opcode) {
      case 0x1:
      case 0x2:
        if (f.fin) {
          on_text(c, f.payload);
        } else {
          c.fragments.assign(f.payload);
        }
        break;
      case 0x0:
        c.fragments.append(f.payload);
        if (f.fin) {
          std::string whole;
          whole.swap(c.fragments);
          on_text(c, whole);
        }
        break;
      case 0x9:
        frame_.clear();
        parley::bench::append_client_frame(frame_, Opcode::pong, f.payload, mask_);
        send_raw(c, frame_);
        break;
      case 0x8: {
        std::uint16_t code = f.payload.size() >= 2
                                 ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(f.payload[0]) << 8) |
                                                              static_cast<std::uint8_t>(f.payload[1]))
                                 : 1005;
        return lost(c, "close " + std::to_string(code));
      }
      default:
        break;
    }
    if (gen != c.gen) return;
  }
  if (at < data.size()) c.in.assign(data.substr(at));
}

}  // namespace parley::loadgen
