// libFuzzer target for a whole parleyd connection, in process: the bytes a
// client writes go through a real WsConnection (framing, the bounded write
// queue, closing), its ClientSession (hello, rate limits, every request) and
// the Hub (rooms, storage in memory, fan-out), on a socket pair driven by the
// worker's own io_context. After each input the client end is closed, and
// the connection must be gone from its worker's registry with every gauge
// back to zero: the class of bug where a closed connection stayed registered
// and the next sweep read freed memory.
//
// Input: byte 0 chooses how the rest is sent.
//   bit 0  say hello with a valid token first (so the requests are served)
//   bit 1  parley.v1.bin instead of parley.v1.json
//   bit 2  framed: the rest is messages separated by '\n', each sent as one
//          masked data frame (mask key 0); otherwise raw WebSocket bytes
//   bits 3-7  the size of the writes (1 to 31 bytes, or all at once for 0;
//             at least a 32nd of the whole)
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "auth.hpp"
#include "log.hpp"
#include "parley/protocol/codec.hpp"
#include "server_context.hpp"
#include "ws_connection.hpp"

using namespace parley;
using namespace parley::server;

namespace {

constexpr const char* kSecret = "fuzz-secret";

// One context for many inputs (building it is the slow part), rebuilt now
// and then so that rooms and messages stored in memory do not pile up.
struct Fixture {
  std::unique_ptr<ServerContext> context;
  std::size_t runs = 0;

  ServerContext& get() {
    if (!context || ++runs % 5000 == 0) {
      context.reset();
      Config config;
      config.storage = "memory";
      config.threads = 1;
      config.storage_threads = 0;  // requests at once on the worker this harness turns by hand
      config.jwt_secret = kSecret;
      config.max_frame_bytes = 4096;
      config.max_queue_bytes = 64 * 1024;
      config.abuse_limit = 1000;
      context = std::make_unique<ServerContext>(config);
    }
    return *context;
  }
};

std::string masked_frame(std::uint8_t opcode, std::string_view payload) {
  std::string out;
  out.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(0x80 | payload.size()));
  } else {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>((payload.size() >> 8) & 0xFF));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
  }
  out.append(4, '\0');  // mask key 0: the payload reads as itself
  out.append(payload);
  return out;
}

std::string hello(protocol::Codec codec) {
  static const std::string token = sign_hs256(R"({"sub":"fuzz","name":"Fuzz","exp":99999999999})", kSecret);
  protocol::c2s::Hello h;
  h.ref = "h";
  h.v = 1;
  h.token = token;
  return protocol::encode(protocol::c2s::Frame{h}, codec);
}

// Reads and drops what the server wrote, so that its writes never block.
void drain(int fd) {
  char buffer[65536];
  while (::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::set_level(log::Level::error);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static Fixture fixture;
  ServerContext& context = fixture.get();
  Worker& worker = *context.workers[0];
  auto& ioc = worker.ioc();

  std::uint8_t flags = data[0];
  auto codec = (flags & 2) ? protocol::Codec::binary : protocol::Codec::json;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes;
  if (flags & 1) bytes += masked_frame(codec == protocol::Codec::binary ? 0x2 : 0x1, hello(codec));
  if (flags & 4) {
    while (!input.empty()) {
      auto end = input.find('\n');
      bytes += masked_frame(codec == protocol::Codec::binary ? 0x2 : 0x1, input.substr(0, end));
      input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    }
  } else {
    bytes.append(input);
  }
  // At most 32 writes (each is a turn of the worker's loop): splits land
  // anywhere, and a long input stays fast to run.
  std::size_t step = flags >> 3;
  if (step == 0) step = bytes.size();
  step = std::max(step, (bytes.size() + 31) / 32);

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  Socket socket(ioc);
  boost::system::error_code ec;
  socket.assign(boost::asio::ip::tcp::v4(), fds[0], ec);
  if (ec) std::abort();
  Admission::Refusal refusal = Admission::Refusal::none;
  ConnectionSlot slot = context.admission.admit("fuzz", false, refusal);
  if (!slot || context.admission.upgrade(slot, "fuzz") != Admission::Refusal::none) std::abort();
  {
    auto connection =
        std::make_shared<WsConnection>(std::move(socket), worker, context, codec, "fuzz", std::move(slot));
    connection->start("HTTP/1.1 101 Switching Protocols\r\n\r\n", "");
  }
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  for (std::size_t at = 0; at < bytes.size();) {
    ssize_t n = ::send(fds[1], bytes.data() + at, std::min(step, bytes.size() - at), MSG_NOSIGNAL);
    if (n > 0) at += static_cast<std::size_t>(n);
    if (n < 0 && errno != EAGAIN) break;  // the server closed: the rest is never read
    ioc.poll();
    drain(fds[1]);
  }
  ::shutdown(fds[1], SHUT_WR);
  // The connection sees the end of its input (or was closed before it) and
  // finishes; its frames already queued are written or dropped.
  for (int round = 0; round < 1000 && worker.connection_count() > 0; ++round) {
    ioc.poll();
    drain(fds[1]);
  }
  ioc.poll();
  ::close(fds[1]);

  const WorkerMetrics& m = worker.metrics();
  if (worker.connection_count() != 0) std::abort();         // still registered after its end
  if (m.connections.load() != 0) std::abort();              // the gauge does not balance
  if (m.queued_bytes.load() != 0) std::abort();             // queued bytes not given back
  if (context.admission.counts().total != 0) std::abort();  // its place in the limits not given back
  return 0;
}
