// What a tenant may use of a shared parleyd, and the file that sets it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/protocol/result.hpp"

namespace parley::server {

// 0: no limit.
struct TenantLimits {
  std::uint32_t max_connections = 0;      // authenticated connections of the tenant's users, together
  std::uint32_t messages_per_second = 0;  // sends of the tenant's users, together (burst: one second's worth)
  std::uint32_t max_rooms = 0;            // rooms stored for the tenant
  bool operator==(const TenantLimits&) const = default;
};

// The tenants' limits: each named tenant's, and `others` for every tenant
// the file does not name. Read from JSON:
//   {"acme": {"maxConnections": 5000, "messagesPerSecond": 500, "maxRooms": 1000},
//    "*": {"maxConnections": 100}}
// A key left out of an entry is no limit; "*" is the entry for the others.
struct TenantLimitsFile {
  std::vector<std::pair<std::string, TenantLimits>> named;  // in the file's order
  TenantLimits others;
  TenantLimits for_tenant(std::string_view name) const;
};

// A tenant name: 1-64 of a-z, 0-9, '_' and '-', starting with a letter or a
// digit. The error says why not.
std::optional<std::string> check_tenant_name(std::string_view name);

// Parses the JSON above; the error names the offending key.
protocol::Result<TenantLimitsFile> parse_tenant_limits(std::string_view json);
// One entry's object ({"maxConnections": ...}), as the admin API sends it.
protocol::Result<TenantLimits> parse_one_tenant_limits(std::string_view json);
std::string to_json(const TenantLimits& limits);

}  // namespace parley::server
