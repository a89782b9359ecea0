#include "peer.hpp"

#include <map>

#include "ws/frame.hpp"

namespace parley::server {

SharedFrame make_out_frame(const protocol::s2c::Frame& frame, protocol::Codec codec) {
  auto out = std::make_shared<OutFrame>();
  out->bytes = ws::make_frame(codec == protocol::Codec::binary ? ws::Opcode::binary : ws::Opcode::text,
                              protocol::encode(frame, codec));
  out->type = static_cast<std::uint8_t>(frame.index());
  return out;
}

void fan_out(Dispatch& dispatch, const std::vector<std::shared_ptr<Peer>>& peers, const protocol::s2c::Frame& frame) {
  if (peers.empty()) return;
  SharedFrame encoded[2];
  std::map<std::size_t, Delivery> by_worker;
  for (const auto& p : peers) {
    auto codec = static_cast<std::size_t>(p->codec());
    if (!encoded[codec]) encoded[codec] = make_out_frame(frame, p->codec());
    Delivery& d = by_worker[p->worker()];
    d.frames[codec] = encoded[codec];
    d.peers.push_back(p);
  }
  for (auto& [worker, delivery] : by_worker) dispatch.deliver(worker, std::move(delivery));
}

}  // namespace parley::server
