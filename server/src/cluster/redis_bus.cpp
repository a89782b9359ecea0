#include "cluster/redis_bus.hpp"

#include <openssl/sha.h>

#include <boost/asio/post.hpp>
#include <cstdio>
#include <random>

#include "log.hpp"

namespace parley::server {

namespace {

std::string new_node_id() {
  std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = "n";
  std::uint64_t r = rng();
  for (int i = 0; i < 11; ++i) {
    id.push_back(kAlphabet[r % 36]);
    r /= 36;
  }
  return id;
}

// Scripts run by their SHA1 (EVALSHA), sent whole only when Redis has not
// seen them yet (after a restart).
std::string sha1_hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string out;
  char hex[3];
  for (unsigned char b : digest) {
    std::snprintf(hex, sizeof hex, "%02x", b);
    out += hex;
  }
  return out;
}

std::string alive_key(const std::string& node) { return "p:alive:" + node; }
std::string presence_key(const std::string& channel) { return "p:pres:" + channel; }

// The stored words of live nodes; those of nodes gone are deleted on the way.
constexpr const char* kStoredPresence = R"lua(
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local slash = string.find(all[i], '/', 1, true)
  local node = slash and string.sub(all[i], 1, slash - 1) or ''
  if redis.call('EXISTS', 'p:alive:' .. node) == 1 then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return out
)lua";

// A user's connections over the live nodes (a hash of counts by node):
// counts one more unless that reaches the limit. 1 if counted, else 0.
constexpr const char* kAddConnection = R"lua(
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if redis.call('EXISTS', 'p:alive:' .. all[i]) == 1 then
    total = total + tonumber(all[i + 1])
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
return 1
)lua";

constexpr const char* kRemoveConnection = R"lua(
if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
)lua";

// A token bucket on Redis's clock (nodes' clocks may differ): 0 when a token
// was taken, else the milliseconds until one is due. It expires once full.
constexpr const char* kTakeToken = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
)lua";

// How long a request waits for Redis before UserLimits decides alone.
constexpr std::chrono::milliseconds kLimitTimeout{200};

std::string rate_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::optional<Contribution> parse_word(const std::string& field, const std::string& value) {
  auto slash = field.find('/');
  auto colon = value.find(':');
  if (slash == std::string::npos || slash == 0 || slash + 1 == field.size() || colon != 1) return std::nullopt;
  int status = value[0] - '0';
  if (status < 1 || status > static_cast<int>(PresenceStatus::away)) return std::nullopt;
  Contribution c;
  c.node = field.substr(0, slash);
  c.user_id = field.substr(slash + 1);
  c.status = static_cast<PresenceStatus>(status);
  try {
    c.last_seen = std::stoll(value.substr(2));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return c;
}

}  // namespace

RedisBus::RedisBus(const std::string& url, Handlers handlers)
    : node_(new_node_id()), handlers_(std::move(handlers)), beat_timer_(ioc_) {
  redis::Address address = redis::Address::parse(url);
  address_ = address.describe();
  auto went_down = [this](const std::string& why) {
    std::int64_t expected = 0;
    if (down_since_ms_.compare_exchange_strong(expected, steady_ms())) {
      outages_.fetch_add(1, std::memory_order_relaxed);
      log::warn("bus down", {{"bus", address_}, {"node", node_}, {"why", why}});
    }
  };
  auto came_up = [this] {
    if (!up()) return;
    {
      // Nothing was heard while down: every node gets a fresh timeout.
      std::lock_guard lock(mutex_);
      for (auto& [node, heard] : heard_) heard.at_ms = steady_ms();
    }
    if (down_since_ms_.exchange(0) != 0) log::info("bus up", {{"bus", address_}, {"node", node_}});
  };
  redis::Connection::Handlers command_handlers;
  command_handlers.on_up = [this, came_up] {
    beat();  // this node is alive before its first heartbeat is due
    came_up();
  };
  command_handlers.on_down = went_down;
  commands_ = std::make_unique<redis::Connection>(ioc_, address, redis::Connection::Mode::commands, command_handlers);
  redis::Connection::Handlers subscriber_handlers;
  subscriber_handlers.on_up = came_up;
  subscriber_handlers.on_down = went_down;
  subscriber_handlers.on_message = [this](const std::string& channel, const std::string& payload) {
    on_message(channel, payload);
  };
  subscriber_handlers.on_subscribed = [this](const std::string& channel) {
    if (channel != kNodesChannel && handlers_.room_heard) handlers_.room_heard(channel);
  };
  subscriber_ =
      std::make_unique<redis::Connection>(ioc_, address, redis::Connection::Mode::subscriber, subscriber_handlers);
  down_since_ms_.store(steady_ms());  // until both connections are up
}

