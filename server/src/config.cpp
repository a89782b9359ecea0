#include "config.hpp"

#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <thread>

namespace parley::server {
namespace {

std::uint32_t to_uint(const std::string& value, std::uint32_t max) {
  std::size_t used = 0;
  unsigned long v = std::stoul(value, &used);
  if (used != value.size() || v > max) throw std::invalid_argument(value);
  return static_cast<std::uint32_t>(v);
}

struct Option {
  const char* env;
  const char* help;
  std::function<void(Config&, const std::string&)> set;
};

const std::map<std::string, Option>& options() {
  static const std::map<std::string, Option> table = {
      {"--host",
       {"PARLEY_HOST", "address to listen on (default 127.0.0.1)",
        [](Config& c, const std::string& v) { c.host = v; }}},
      {"--port",
       {"PARLEY_PORT", "TCP port, 0 for any free port (default 8787)",
        [](Config& c, const std::string& v) { c.port = static_cast<std::uint16_t>(to_uint(v, 65535)); }}},
      {"--jwt-secret",
       {"PARLEY_JWT_SECRET", "HS256 secret for client tokens (required in production)",
        [](Config& c, const std::string& v) { c.jwt_secret = v; }}},
      {"--threads",
       {"PARLEY_THREADS", "I/O threads (default 1)",
        [](Config& c, const std::string& v) { c.threads = std::max(1u, to_uint(v, 256)); }}},
      {"--log-level",
       {"PARLEY_LOG_LEVEL", "debug, info, warn or error (default info)",
        [](Config& c, const std::string& v) { c.log_level = v; }}},
      {"--max-frame-bytes",
       {"PARLEY_MAX_FRAME_BYTES", "largest inbound WebSocket message (default 65536)",
        [](Config& c, const std::string& v) { c.max_frame_bytes = to_uint(v, 64u << 20); }}},
      {"--heartbeat-ms",
       {"PARLEY_HEARTBEAT_MS", "heartbeat interval announced to clients (default 25000)",
        [](Config& c, const std::string& v) { c.heartbeat_ms = to_uint(v, 3'600'000); }}},
  };
  return table;
}

}  // namespace

std::string usage() {
  std::string out = "usage: parleyd [options]\n\n";
  for (const auto& [flag, opt] : options()) {
    out += "  " + flag + " <value>  " + opt.help + "  [env " + opt.env + "]\n";
  }
  return out;
}

std::optional<Config> parse_config(int argc, char** argv, std::string& error) {
  Config config;
  try {
    for (const auto& [flag, opt] : options()) {
      if (const char* v = std::getenv(opt.env); v && *v) opt.set(config, v);
    }
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") return std::nullopt;
      std::string value;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        error = "missing value for " + arg;
        return std::nullopt;
      }
      auto it = options().find(arg);
      if (it == options().end()) {
        error = "unknown option " + arg;
        return std::nullopt;
      }
      try {
        it->second.set(config, value);
      } catch (const std::exception&) {
        error = "bad value for " + arg + ": " + value;
        return std::nullopt;
      }
    }
  } catch (const std::exception& e) {
    error = std::string("bad value in the environment: ") + e.what();
    return std::nullopt;
  }
  if (config.jwt_secret.empty()) {
    config.jwt_secret = kDevJwtSecret;
    config.dev_secret = true;
  }
  return config;
}

}  // namespace parley::server
