#include "config.hpp"

#include "bus/redis_address.hpp"

#include "parley/protocol/limits.hpp"
#include "storage/storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace parley::server {
namespace {

// A bad value whose message says what is wrong with it.
struct BadValue : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

std::uint32_t to_uint(const std::string& value, std::uint32_t max) {
  std::size_t used = 0;
  unsigned long v = std::stoul(value, &used);
  if (used != value.size() || v > max) throw std::invalid_argument(value);
  return static_cast<std::uint32_t>(v);
}

// "10" (per second, burst twice that) or "10/25" (per second / burst).
Rate to_rate(const std::string& value) {
  auto slash = value.find('/');
  std::size_t used = 0;
  Rate r;
  r.per_second = std::stod(value.substr(0, slash), &used);
  if (used != (slash == std::string::npos ? value.size() : slash) || r.per_second <= 0) {
    throw std::invalid_argument(value);
  }
  r.burst = slash == std::string::npos ? 2 * r.per_second : std::stod(value.substr(slash + 1));
  if (r.burst < 1) throw std::invalid_argument(value);
  return r;
}

struct Option {
  std::string flag;
  std::string env;
  std::string help;
  std::function<void(Config&, const std::string&)> set;
  bool is_switch = false;  // given alone on the command line (its variable takes true/false)
};

bool to_bool(const std::string& v) {
  if (v == "true" || v == "1" || v == "on" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "off" || v == "no") return false;
  throw std::invalid_argument(v);
}

// A file named by a flag: a regular file (not a FIFO or a device, which
// could block or never end) of at most `max` bytes.
std::string read_text_file(const std::string& path, std::size_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) throw BadValue(std::strerror(errno));
  struct stat st {};
  std::string out;
  bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (regular && static_cast<std::size_t>(st.st_size) <= max) {
    char buf[4096];
    ssize_t n;
    while (out.size() <= max && (n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!regular) throw BadValue("not a regular file");
  if (out.size() > max || static_cast<std::size_t>(st.st_size) > max) {
    throw BadValue("larger than " + std::to_string(max / 1024) + " KiB");
  }
  return out;
}

// The secret in a file (a mounted Kubernetes or Docker secret): at most 64
// KiB, one trailing newline ignored.
std::string read_secret_file(const std::string& path) {
  std::string out = read_text_file(path, 64 * 1024);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  if (!out.empty() && out.back() == '\r') out.pop_back();
  if (out.empty()) throw BadValue("the file is empty");
  return out;
}

#define PARLEY_UINT(field, max) [](Config& c, const std::string& v) { c.field = to_uint(v, max); }

std::vector<Option> options() {
  return {
      {"--host", "PARLEY_HOST", "IPv4 or IPv6 address to listen on (default 127.0.0.1; 0.0.0.0 for all)",
       [](Config& c, const std::string& v) {
         boost::system::error_code ec;
         boost::asio::ip::make_address(v, ec);
         if (ec) throw BadValue("an IPv4 or IPv6 address, such as 127.0.0.1, 0.0.0.0 or ::");
         c.host = v;
       }},
      {"--port", "PARLEY_PORT", "TCP port, 0 for any free port (default 8787)",
       [](Config& c, const std::string& v) { c.port = static_cast<std::uint16_t>(to_uint(v, 65535)); }},
      {"--threads", "PARLEY_THREADS", "I/O threads (default: one per core)", PARLEY_UINT(threads, 256)},
      {"--storage-threads", "PARLEY_STORAGE_THREADS",
       "threads that run requests and storage, off the I/O threads (default 4; 0: on the I/O threads)",
       PARLEY_UINT(storage_threads, 256)},
      {"--jwt-secret", "PARLEY_JWT_SECRET", "HS256 secret of client tokens (required in production)",
       [](Config& c, const std::string& v) {
         if (v.empty()) throw BadValue("empty");
         c.jwt_secret = v;
       }},
      {"--jwt-secret-file", "PARLEY_JWT_SECRET_FILE",
       "file holding the HS256 secret (a mounted secret; one trailing newline ignored), instead of --jwt-secret",
       [](Config& c, const std::string& v) {
         c.jwt_secret_file = v;
         c.jwt_secret_from_file = read_secret_file(v);
       }},
      {"--allow-dev-secret", "PARLEY_ALLOW_DEV_SECRET",
       "without a secret, listen on a non-loopback address with the public development secret anyway",
       [](Config& c, const std::string& v) { c.allow_dev_secret = to_bool(v); }, true},
      {"--admin-token", "PARLEY_ADMIN_TOKEN", "bearer token for /admin/* (default: admin API off)",
       [](Config& c, const std::string& v) { c.admin_token = v; }},
      {"--tenants-file", "PARLEY_TENANTS_FILE",
       "JSON file of per-tenant limits: {\"acme\": {\"maxConnections\": 5000, \"messagesPerSecond\": 500, "
       "\"maxRooms\": 1000}, \"*\": {...}} (default: no limits)",
       [](Config& c, const std::string& v) {
         auto limits = parse_tenant_limits(read_text_file(v, 1024 * 1024));
         if (!limits) throw BadValue(limits.error().message);
         c.tenants_file = v;
         c.tenant_limits = std::move(limits).value();
       }},
      {"--allowed-origins", "PARLEY_ALLOWED_ORIGINS",
       "browser origins that may connect, comma-separated (https://app.example.com, https://*.example.com); "
       "403 for others (default *: tokens are not cookies)",
       [](Config& c, const std::string& v) {
         std::string why;
         auto policy = OriginPolicy::parse(v, why);
         if (!policy) throw BadValue(why);
         c.allowed_origins = *policy;
       }},
      {"--trusted-proxies", "PARLEY_TRUSTED_PROXIES",
       "reverse proxies (addresses or CIDR ranges, comma-separated) whose forwarding header names the client "
       "(default none)",
       [](Config& c, const std::string& v) {
         std::string why;
         auto list = ProxyList::parse(v, why);
         if (!list) throw BadValue(why);
         c.trusted_proxies = *list;
       }},
      {"--proxy-header", "PARLEY_PROXY_HEADER",
       "the header the trusted proxies set: x-forwarded-for (default) or forwarded (RFC 7239)",
       [](Config& c, const std::string& v) {
         if (v == "x-forwarded-for") {
           c.proxy_header = ProxyHeader::x_forwarded_for;
         } else if (v == "forwarded") {
           c.proxy_header = ProxyHeader::forwarded;
         } else {
           throw BadValue("x-forwarded-for or forwarded");
         }
       }},
      {"--storage", "PARLEY_STORAGE",
       "sqlite (default), memory (nothing survives a restart), or a PostgreSQL URL "
       "postgres://user:password@host:port/database",
       [](Config& c, const std::string& v) {
         if (v == "sqlite" || v == "memory") {
           c.storage = v;
           c.storage_url.clear();
           return;
         }
         if (!is_postgres_url(v)) throw BadValue("sqlite, memory, or a PostgreSQL URL (postgres://...)");
         if (auto why = check_postgres_url(v)) throw BadValue(*why);
         c.storage = "postgres";
         c.storage_url = v;
       }},
      {"--bus", "PARLEY_BUS",
       "the Redis of a cluster of parleyd sharing one PostgreSQL: redis://[:password@]host[:port] or "
       "redis+unix:///path/to/redis.sock (default none: a node on its own)",
       [](Config& c, const std::string& v) {
         try {
           redis::Address::parse(v);
         } catch (const std::invalid_argument& e) {
           throw BadValue(e.what());
         }
         c.bus_url = v;
       }},
      {"--storage-pool-size", "PARLEY_STORAGE_POOL_SIZE",
       "PostgreSQL connections parleyd keeps open at most, at least 1 (default 4)",
       [](Config& c, const std::string& v) {
         c.storage_pool_size = to_uint(v, 1000);
         if (c.storage_pool_size == 0) throw BadValue("at least 1");
       }},
      {"--data-dir", "PARLEY_DATA_DIR", "folder of the SQLite database (default ./data)",
       [](Config& c, const std::string& v) { c.data_dir = v; }},
      {"--strict-schema", "PARLEY_STRICT_SCHEMA",
       "also check every JSON frame with valijson against the schemas: true or false (default false)",
       [](Config& c, const std::string& v) { c.strict_schema = to_bool(v); }},
      {"--log-level", "PARLEY_LOG_LEVEL", "debug, info, warn or error (default info)",
       [](Config& c, const std::string& v) {
         if (!log::parse_level(v, c.log_level)) throw BadValue("debug, info, warn or error");
       }},
      {"--max-frame-bytes", "PARLEY_MAX_FRAME_BYTES", "largest inbound message, else close 1009 (default 65536)",
       PARLEY_UINT(max_frame_bytes, 64u << 20)},
      {"--max-content-length", "PARLEY_MAX_CONTENT_LENGTH",
       "longest message content in characters, at most the protocol's 4000 (default 4000)",
       [](Config& c, const std::string& v) {
         c.max_content_length = to_uint(v, static_cast<std::uint32_t>(protocol::limits::content_max_length));
         if (c.max_content_length == 0) throw std::invalid_argument(v);
       }},
      {"--max-queue-bytes", "PARLEY_MAX_QUEUE_BYTES",
       "outbound bytes queued for one connection before it is closed with 4003, at least 4096 (default 1048576)",
       [](Config& c, const std::string& v) {
         c.max_queue_bytes = to_uint(v, 1u << 30);
         if (c.max_queue_bytes < 4096) throw std::invalid_argument(v);
       }},
      {"--max-connections", "PARLEY_MAX_CONNECTIONS",
       "TCP connections in total, HTTP and WebSocket; more get 503 (default 10000; lowered if the descriptor limit "
       "cannot hold them)",
       PARLEY_UINT(max_connections, 10'000'000)},
      {"--max-connections-per-ip", "PARLEY_MAX_CONNECTIONS_PER_IP",
       "WebSocket connections per client address (behind a trusted proxy, the forwarded one); more get 429 "
       "(default 1000)",
       PARLEY_UINT(max_connections_per_ip, 10'000'000)},
      {"--max-handshakes-per-ip", "PARLEY_MAX_HANDSHAKES_PER_IP",
       "TCP connections of one address still in their HTTP phase, at least 1; more get 503; trusted proxies "
       "exempt (default 100)",
       [](Config& c, const std::string& v) {
         c.max_handshakes_per_ip = to_uint(v, 10'000'000);
         if (c.max_handshakes_per_ip == 0) throw BadValue("at least 1");
       }},
      {"--max-connections-per-user", "PARLEY_MAX_CONNECTIONS_PER_USER", "connections per user (default 20)",
       PARLEY_UINT(max_connections_per_user, 1'000'000)},
      {"--room-max-members", "PARLEY_ROOM_MAX_MEMBERS", "members per room (default 10000)",
       PARLEY_UINT(room_max_members, 10'000'000)},
      {"--replay-limit", "PARLEY_REPLAY_LIMIT", "messages a rejoin replays before answering reset (default 1000)",
       PARLEY_UINT(replay_limit, 1000)},
      {"--history-limit", "PARLEY_HISTORY_LIMIT",
       "messages kept per room, older ones deleted (and their dedup keys); 0 keeps all (default 0)",
       PARLEY_UINT(history_limit, 1'000'000'000)},
      {"--handshake-timeout-ms", "PARLEY_HANDSHAKE_TIMEOUT_MS",
       "time to complete hello, else close 4002 (default 10000)", PARLEY_UINT(handshake_timeout_ms, 3'600'000)},
      {"--ping-interval-ms", "PARLEY_PING_INTERVAL_MS",
       "WebSocket ping interval, announced as heartbeatMs (default 25000)", PARLEY_UINT(ping_interval_ms, 3'600'000)},
      {"--idle-timeout-ms", "PARLEY_IDLE_TIMEOUT_MS", "close a connection silent this long (default 2 x ping interval)",
       PARLEY_UINT(idle_timeout_ms, 86'400'000)},
      {"--abuse-limit", "PARLEY_ABUSE_LIMIT", "rate-limited answers within 10 s before closing with 1008 (default 30)",
       PARLEY_UINT(abuse_limit, 1'000'000)},
      {"--idle-after-ms", "PARLEY_IDLE_AFTER_MS", "inactivity before presence turns idle (default 300000)",
       PARLEY_UINT(idle_after_ms, 86'400'000)},
      {"--offline-grace-ms", "PARLEY_OFFLINE_GRACE_MS",
       "delay before a user with no connection is offline (default 5000)", PARLEY_UINT(offline_grace_ms, 3'600'000)},
      {"--typing-ttl-ms", "PARLEY_TYPING_TTL_MS", "lifetime of a typing indicator (default 5000)",
       PARLEY_UINT(typing_ttl_ms, 60000)},
  };
}

// --rate-<class> and --user-rate-<class>, from the one list of rate classes.
std::vector<Option> rate_options() {
  std::vector<Option> out;
  auto text = [](const Rate& r) {
    auto number = [](double v) {
      std::string s = std::to_string(v);
      s.erase(s.find_last_not_of('0') + 1);
      if (s.back() == '.') s.pop_back();
      return s;
    };
    return number(r.per_second) + "/" + number(r.burst);
  };
  for (bool per_user : {false, true}) {
    for (const auto& c : kRateClasses) {
      std::string name = c.name;
      std::string upper = name;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      Rate fallback = per_user ? c.per_user : c.per_connection;
      RateClass which = c.which;
      out.push_back(Option{std::string(per_user ? "--user-rate-" : "--rate-") + name,
                           std::string(per_user ? "PARLEY_USER_RATE_" : "PARLEY_RATE_") + upper,
                           std::string(c.counts) + " per second " +
                               (per_user ? "per user, over all their connections" : "per connection") +
                               ", as rate[/burst] (default " + text(fallback) + ")",
                           [per_user, which](Config& config, const std::string& v) {
                             (per_user ? config.user_rates : config.rates)[which] = to_rate(v);
                           }});
    }
  }
  return out;
}

const std::vector<Option>& all_options() {
  static const std::vector<Option> all = [] {
    std::vector<Option> out = options();
    auto rates = rate_options();
    out.insert(out.end(), rates.begin(), rates.end());
    return out;
  }();
  return all;
}

#undef PARLEY_UINT

const Option* find_option(const std::string& flag) {
  for (const auto& o : all_options()) {
    if (flag == o.flag) return &o;
  }
  return nullptr;
}

}  // namespace

std::string usage() {
  std::string out = "usage: parleyd [options]   (every option also reads its environment variable; the flag wins)\n\n";
  auto line = [&](const std::string& flag, const std::string& help, const std::string& env) {
    out += "  " + flag + std::string(flag.size() < 30 ? 30 - flag.size() : 1, ' ') + help;
    out += env.empty() ? "\n" : "  [" + env + "]\n";
  };
  for (const auto& o : all_options()) line(o.flag + (o.is_switch ? "" : " <v>"), o.help, o.env);
  line("--version", "print the version and exit", "");
  line("--help", "print this and exit", "");
  return out;
}

std::string version() { return std::string("parleyd ") + PARLEY_VERSION + " (protocol parley.v1)"; }

bool is_loopback(const std::string& host) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).is_loopback();
  }
  return address.is_loopback();
}

