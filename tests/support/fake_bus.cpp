#include "support/fake_bus.hpp"

#include "cluster/bus_events.hpp"

namespace parley::test {

bool FakeBus::up() const { return broker_.up; }
bool FakeBus::alive(const std::string& node) const { return !broker_.up || !broker_.dead.count(node); }

void FakeBus::publish(const std::string& channel, std::string event) {
  if (!broker_.up) return;
  if (broker_.lose_ > 0) {
    --broker_.lose_;
    return;
  }
  broker_.queue_.push_back({channel, std::move(event)});
}

void FakeBus::watch(const std::string& channel) {
  if (watched.insert(channel).second) unconfirmed.insert(channel);
}

void FakeBus::unwatch(const std::string& channel) {
  watched.erase(channel);
  unconfirmed.erase(channel);
}

void FakeBus::store_presence(const std::string& channel, const server::Contribution& c) {
  if (!broker_.up) return;
  std::string key = c.node + "/" + c.user_id;
  if (c.status == server::PresenceStatus::offline) {
    broker_.stored[channel].erase(key);
  } else {
    broker_.stored[channel][key] = c;
  }
}

std::vector<server::Contribution> FakeBus::stored_presence(const std::string& channel) {
  std::vector<server::Contribution> out;
  if (!broker_.up) return out;
  for (const auto& [key, c] : broker_.stored[channel]) {
    if (!broker_.dead.count(c.node)) out.push_back(c);
  }
  return out;
}

int FakeBroker::deliver() {
  int n = 0;
  while (!queue_.empty()) {
    Published p = std::move(queue_.front());
    queue_.pop_front();
    auto where = server::parse_room_channel(p.channel);
    auto event = server::decode_room_event(p.event);
    if (!where || !event) continue;
    for (auto& node : nodes_) {
      if (!node.bus->watched.count(p.channel) || node.bus->node() == event->origin) continue;
      if (auto* t = node.server->tenants.find(where->tenant)) {
        t->hub().on_bus_event(where->room_id, *event, node.server->now());
      }
    }
    ++n;
  }
  return n;
}

void FakeBroker::confirm_watches() {
  for (auto& node : nodes_) {
    auto pending = std::move(node.bus->unconfirmed);
    node.bus->unconfirmed.clear();
    for (const auto& channel : pending) {
      auto where = server::parse_room_channel(channel);
      if (!where) continue;
      if (auto* t = node.server->tenants.find(where->tenant)) t->hub().resync(where->room_id);
    }
  }
}

}  // namespace parley::test
