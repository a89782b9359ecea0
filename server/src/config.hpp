// parleyd's configuration: every setting is a flag and an environment
// variable (the flag wins), with the defaults documented in docs/server.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "client_address.hpp"
#include "handshake.hpp"
#include "log.hpp"
#include "parley/protocol/limits.hpp"
#include "rate_limit.hpp"
#include "tenants/tenant_limits.hpp"

namespace parley::server {

struct Config {
  // ---- network
  std::string host = "127.0.0.1";
  std::uint16_t port = 8787;     // 0: any free port (the log says which)
  unsigned threads = 0;          // 0: one per core
  unsigned storage_threads = 4;  // where requests run (lanes.hpp); 0: on the I/O threads
  // ---- security
  std::string jwt_secret;            // empty: the development default, with a loud warning
  std::string jwt_secret_file;       // where the secret was read from, if from a file
  std::string jwt_secret_from_file;  // read by --jwt-secret-file; moved into jwt_secret once every option is
                                     // read, so that both secrets set is refused whatever their order
  bool dev_secret = false;           // running on the public development secret
  bool allow_dev_secret = false;     // ... even on a non-loopback address
  std::string admin_token;           // empty: /admin/* is disabled
  // ---- tenants (tenants/tenants.hpp)
  std::string tenants_file;        // where tenant_limits were read from
  TenantLimitsFile tenant_limits;  // default: no limits for any tenant
  // ---- the edge: handshake, proxies (docs/server.md)
  OriginPolicy allowed_origins;  // default: every origin (tokens are not cookies)
  ProxyList trusted_proxies;     // default: none (the TCP peer is the client)
  ProxyHeader proxy_header = ProxyHeader::x_forwarded_for;
  // ---- storage
  std::string storage = "sqlite";       // sqlite | memory | postgres
  std::string storage_url;              // postgres: the libpq URI; may hold a password, so log only redacted
  std::uint32_t storage_pool_size = 4;  // postgres: connections kept open at most
  // ---- cluster
  std::string bus_url;  // redis://... : the bus between nodes sharing the storage (cluster/redis_bus.hpp)
  std::string data_dir = "./data";
  // ---- protocol
  bool strict_schema = false;  // also check every JSON frame with valijson (the schemas' oracle)
  // ---- logs
  log::Level log_level = log::Level::info;
  // ---- limits
  std::uint32_t max_frame_bytes = 65536;
  std::uint32_t max_content_length =  // code points of a message's content
      static_cast<std::uint32_t>(protocol::limits::content_max_length);
  std::uint32_t max_queue_bytes = 1u << 20;  // per connection, then closed with 4003
  std::uint32_t max_connections = 10000;
  std::uint32_t max_connections_per_ip = 1000;
  std::uint32_t max_connections_per_user = 20;
  std::uint32_t max_handshakes_per_ip = 100;  // TCP connections of one peer still in their HTTP phase
  std::uint32_t room_max_members = 10000;
  std::uint32_t replay_limit = 1000;           // messages a rejoin may replay before answering `reset`
  std::uint32_t history_limit = 0;             // messages kept per room, 0: all
  std::uint32_t handshake_timeout_ms = 10000;  // upgrade to `welcome`
  std::uint32_t ping_interval_ms = 25000;      // announced as heartbeatMs
  std::uint32_t idle_timeout_ms = 0;           // 0: twice the ping interval
  Rates rates = default_rates(false);          // per connection, by RateClass (kRateClasses)
  Rates user_rates = default_rates(true);      // per user, over all their connections
  std::uint32_t abuse_limit = 30;              // rate-limited answers within 10 s before closing with 1008
  // ---- presence and typing
  std::uint32_t idle_after_ms = 300000;
  std::uint32_t offline_grace_ms = 5000;
  std::uint32_t typing_ttl_ms = 5000;
};

inline constexpr const char* kDevJwtSecret = "parley-dev-secret-do-not-use-in-production";

// What the command line asks parleyd to do. Flags are read over the
// environment; an unknown flag, a bad value or options that contradict each
// other refuse to start with `error` saying what is wrong.
struct CommandLine {
  enum class Action { run, help, version, refuse };
  Action action = Action::run;
  Config config;      // run
  std::string error;  // refuse
};
CommandLine parse_command_line(int argc, const char* const* argv);
std::string usage();
std::string version();
bool is_loopback(const std::string& host);

}  // namespace parley::server