RedisBus::~RedisBus() { stop(); }

std::int64_t RedisBus::steady_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void RedisBus::start() {
  if (running_.exchange(true)) return;
  subscriber_->subscribe(std::string(kNodesChannel));
  commands_->start();
  subscriber_->start();
  schedule_beat();
  thread_ = std::thread([this] { ioc_.run(); });
  log::info("bus starting", {{"bus", address_}, {"node", node_}});
}

void RedisBus::stop() {
  if (!running_.exchange(false)) return;
  // Joiners elsewhere stop reading this node's presence words at once.
  if (commands_->up()) commands_->call({"DEL", alive_key(node_)}, std::chrono::milliseconds(200));
  boost::asio::post(ioc_, [this] { beat_timer_.cancel(); });
  commands_->stop();
  subscriber_->stop();
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

void RedisBus::schedule_beat() {
  beat_timer_.expires_after(kHeartbeat);
  beat_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !running_) return;
    beat();
    schedule_beat();
  });
}

void RedisBus::beat() {
  if (!commands_->up()) return;
  commands_->command({"SET", alive_key(node_), "1", "PX", std::to_string(kNodeTimeout.count())});
  NodeEvent e;
  e.kind = NodeEvent::Kind::heartbeat;
  e.origin = node_;
  e.text = handlers_.stats ? handlers_.stats() : "{}";
  commands_->command({"PUBLISH", std::string(kNodesChannel), encode(e)});
  // Nodes long gone are forgotten (alive() treats a node never heard as new).
  std::lock_guard lock(mutex_);
  std::int64_t now = steady_ms();
  std::erase_if(heard_, [&](const auto& h) { return now - h.second.at_ms > 20 * kNodeTimeout.count(); });
}

bool RedisBus::up() const { return commands_->up() && subscriber_->up(); }

bool RedisBus::alive(const std::string& node) const {
  if (node == node_ || !up()) return true;  // while down, nothing can be known: keep what was
  std::lock_guard lock(mutex_);
  auto it = heard_.find(node);
  if (it == heard_.end()) {
    // First word of this node (through a room or storage): alive from now on
    // until it stays silent for the timeout.
    heard_[node].at_ms = steady_ms();
    return true;
  }
  return steady_ms() - it->second.at_ms <= kNodeTimeout.count();
}

void RedisBus::publish(const std::string& channel, std::string event) {
  if (!running_ || !commands_->up()) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  published_.fetch_add(1, std::memory_order_relaxed);
  commands_->command({"PUBLISH", channel, std::move(event)});
}

void RedisBus::watch(const std::string& channel) { subscriber_->subscribe(channel); }
void RedisBus::unwatch(const std::string& channel) { subscriber_->unsubscribe(channel); }

void RedisBus::store_presence(const std::string& channel, const Contribution& c) {
  if (!running_ || !commands_->up()) return;
  std::string field = c.node + "/" + c.user_id;
  if (c.status == PresenceStatus::offline) {
    commands_->command({"HDEL", presence_key(channel), field});
    return;
  }
  std::string value = std::to_string(static_cast<int>(c.status)) + ":" + std::to_string(c.last_seen);
  commands_->command({"HSET", presence_key(channel), field, value});
}

std::vector<Contribution> RedisBus::stored_presence(const std::string& channel) {
  std::vector<Contribution> out;
  if (!running_ || !commands_->up()) return out;
  redis::Reply reply = eval(kStoredPresence, {presence_key(channel)}, std::chrono::milliseconds(300));
  if (reply.type != redis::Reply::Type::array) {
    log::warn("bus: presence not read", {{"channel", channel}, {"error", reply.str}});
    return out;
  }
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    if (auto c = parse_word(reply.elements[i].str, reply.elements[i + 1].str)) {
      alive(c->node);  // known from now on
      out.push_back(std::move(*c));
    }
  }
  return out;
}

std::optional<bool> RedisBus::add_connection(const std::string& key, std::uint32_t max) {
  if (!running_ || !commands_->up()) return std::nullopt;
  redis::Reply r = eval(kAddConnection, {"p:conn:" + key, node_, std::to_string(max)}, kLimitTimeout);
  if (r.type != redis::Reply::Type::integer) return std::nullopt;
  return r.integer == 1;
}

