// parleyd: the Parley server.
#include <malloc.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <string_view>

#include "config.hpp"
#include "descriptors.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "migrate_command.hpp"
#include "server_context.hpp"

namespace net = boost::asio;
using namespace parley::server;

int main(int argc, char** argv) {
  // One malloc arena for every thread. Frames are allocated on the storage
  // threads (where a room fans out) and freed on the I/O threads (once
  // written); with glibc's per-thread arenas every such free went to another
  // thread's arena, and malloc took 30 % of parleyd's CPU at 100k
  // deliveries/s on SQLite (perf; docs/performance.md). Threads keep their
  // own caches (tcache), so one arena costs nothing measurable here.
  mallopt(M_ARENA_MAX, 1);
  if (argc > 1 && std::string_view(argv[1]) == "migrate") return run_migrate_command(argc - 1, argv + 1);
  CommandLine command_line = parse_command_line(argc, argv);
  switch (command_line.action) {
    case CommandLine::Action::help:
      std::fputs(usage().c_str(), stdout);
      std::fputs(
          "\nparleyd migrate --from sqlite:<data dir> --to postgres://...   copy a SQLite store into PostgreSQL "
          "(parleyd migrate --help)\n",
          stdout);
      return 0;
    case CommandLine::Action::version:
      std::puts(version().c_str());
      return 0;
    case CommandLine::Action::refuse:
      std::fprintf(stderr, "parleyd: %s\n(parleyd --help lists the options)\n", command_line.error.c_str());
      return 2;
    case CommandLine::Action::run:
      break;
  }
  const Config* config = &command_line.config;
  log::set_level(config->log_level);
  if (config->dev_secret) {
    log::warn(
        "NO JWT SECRET CONFIGURED: using the public development secret. Anyone can forge tokens. "
        "Set --jwt-secret or --jwt-secret-file before exposing this server.");
  } else if (config->jwt_secret.size() < 32) {
    log::warn("the JWT secret is shorter than 32 bytes: HS256 wants at least 32 random bytes",
              {{"bytes", std::to_string(config->jwt_secret.size())}});
  }

  std::unique_ptr<ServerContext> context;
  std::shared_ptr<Listener> listener;
  try {
    context = std::make_unique<ServerContext>(*config);
    listener =
        std::make_shared<Listener>(*context, net::ip::tcp::endpoint(net::ip::make_address(config->host), config->port));
  } catch (const std::exception& e) {
    log::error("cannot start", {{"error", e.what()}});
    return 1;
  }
  // Signals arrive on their own little loop; shutdown then runs here. Set up
  // before "listening" is logged: a SIGTERM right after it must not kill
  // parleyd uncleanly.
  net::io_context signals_ioc;
  net::signal_set signals(signals_ioc, SIGINT, SIGTERM);

  // Storage, event loops and the listener are open: fit the connections to
  // the descriptors left.
  std::uint32_t max_connections = fit_descriptor_limit(config->max_connections);
  if (max_connections == 0 && config->max_connections > 0) {
    log::error("cannot start: the descriptor limit leaves no room for a connection (raise ulimit -n)");
    return 1;
  }
  context->admission.set_max_connections(max_connections);
  context->start();
  listener->run();
  log::info("listening", {{"host", config->host},
                          {"port", std::to_string(listener->port())},
                          {"threads", std::to_string(config->threads)},
                          {"storage", config->storage == "sqlite"     ? config->data_dir
                                      : config->storage == "postgres" ? redact_url_password(config->storage_url)
                                                                      : config->storage}});

  int received = 0;
  signals.async_wait([&](const boost::system::error_code&, int signal) { received = signal; });
  signals_ioc.run();

  log::info("shutting down", {{"signal", std::to_string(received)}});
  listener->stop();
  context->shutdown(std::chrono::seconds(3));
  listener.reset();
  context.reset();
  log::info("stopped");
  return 0;
}
