#include "raw_ws.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

#include "support/parleyd_process.hpp"

namespace parley::test {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::max<long long>(0, left));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string client_frame(const FrameSpec& spec) {
  std::string out;
  out.push_back(static_cast<char>((spec.fin ? 0x80 : 0) | ((spec.rsv & 7) << 4) | (spec.opcode & 0x0F)));
  std::uint64_t length = spec.length.value_or(spec.payload.size());
  std::uint8_t code = spec.length_code.value_or(length < 126       ? static_cast<std::uint8_t>(length)
                                                : length <= 0xFFFF ? 126
                                                                   : 127);
  out.push_back(static_cast<char>((spec.mask ? 0x80 : 0) | code));
  if (code == 126) {
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else if (code == 127) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((length >> shift) & 0xFF));
  }
  if (!spec.mask) return out + spec.payload;
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uint8_t key[4];
  for (auto& k : key) k = static_cast<std::uint8_t>(rng());
  out.append(reinterpret_cast<const char*>(key), 4);
  std::size_t start = out.size();
  out += spec.payload;
  for (std::size_t i = 0; i < spec.payload.size(); ++i) out[start + i] = static_cast<char>(out[start + i] ^ key[i & 3]);
  return out;
}

std::string client_frame(std::uint8_t opcode, std::string_view payload, bool fin) {
  FrameSpec spec;
  spec.opcode = opcode;
  spec.payload = std::string(payload);
  spec.fin = fin;
  return client_frame(spec);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  return p + std::string(reason);
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

RawSocket::RawSocket(std::uint16_t port, int receive_buffer, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  if (receive_buffer > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      int e = errno;
      ::close(fd_);
      throw std::runtime_error("bind to " + source + ": " + std::strerror(e));
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("connect: ") + std::strerror(e));
  }
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawSocket::write(std::string_view bytes, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
      continue;
    }
    return false;  // reset, broken pipe
  }
  return true;
}

void RawSocket::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

bool RawSocket::fill(std::chrono::milliseconds timeout) {
  if (eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return r == 0;  // nothing yet
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n > 0) {
    in_.append(buf, static_cast<std::size_t>(n));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  eof_ = true;
  reset_ = n < 0 && errno == ECONNRESET;
  return false;
}

HttpResponse RawSocket::read_http(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  HttpResponse res;
  std::size_t end;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (Clock::now() >= deadline || (!fill(std::chrono::milliseconds(remaining_ms(deadline))) && eof_)) return res;
  }
  std::string head = in_.substr(0, end);
  in_.erase(0, end + 4);
  auto line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  auto sp = status_line.find(' ');
  if (sp != std::string::npos) res.status = std::atoi(status_line.c_str() + sp + 1);
  std::size_t at = line_end == std::string::npos ? head.size() : line_end + 2;
  while (at < head.size()) {
    auto next = head.find("\r\n", at);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(at, next - at);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      res.headers[lower(line.substr(0, colon))] = value;
    }
    at = next + 2;
  }
  std::size_t length = static_cast<std::size_t>(std::atoll(res.header("content-length").c_str()));
  while (in_.size() < length && Clock::now() < deadline) {
    if (!fill(std::chrono::milliseconds(remaining_ms(deadline))) && eof_) break;
  }
  res.body = in_.substr(0, std::min(length, in_.size()));
  in_.erase(0, res.body.size());
  return res;
}

std::optional<ServerFrame> RawSocket::read_frame(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (in_.size() >= 2) {
      auto b0 = static_cast<std::uint8_t>(in_[0]);
      auto b1 = static_cast<std::uint8_t>(in_[1]);
      std::size_t header = 2;
      std::uint64_t length = b1 & 0x7F;
      if (length == 126) header += 2;
      if (length == 127) header += 8;
      if (b1 & 0x80) header += 4;
      if (in_.size() >= header) {
        if (length >= 126) {
          length = 0;
          for (std::size_t i = 2; i < (((b1 & 0x7F) == 126) ? 4u : 10u); ++i) {
            length = (length << 8) | static_cast<std::uint8_t>(in_[i]);
          }
        }
        if (in_.size() >= header + length) {
          ServerFrame f;
          f.fin = (b0 & 0x80) != 0;
          f.rsv = static_cast<std::uint8_t>((b0 >> 4) & 7);
          f.opcode = b0 & 0x0F;
          f.masked = (b1 & 0x80) != 0;
          f.payload = in_.substr(header, static_cast<std::size_t>(length));
          in_.erase(0, header + static_cast<std::size_t>(length));
          return f;
        }
      }
    }
    if (Clock::now() >= deadline) return std::nullopt;
    if (!fill(std::chrono::milliseconds(remaining_ms(deadline))) && eof_) return std::nullopt;
  }
}

