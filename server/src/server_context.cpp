#include "server_context.hpp"

#include <boost/asio/post.hpp>
#include <random>

#include "clock.hpp"
#include "log.hpp"
#include "ws_connection.hpp"

namespace parley::server {

namespace {

std::unique_ptr<Storage> open_storage(const Config& config) {
  if (config.storage == "memory") return make_memory_storage();
  if (config.storage == "postgres") return open_postgres_storage(config.storage_url, config.storage_pool_size);
  return open_sqlite_storage(config.data_dir);
}

std::chrono::milliseconds sweep_interval(const Config& c) {
  auto ms = std::min<std::uint32_t>({1000, c.ping_interval_ms / 2, c.handshake_timeout_ms / 2});
  return std::chrono::milliseconds(std::max<std::uint32_t>(ms, 20));
}

// Often enough to honour the presence timings within a quarter of themselves.
std::chrono::milliseconds tick_interval(const Config& c) {
  auto ms = std::min<std::uint32_t>({1000, c.offline_grace_ms / 4, c.idle_after_ms / 4});
  return std::chrono::milliseconds(std::max<std::uint32_t>(ms, 10));
}

}  // namespace

ServerContext::ServerContext(Config c)
    : config(std::move(c)),
      admission({config.max_connections, config.max_connections_per_ip, config.max_handshakes_per_ip}),
      storage(open_storage(config)),
      verifier(config.jwt_secret),
      workers([&] {
        std::vector<std::unique_ptr<Worker>> w;
        for (unsigned i = 0; i < config.threads; ++i) w.push_back(std::make_unique<Worker>(i, sweep_interval(config)));
        return w;
      }()),
      lanes(std::make_unique<Lanes>(config.storage_threads)),
      bus(open_bus()),
      tenants(*storage, *this, config, config.tenant_limits, bus.get(), bus.get()) {
  for (std::size_t i = 0; i < bus_waiting_.size(); ++i) bus_lanes_.push_back(lanes->make_lane());
}

std::unique_ptr<RedisBus> ServerContext::open_bus() {
  if (config.bus_url.empty()) return nullptr;
  RedisBus::Handlers h;
  h.room_event = [this](const std::string& channel, std::string bytes) {
    std::size_t lane = std::hash<std::string>{}(channel) % bus_lanes_.size();
    // A message that is simply the next of its room goes to the I/O threads
    // from here: one thread fewer on the way (docs/scaling.md).
    if (!bytes.empty() && bytes[0] == static_cast<char>(RoomEvent::Kind::message) &&
        bus_waiting_[lane].load(std::memory_order_acquire) == 0) {
      auto where = parse_room_channel(channel);
      auto event = decode_room_event(bytes);
      Tenant* t = where && event ? tenants.find(where->tenant) : nullptr;
      if (t && t->hub().deliver_now(where->room_id, *event)) return;
    }
    post_bus(lane, [this, channel, bytes = std::move(bytes)] {
      auto where = parse_room_channel(channel);
      auto event = decode_room_event(bytes);
      if (!where || !event) {
        log::warn("bus event refused", {{"channel", channel.substr(0, 200)}});
        return;
      }
      if (Tenant* t = tenants.find(where->tenant)) t->hub().on_bus_event(where->room_id, *event, wall_ms());
    });
  };
  h.room_heard = [this](const std::string& channel) {
    post_bus(std::hash<std::string>{}(channel) % bus_lanes_.size(), [this, channel] {
      auto where = parse_room_channel(channel);
      if (!where) return;
      if (Tenant* t = tenants.find(where->tenant)) t->hub().resync(where->room_id);
    });
  };
  h.announcement = [this](const NodeEvent& e) {
    auto frame = protocol::decode_server_frame(e.text, protocol::Codec::binary);
    auto* a = frame ? std::get_if<protocol::s2c::Announcement>(&frame.value()) : nullptr;
    if (!a) return;
    deliver_announcement(*a, e.tenant.empty() ? std::nullopt : std::optional<std::string>(e.tenant));
  };
  h.stats = [this] { return "{\"connections\":" + std::to_string(open_connections()) + "}"; };
  try {
    return std::make_unique<RedisBus>(config.bus_url, std::move(h));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--bus: ") + e.what());
  }
}

void ServerContext::post_bus(std::size_t lane, std::function<void()> job) {
  bus_waiting_[lane].fetch_add(1, std::memory_order_acq_rel);
  bus_lanes_[lane]->post([this, lane, job = std::move(job)] {
    job();
    bus_waiting_[lane].fetch_sub(1, std::memory_order_acq_rel);
  });
}

ServerContext::~ServerContext() {
  if (bus) bus->stop();  // no bus event is handed to the storage threads from here on
  for (auto& w : workers) w->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  tick_timer_.reset();
  // Requests still on the storage threads run to their end while the
  // workers they answer through exist; then the connections still held by
  // pending handlers leave their rooms as they go, while the hubs are alive.
  lanes->wait_idle();
  workers.clear();
  lanes->wait_idle();
}

void ServerContext::start() {
  if (bus) bus->start();
  tick_timer_ = std::make_unique<boost::asio::steady_timer>(workers[0]->ioc());
  schedule_tick();
  for (auto& w : workers) threads_.emplace_back([worker = w.get()] { worker->run(); });
}

void ServerContext::schedule_tick() {
  tick_timer_->expires_after(tick_interval(config));
  tick_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    // Presence and typing timers touch storage: on the storage threads, and
    // never two ticks at once (a slow one is not queued behind).
    if (!ticking_.exchange(true)) {
      lanes->post([this] {
        tenants.tick(wall_ms());
        ticking_.store(false);
      });
    }
    schedule_tick();
  });
}

