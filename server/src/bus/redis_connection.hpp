// One connection to Redis for the cluster bus, over Boost.Asio (Unix socket
// or TCP), speaking RESP2 through resp.hpp. It keeps itself up: it connects
// in the background, reconnects forever with backoff (backoff.hpp), and
// PINGs every second, so a Redis that hangs (SIGSTOP) or a half-open socket
// is noticed within seconds instead of never.
//
// Two modes, because a Redis connection that has subscribed can do nothing
// else:
//   commands    pipelined commands, answered in order. Nothing is queued
//               while Redis is down: the bus is for live traffic, and a
//               command kept for later would arrive out of date.
//   subscriber  the channels wanted, kept across reconnects: each new link
//               subscribes to all of them again.
//
// Threads: every method may be called from any thread. Callbacks (handlers
// and command callbacks) run on the io_context's threads, never inside
// command()/subscribe(), with one exception: stop() and the destructor fail
// the pending commands before they return, on the calling thread. No handler
// runs once stop() has returned or the destructor has begun; stop() and the
// destructor wait for a callback running on another thread (so they must not
// be called while holding a lock that a callback takes).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bus/redis_address.hpp"
#include "bus/resp.hpp"

namespace parley::server::redis {

class Connection {
 public:
  enum class Mode { commands, subscriber };

  struct Handlers {
    // Connected, and AUTH (and SELECT) accepted; subscriber: before the
    // channels are subscribed again.
    std::function<void()> on_up;
    // Lost, or failed to connect: once per loss (the first failed attempt
    // after start() or after being up), not for every retry. Not called by
    // stop().
    std::function<void(const std::string& why)> on_down;
    // subscriber: a message on a wanted channel.
    std::function<void(const std::string& channel, const std::string& payload)> on_message;
    // subscriber: Redis confirmed SUBSCRIBE (again after every reconnect).
    std::function<void(const std::string& channel)> on_subscribed;
  };

  struct Options {
    std::chrono::milliseconds ping_every{1000};
    // An unanswered PING older than this declares the link down.
    std::chrono::milliseconds ping_timeout{3000};
    // Connecting and the handshake (AUTH, SELECT, PING) together.
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds backoff_first{50};
    std::chrono::milliseconds backoff_cap{1000};
    // Commands written and not yet sent past this fail at once.
    std::size_t max_outgoing_bytes = std::size_t{64} << 20;
  };

  Connection(boost::asio::io_context& ioc, Address address, Mode mode, Handlers handlers);
  Connection(boost::asio::io_context& ioc, Address address, Mode mode, Handlers handlers, Options options);
  // Stops (as stop()). Safe on any thread, also once the io_context has
  // stopped; what is still queued in the io_context only holds the internals.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, and reconnects forever with backoff. Again after stop(): anew.
  void start();
  // Closes, fails the pending commands (before returning). No handler after.
  void stop();
  bool up() const;

  // A failure (not connected, lost, timed out, refused) is a Reply of
  // Type::error whose message starts with "redis: ".
  using Callback = std::function<void(const Reply&)>;

  // commands mode. Pipelined: written as soon as possible, coalesced into one
  // write, answered in order. While down (or past max_outgoing_bytes): fails
  // at once, never queued for later. Refuses what would break the one reply
  // per command rule: empty commands, (P|S)(UN)SUBSCRIBE, MONITOR, CLIENT
  // REPLY, HELLO. Blocking commands (BLPOP...) would stall the PINGs.
  void command(std::vector<std::string> args, Callback done = {});
  // commands mode, for storage threads: blocks until the reply, or `timeout`
  // (then an error Reply; the reply that comes later is dropped). Refused
  // (error Reply) on a thread running the io_context, which would deadlock.
  Reply call(std::vector<std::string> args, std::chrono::milliseconds timeout);

  // subscriber mode. The set of wanted channels is kept and subscribed again
  // after every reconnect; on_message only reports wanted channels.
  void subscribe(const std::string& channel);
  void unsubscribe(const std::string& channel);

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace parley::server::redis