std::string upgrade_request(const std::string& extra, const std::string& drop) {
  std::string dropped = "," + lower(drop) + ",";
  auto keep = [&](const char* name) { return dropped.find("," + lower(name) + ",") == std::string::npos; };
  std::string r = "GET /ws HTTP/1.1\r\n";
  if (keep("Host")) r += "Host: 127.0.0.1\r\n";
  if (keep("Upgrade")) r += "Upgrade: websocket\r\n";
  if (keep("Connection")) r += "Connection: Upgrade\r\n";
  if (keep("Sec-WebSocket-Key")) r += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  if (keep("Sec-WebSocket-Version")) r += "Sec-WebSocket-Version: 13\r\n";
  return r + extra + "\r\n";
}

HttpResponse raw_http(std::uint16_t port, const std::string& request) {
  RawSocket s(port);
  s.write(request);
  return s.read_http();
}

RawWs::RawWs(std::uint16_t port, const std::string& subprotocol, int receive_buffer, const std::string& source)
    : socket_(port, receive_buffer, source) {
  std::string extra = subprotocol.empty() ? "" : "Sec-WebSocket-Protocol: " + subprotocol + "\r\n";
  socket_.write(upgrade_request(extra));
  HttpResponse res = socket_.read_http();
  if (res.status != 101) throw std::runtime_error("upgrade refused: " + std::to_string(res.status) + " " + res.body);
}

bool RawWs::hello(const std::string& user) {
  send_text(R"({"type":"hello","ref":"hello","v":1,"token":")" + token_for(user, user) + R"("})");
  auto f = next();
  return f && f->payload.find("\"welcome\"") != std::string::npos;
}

std::optional<ServerFrame> RawWs::next(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto f = socket_.read_frame(std::chrono::milliseconds(remaining_ms(deadline)));
    if (!f) return std::nullopt;
    if (f->opcode == 0x9) {
      send_raw(client_frame(0xA, f->payload));
      continue;
    }
    if (f->opcode == 0x8) return std::nullopt;
    return f;
  }
}

CloseSeen RawWs::wait_close(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  CloseSeen seen;
  for (;;) {
    auto f = socket_.read_frame(std::chrono::milliseconds(remaining_ms(deadline)));
    if (!f) {
      if (socket_.eof()) {
        seen.code = 1006;
        seen.tcp_closed = true;
        seen.reset = socket_.reset();
      }
      return seen;
    }
    if (f->opcode != 0x8) continue;  // frames sent before the close
    seen.code = 1005;
    if (f->payload.size() >= 2) {
      seen.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(f->payload[0]) << 8) |
                                             static_cast<std::uint8_t>(f->payload[1]));
      seen.reason = f->payload.substr(2);
    }
    break;
  }
  // Echo it, as a client does, and wait for the server to end the TCP connection.
  send_raw(client_frame(0x8, close_payload(seen.code == 1005 ? 1000 : seen.code)), std::chrono::seconds(1));
  while (Clock::now() < deadline) {
    auto f = socket_.read_frame(std::chrono::milliseconds(remaining_ms(deadline)));
    if (!f && socket_.eof()) {
      seen.tcp_closed = true;
      seen.reset = socket_.reset();
      break;
    }
  }
  return seen;
}

std::optional<std::string> check_served(std::uint16_t port, const std::string& source) {
  try {
    RawWs ws(port, "parley.v1.json", 0, source);
    if (!ws.hello("fresh")) return "a fresh client was not welcomed";
    ws.send_text(R"({"type":"ping","ref":"p"})");
    auto f = ws.next();
    if (!f || f->payload.find("\"pong\"") == std::string::npos) return "a fresh client got no pong";
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string("a fresh client could not connect: ") + e.what();
  }
}

}  // namespace parley::test
