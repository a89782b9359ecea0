#include "tenants/tenants.hpp"

namespace parley::server {

namespace {

Rate send_rate(const TenantLimits& limits) {
  double per_second = limits.messages_per_second;
  return Rate{per_second, per_second};
}

}  // namespace

Tenant::Tenant(std::string name, Storage& shared, std::int64_t rooms, Dispatch& dispatch, const Config& config,
               TenantLimits limits, RoomBus* bus, SharedLimits* shared_limits)
    : name_(std::move(name)),
      storage_(shared, name_, rooms),
      max_rooms_(limits.max_rooms),
      hub_(storage_, dispatch, config, &max_rooms_, bus, name_),
      users_(config.max_connections_per_user, config.rates, config.user_rates, shared_limits, name_),
      limits_(limits),
      sends_(send_rate(limits)) {}

TenantLimits Tenant::limits() const {
  std::lock_guard lock(mutex_);
  return limits_;
}

void Tenant::set_limits(TenantLimits limits) {
  std::lock_guard lock(mutex_);
  if (limits.messages_per_second != limits_.messages_per_second) sends_ = TokenBucket(send_rate(limits));
  limits_ = limits;
  max_rooms_.store(limits.max_rooms, std::memory_order_relaxed);
}

bool Tenant::add_connection() {
  std::uint32_t max = limits().max_connections;
  std::int64_t now = connections_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (max > 0 && now > static_cast<std::int64_t>(max)) {
    connections_.fetch_sub(1, std::memory_order_relaxed);
    refused_connections_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void Tenant::remove_connection() { connections_.fetch_sub(1, std::memory_order_relaxed); }

std::int64_t Tenant::take_send(std::int64_t now) {
  std::int64_t wait = 0;
  {
    std::lock_guard lock(mutex_);
    if (limits_.messages_per_second > 0) wait = sends_.take(send_rate(limits_), now);
  }
  if (wait > 0) {
    refused_messages_.fetch_add(1, std::memory_order_relaxed);
  } else {
    messages_.fetch_add(1, std::memory_order_relaxed);
  }
  return wait;
}

Tenant::Usage Tenant::usage() const {
  Usage u;
  u.connections = connections_.load(std::memory_order_relaxed);
  u.rooms = storage_.room_count();
  u.rooms_loaded = static_cast<std::int64_t>(hub_.rooms_loaded());
  u.messages = messages_.load(std::memory_order_relaxed);
  u.refused_connections = refused_connections_.load(std::memory_order_relaxed);
  u.refused_messages = refused_messages_.load(std::memory_order_relaxed);
  u.refused_rooms = static_cast<std::int64_t>(hub_.rooms_refused());
  return u;
}

Tenants::Tenants(Storage& shared, Dispatch& dispatch, const Config& config, TenantLimitsFile limits, RoomBus* bus,
                 SharedLimits* shared_limits)
    : shared_(shared),
      dispatch_(dispatch),
      config_(config),
      limits_(std::move(limits)),
      bus_(bus),
      shared_limits_(shared_limits) {}

Tenant* Tenants::find(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = tenants_.find(name);
  return it == tenants_.end() ? nullptr : it->second.get();
}

protocol::Result<Tenant*> Tenants::get(const std::string& name) {
  std::lock_guard lock(mutex_);
  if (auto it = tenants_.find(name); it != tenants_.end()) return it->second.get();
  auto rooms = shared_.count_rooms(TenantStorage::prefix_of(name));
  if (!rooms) return rooms.error();
  auto tenant = std::make_unique<Tenant>(name, shared_, rooms.value(), dispatch_, config_, limits_.for_tenant(name),
                                         bus_, shared_limits_);
  Tenant* out = tenant.get();
  tenants_.emplace(name, std::move(tenant));
  return out;
}

void Tenants::for_each(const std::function<void(Tenant&)>& visit) {
  std::vector<Tenant*> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& [name, t] : tenants_) all.push_back(t.get());
  }
  for (Tenant* t : all) visit(*t);
}

protocol::Result<Tenant*> Tenants::set_limits(const std::string& name, TenantLimits limits) {
  auto tenant = get(name);
  if (!tenant) return tenant.error();
  tenant.value()->set_limits(limits);  // until the process ends: the file's are read again at a restart
  return tenant;
}

void Tenants::tick(std::int64_t now) {
  for_each([now](Tenant& t) { t.hub().tick(now); });
}

}  // namespace parley::server