void ServerContext::deliver(std::size_t worker, Delivery delivery) { workers[worker]->deliver(std::move(delivery)); }

Worker& ServerContext::next_worker() { return *workers[next_worker_++ % workers.size()]; }

std::int64_t ServerContext::open_connections() {
  std::int64_t n = 0;
  for (const auto& w : workers) n += w->metrics().connections.load(std::memory_order_relaxed);
  return n;
}

std::string ServerContext::metrics_text() {
  std::vector<const WorkerMetrics*> all;
  for (const auto& w : workers) all.push_back(&w->metrics());
  Gauges g;
  g.messages_stored = storage->message_count();
  g.uptime_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
  std::vector<TenantGauges> by_tenant;
  tenants.for_each([&](Tenant& t) {
    Tenant::Usage u = t.usage();
    g.rooms_loaded += u.rooms_loaded;
    by_tenant.push_back(TenantGauges{t.name(), u.connections, u.rooms, u.rooms_loaded, u.messages,
                                     u.refused_connections, u.refused_messages, u.refused_rooms});
  });
  return render_metrics(all, g) + render_tenant_metrics(by_tenant) + admission.metrics_text() +
         (bus ? bus->metrics_text() : std::string());
}

std::string ServerContext::health_json() {
  if (!bus) return "{\"status\":\"ok\"}\n";
  bool up = bus->up();
  return std::string("{\"status\":\"") + (up ? "ok" : "degraded") + "\",\"node\":\"" + bus->node() + "\",\"bus\":\"" +
         (up ? "up" : "down") + "\"}\n";
}

std::string ServerContext::cluster_json() {
  if (!bus) return "";
  std::string nodes;
  for (const auto& n : bus->nodes()) {
    if (!nodes.empty()) nodes += ",";
    nodes +=
        "{\"node\":\"" + n.node + "\",\"heardMsAgo\":" + std::to_string(n.heard_ms_ago) + ",\"stats\":" + n.stats + "}";
  }
  return std::string(",\"cluster\":{\"node\":\"") + bus->node() + "\",\"bus\":\"" + (bus->up() ? "up" : "down") +
         "\",\"nodes\":[" + nodes + "]}";
}

std::string ServerContext::stats_json() {
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
  std::int64_t loaded = 0;
  std::string by_tenant;
  tenants.for_each([&](Tenant& t) {
    Tenant::Usage u = t.usage();
    loaded += u.rooms_loaded;
    if (!by_tenant.empty()) by_tenant += ",";
    by_tenant += "\"" + t.name() + "\":{\"connections\":" + std::to_string(u.connections) +
                 ",\"rooms\":" + std::to_string(u.rooms) + ",\"roomsLoaded\":" + std::to_string(u.rooms_loaded) +
                 ",\"messages\":" + std::to_string(u.messages) + ",\"limits\":" + to_json(t.limits()) + "}";
  });
  return "{\"connections\":" + std::to_string(open_connections()) + ",\"roomsLoaded\":" + std::to_string(loaded) +
         ",\"roomsStored\":" + std::to_string(storage->room_count()) +
         ",\"messagesStored\":" + std::to_string(storage->message_count()) +
         ",\"threads\":" + std::to_string(workers.size()) + ",\"storage\":\"" + config.storage +
         "\",\"uptimeSeconds\":" + std::to_string(uptime) + ",\"tenants\":{" + by_tenant + "}" + cluster_json() + "}";
}

void ServerContext::announce(const std::string& text, const std::string& level,
                             const std::optional<std::string>& tenant) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  protocol::s2c::Announcement a{"a_" + std::to_string(rng() % 1'000'000'000'000ULL), text, level, wall_ms()};
  deliver_announcement(a, tenant);
  if (bus) {
    NodeEvent e;
    e.tenant = tenant.value_or("");
    e.text = protocol::encode(protocol::s2c::Frame{a}, protocol::Codec::binary);
    bus->announce(std::move(e));
  }
}

void ServerContext::deliver_announcement(const protocol::s2c::Announcement& a,
                                         const std::optional<std::string>& tenant) {
  for (auto& w : workers) {
    boost::asio::post(w->ioc(), [worker = w.get(), a, tenant] {
      SharedFrame frames[2];
      worker->for_each_connection([&](WsConnection& c) {
        if (!c.authenticated() || (tenant && c.tenant() != *tenant)) return;
        auto i = static_cast<std::size_t>(c.codec());
        if (!frames[i]) frames[i] = make_out_frame(a, c.codec());
        c.deliver_local(frames[i]);
      });
    });
  }
}

void ServerContext::shutdown(std::chrono::milliseconds grace) {
  for (auto& w : workers) {
    boost::asio::post(w->ioc(), [worker = w.get()] {
      worker->for_each_connection(
          [](WsConnection& c) { c.close(protocol::close_code::service_restart, "server restarting"); });
    });
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // waiting for peers, not a test race
  }
  if (tick_timer_) {
    boost::asio::post(workers[0]->ioc(), [this] { tick_timer_->cancel(); });
  }
  for (auto& w : workers) w->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  if (bus) bus->stop();
  if (auto failed = storage->flush()) {
    log::error("storage flush failed at shutdown", {{"error", failed->message}});
  } else {
    log::info("storage flushed", {{"open_connections_left", std::to_string(open_connections())}});
  }
}

}  // namespace parley::server