namespace {

// Checks that hold between options, once all are read.
std::string finish(Config& config) {
  if (!config.jwt_secret_file.empty()) {
    if (!config.jwt_secret.empty()) {
      return "both --jwt-secret and --jwt-secret-file are set (flags or PARLEY_ variables): keep one";
    }
    config.jwt_secret = std::move(config.jwt_secret_from_file);
    config.jwt_secret_from_file.clear();
  }
  if (config.jwt_secret.empty()) {
    if (!is_loopback(config.host) && !config.allow_dev_secret) {
      return "no --jwt-secret or --jwt-secret-file, and --host " + config.host +
             " is reachable from other machines: anyone could forge tokens with the public development secret. "
             "Set a secret, or pass --allow-dev-secret to run a demo anyway";
    }
    config.jwt_secret = kDevJwtSecret;
    config.dev_secret = true;
  }
  if (!config.bus_url.empty()) {
    if (config.storage == "memory") {
      return "--bus joins nodes that share their storage, and --storage memory is this process's alone: "
             "use --storage postgres://... (or sqlite on one machine)";
    }
    if (config.storage_threads == 0) {
      return "--bus needs storage threads (--storage-threads 1 or more): nodes wait for Redis there, "
             "never on the I/O threads";
    }
  }
  if (config.threads == 0) config.threads = std::max(1u, std::thread::hardware_concurrency());
  if (config.idle_timeout_ms == 0) config.idle_timeout_ms = 2 * config.ping_interval_ms;
  return {};
}

CommandLine refuse(std::string error) {
  CommandLine out;
  out.action = CommandLine::Action::refuse;
  out.error = std::move(error);
  return out;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine out;
  Config& config = out.config;
  for (const auto& o : all_options()) {
    const char* v = std::getenv(o.env.c_str());
    if (!v || !*v) continue;
    try {
      o.set(config, v);
    } catch (const BadValue& e) {
      return refuse("bad value in the environment: " + o.env + "=" + redact_url_password(v) + ": " + e.what());
    } catch (const std::exception&) {
      return refuse("bad value in the environment: " + o.env + "=" + redact_url_password(v));
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.action = CommandLine::Action::help;
      return out;
    }
    if (arg == "--version") {
      out.action = CommandLine::Action::version;
      return out;
    }
    std::optional<std::string> value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const Option* o = find_option(arg);
    if (!o) {
      if (arg.empty() || arg[0] != '-')
        return refuse("unexpected argument " + redact_url_password(arg) + " (options start with --)");
      return refuse("unknown option " + arg);
    }
    if (o->is_switch) {
      if (!value) value = "true";
    } else if (!value) {
      if (i + 1 >= argc) return refuse("missing value for " + arg);
      value = argv[++i];
    }
    try {
      o->set(config, *value);
    } catch (const BadValue& e) {
      return refuse("bad value for " + arg + ": " + redact_url_password(*value) + ": " + e.what());
    } catch (const std::exception&) {
      return refuse("bad value for " + arg + ": " + redact_url_password(*value));
    }
  }
  if (std::string error = finish(config); !error.empty()) return refuse(std::move(error));
  return out;
}

}  // namespace parley::server
