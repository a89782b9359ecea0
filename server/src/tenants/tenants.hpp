// Tenants: several apps served by one parleyd, each with its own rooms,
// users, presence, typing, receipts and limits. A token's `tenant` claim
// names its tenant (no claim: "default"). Each tenant has its own hub over
// its own view of the shared storage (TenantStorage), and its own per-user
// limits: a session is bound to its tenant at hello and reaches nothing
// else, so the same room id or user id in two tenants are two rooms, two
// users. Tenants are created at their first connection and live as long as
// the process.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "hub/hub.hpp"
#include "hub/user_limits.hpp"
#include "peer.hpp"
#include "rate_limit.hpp"
#include "storage/storage.hpp"
#include "tenants/tenant_limits.hpp"
#include "tenants/tenant_storage.hpp"

namespace parley::server {

class Tenant {
 public:
  Tenant(std::string name, Storage& shared, std::int64_t rooms, Dispatch& dispatch, const Config& config,
         TenantLimits limits, RoomBus* bus = nullptr, SharedLimits* shared_limits = nullptr);

  const std::string& name() const { return name_; }
  Hub& hub() { return hub_; }
  UserLimits& users() { return users_; }

  TenantLimits limits() const;
  void set_limits(TenantLimits limits);

  // A connection of the tenant says hello: false (and not counted) at the
  // tenant's connection limit.
  bool add_connection();
  void remove_connection();
  // A send of the tenant: 0, or milliseconds until the tenant's rate allows one.
  std::int64_t take_send(std::int64_t now);

  struct Usage {
    std::int64_t connections = 0;
    std::int64_t rooms = 0;
    std::int64_t rooms_loaded = 0;
    std::int64_t messages = 0;  // sends taken since the start
    std::int64_t refused_connections = 0;
    std::int64_t refused_messages = 0;
    std::int64_t refused_rooms = 0;
  };
  Usage usage() const;

 private:
  const std::string name_;
  TenantStorage storage_;
  std::atomic<std::uint32_t> max_rooms_;  // the hub reads it at each creation
  Hub hub_;
  UserLimits users_;

  mutable std::mutex mutex_;  // limits_, sends_
  TenantLimits limits_;
  TokenBucket sends_;
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::int64_t> messages_{0};
  std::atomic<std::int64_t> refused_connections_{0};
  std::atomic<std::int64_t> refused_messages_{0};
};

class Tenants {
 public:
  // `limits`: each named tenant's limits and the default for the others (TenantLimitsFile).
  // `bus`, `shared_limits`: the cluster's (hub.hpp, user_limits.hpp), or none.
  Tenants(Storage& shared, Dispatch& dispatch, const Config& config, TenantLimitsFile limits, RoomBus* bus = nullptr,
          SharedLimits* shared_limits = nullptr);

  // The tenant, created at first use (its rooms counted once in storage), or
  // the storage failure that kept it from being counted.
  protocol::Result<Tenant*> get(const std::string& name);
  void for_each(const std::function<void(Tenant&)>& visit);
  // The tenant if it has been used, else nullptr.
  Tenant* find(const std::string& name);
  // Sets a tenant's limits (the admin API); creates the tenant if need be.
  protocol::Result<Tenant*> set_limits(const std::string& name, TenantLimits limits);

  // Presence and typing timings, eviction, of every tenant.
  void tick(std::int64_t now);

 private:
  Storage& shared_;
  Dispatch& dispatch_;
  const Config& config_;
  TenantLimitsFile limits_;
  RoomBus* bus_;
  SharedLimits* shared_limits_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Tenant>, std::less<>> tenants_;
};

}  // namespace parley::server