void RedisBus::remove_connection(const std::string& key) {
  if (!running_ || !commands_->up()) return;
  commands_->command({"EVAL", kRemoveConnection, "1", "p:conn:" + key, node_});  // rare: sent whole
}

std::optional<std::int64_t> RedisBus::take(const std::string& key, double per_second, double burst) {
  if (!running_ || !commands_->up() || per_second <= 0) return std::nullopt;
  redis::Reply r = eval(kTakeToken, {"p:rate:" + key, rate_number(per_second), rate_number(burst)}, kLimitTimeout);
  if (r.type != redis::Reply::Type::integer) return std::nullopt;
  return static_cast<std::int64_t>(r.integer);
}

redis::Reply RedisBus::eval(const char* script, std::vector<std::string> keys_and_args,
                            std::chrono::milliseconds timeout) {
  static std::mutex shas_mutex;
  static std::map<const char*, std::string> shas;
  std::string sha;
  {
    std::lock_guard lock(shas_mutex);
    auto& s = shas[script];
    if (s.empty()) s = sha1_hex(script);
    sha = s;
  }
  std::vector<std::string> args = {"EVALSHA", sha, "1"};
  args.insert(args.end(), keys_and_args.begin(), keys_and_args.end());
  redis::Reply r = commands_->call(args, timeout);
  if (r.is_error() && r.str.rfind("NOSCRIPT", 0) == 0) {
    args[0] = "EVAL";
    args[1] = script;
    r = commands_->call(std::move(args), timeout);
  }
  return r;
}

void RedisBus::announce(NodeEvent event) {
  event.kind = NodeEvent::Kind::announcement;
  event.origin = node_;
  publish(std::string(kNodesChannel), encode(event));
}

void RedisBus::on_message(const std::string& channel, const std::string& payload) {
  received_.fetch_add(1, std::memory_order_relaxed);
  if (channel != kNodesChannel) {
    if (handlers_.room_event) handlers_.room_event(channel, payload);
    return;
  }
  auto event = decode_node_event(payload);
  if (!event) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  on_node_event(*event);
}

void RedisBus::on_node_event(const NodeEvent& event) {
  if (event.origin == node_) return;
  switch (event.kind) {
    case NodeEvent::Kind::heartbeat: {
      std::lock_guard lock(mutex_);
      heard_[event.origin] = Heard{steady_ms(), event.text};
      return;
    }
    case NodeEvent::Kind::announcement:
      if (handlers_.announcement) handlers_.announcement(event);
      return;
  }
}

std::vector<RedisBus::Peer> RedisBus::nodes() const {
  std::vector<Peer> out;
  out.push_back(Peer{node_, handlers_.stats ? handlers_.stats() : "{}", 0});
  std::lock_guard lock(mutex_);
  std::int64_t now = steady_ms();
  for (const auto& [node, heard] : heard_) {
    if (now - heard.at_ms > kNodeTimeout.count() || heard.stats.empty()) continue;
    out.push_back(Peer{node, heard.stats, now - heard.at_ms});
  }
  return out;
}

std::string RedisBus::metrics_text() const {
  auto counter = [](const char* name, const char* help, std::uint64_t v) {
    return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           std::to_string(v) + "\n";
  };
  auto gauge = [](const char* name, const char* help, std::int64_t v) {
    return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
           std::to_string(v) + "\n";
  };
  std::int64_t since = down_since_ms_.load();
  return gauge("parley_bus_up", "1 when both Redis connections of the cluster bus are up", up() ? 1 : 0) +
         gauge("parley_bus_down_seconds", "how long the bus has been down (0 when up)",
               since == 0 ? 0 : (steady_ms() - since) / 1000) +
         counter("parley_bus_outages_total", "times the bus went down", outages_.load()) +
         counter("parley_bus_published_total", "events published on the bus", published_.load()) +
         counter("parley_bus_dropped_total", "events not published because the bus was down", dropped_.load()) +
         counter("parley_bus_received_total", "events heard on the bus", received_.load()) +
         counter("parley_bus_refused_total", "malformed events heard on the bus, ignored", refused_.load()) +
         gauge("parley_cluster_nodes", "nodes heard on the bus in the last 5 s, this one included",
               static_cast<std::int64_t>(nodes().size()));
}

}  // namespace parley::server
