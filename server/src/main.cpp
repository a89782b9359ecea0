// parleyd: the Parley server.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <thread>
#include <vector>

#include "config.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "server_context.hpp"

namespace net = boost::asio;
using namespace parley::server;

int main(int argc, char** argv) {
  std::string error;
  auto config = parse_config(argc, argv, error);
  if (!config) {
    if (error.empty()) {
      std::fputs(usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "parleyd: %s\n\n%s", error.c_str(), usage().c_str());
    return 2;
  }
  log::Level level;
  if (!log::parse_level(config->log_level, level)) {
    std::fprintf(stderr, "parleyd: unknown log level %s\n", config->log_level.c_str());
    return 2;
  }
  log::set_level(level);
  if (config->dev_secret) {
    log::warn(
        "NO JWT SECRET CONFIGURED: using the public development secret. Anyone can forge tokens. "
        "Set --jwt-secret or PARLEY_JWT_SECRET before exposing this server.");
  }

  ServerContext context(*config);
  net::io_context ioc(static_cast<int>(config->threads));
  std::shared_ptr<Listener> listener;
  try {
    listener = std::make_shared<Listener>(
        ioc, net::ip::tcp::endpoint(net::ip::make_address(config->host), config->port), context);
  } catch (const std::exception& e) {
    log::error("cannot listen", {{"host", config->host}, {"port", std::to_string(config->port)}, {"error", e.what()}});
    return 1;
  }
  listener->run();
  log::info("listening", {{"host", config->host},
                          {"port", std::to_string(listener->port())},
                          {"threads", std::to_string(config->threads)}});

  net::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    log::info("shutting down", {{"signal", std::to_string(signal)}});
    listener->stop();
    ioc.stop();
  });

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < config->threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  log::info("stopped");
  return 0;
}
