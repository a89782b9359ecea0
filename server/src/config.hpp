// parleyd's configuration: every setting is a flag and an environment
// variable (the flag wins), with the defaults documented in docs/server.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace parley::server {

struct Config {
  std::string host = "127.0.0.1";         // --host, PARLEY_HOST
  std::uint16_t port = 8787;              // --port, PARLEY_PORT (0: any free port)
  std::string jwt_secret;                 // --jwt-secret, PARLEY_JWT_SECRET
  bool dev_secret = false;                // no secret given: the development default is in use
  unsigned threads = 1;                   // --threads, PARLEY_THREADS
  std::string log_level = "info";         // --log-level, PARLEY_LOG_LEVEL
  std::uint32_t max_frame_bytes = 65536;  // --max-frame-bytes, PARLEY_MAX_FRAME_BYTES
  std::uint32_t heartbeat_ms = 25000;     // --heartbeat-ms, PARLEY_HEARTBEAT_MS
};

inline constexpr const char* kDevJwtSecret = "parley-dev-secret-do-not-use-in-production";

// Parses flags over the environment. On a bad or unknown flag returns nullopt
// and sets `error`; on --help returns nullopt with `error` empty.
std::optional<Config> parse_config(int argc, char** argv, std::string& error);
std::string usage();

}  // namespace parley::server
