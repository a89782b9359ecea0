// The bus's Redis connections against a real redis-server (over its Unix
// socket and over TCP), and against a fake one that misbehaves. Events are
// awaited with deadlines, never with sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bus/redis_connection.hpp"
#include "support/fake_redis.hpp"
#include "support/redis_server.hpp"

namespace parley::server::redis {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using test::FakeRedis;
using test::FakeRedisPeer;
using test::RedisServer;

constexpr auto kWait = 10s;  // for anything that should happen; a hang fails here

// An io_context run by a thread of its own, as parleyd's workers run theirs.
struct IoThread {
  boost::asio::io_context ioc;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
  ~IoThread() { halt(); }
  void halt() {
    work.reset();
    ioc.stop();
    if (thread.joinable()) thread.join();
  }
};

// What a connection reported, for the test to wait on.
struct Events {
  std::mutex mutex;
  std::condition_variable changed;
  int ups = 0;
  int downs = 0;
  std::vector<std::string> why_down;
  std::map<std::string, int> subscribed;
  std::vector<std::pair<std::string, std::string>> messages;
  std::vector<std::string> order;  // "up", "down", "subscribed <channel>"

  Connection::Handlers handlers() {
    Connection::Handlers h;
    h.on_up = [this] { record([&] { ++ups, order.push_back("up"); }); };
    h.on_down = [this](const std::string& why) {
      record([&] { ++downs, why_down.push_back(why), order.push_back("down"); });
    };
    h.on_message = [this](const std::string& channel, const std::string& payload) {
      record([&] { messages.emplace_back(channel, payload); });
    };
    h.on_subscribed = [this](const std::string& channel) {
      record([&] { ++subscribed[channel], order.push_back("subscribed " + channel); });
    };
    return h;
  }
  template <class F>
  void record(F change) {
    {
      std::lock_guard lock(mutex);
      change();
    }
    changed.notify_all();
  }
  // Reads what the handlers write (under the same lock).
  template <class F>
  auto locked(F read) {
    std::lock_guard lock(mutex);
    return read();
  }
  template <class P>
  bool wait(P condition, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, condition);
  }
  bool wait_ups(int n) {
    return wait([&] { return ups >= n; });
  }
  bool wait_downs(int n) {
    return wait([&] { return downs >= n; });
  }
  bool wait_subscribed(const std::string& channel, int n) {
    return wait([&] { return subscribed[channel] >= n; });
  }
};

// A command's reply, awaited from the test's thread.
struct Awaited {
  std::promise<Reply> promise;
  std::future<Reply> future = promise.get_future();
  Connection::Callback callback() {
    return [this](const Reply& reply) { promise.set_value(reply); };
  }
  Reply get() {
    if (future.wait_for(kWait) != std::future_status::ready) return Reply::error("test: no callback");
    return future.get();
  }
};

std::string describe(const Reply& reply) {
  switch (reply.type) {
    case Reply::Type::string:
      return "string " + reply.str;
    case Reply::Type::status:
      return "status " + reply.str;
    case Reply::Type::error:
      return "error " + reply.str;
    case Reply::Type::integer:
      return "integer " + std::to_string(reply.integer);
    case Reply::Type::nil:
      return "nil";
    case Reply::Type::array:
      return "array of " + std::to_string(reply.elements.size());
  }
  return "?";
}

// Against a real Redis, over its Unix socket (false) and over TCP (true).
class RedisConnectionTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    try {
      server_ = GetParam() ? RedisServer::tcp() : std::make_unique<RedisServer>();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }

  std::unique_ptr<Connection> connect(Connection::Mode mode, Events& events, Connection::Options options = {}) {
    auto connection =
        std::make_unique<Connection>(io_.ioc, Address::parse(server_->url()), mode, events.handlers(), options);
    connection->start();
    EXPECT_TRUE(events.wait_ups(1)) << "never up";
    return connection;
  }

  Reply call(Connection& connection, std::vector<std::string> args) {
    return connection.call(std::move(args), std::chrono::duration_cast<std::chrono::milliseconds>(kWait));
  }

  std::unique_ptr<RedisServer> server_;
  IoThread io_;  // after server_: connections made by a test go before it
};

INSTANTIATE_TEST_SUITE_P(Transports, RedisConnectionTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& transport) {
                           return transport.param ? "Tcp" : "Unix";
                         });

TEST_P(RedisConnectionTest, RoundTripsBinaryAndLargeValues) {
  Events events;
  auto redis = connect(Connection::Mode::commands, events);
  EXPECT_TRUE(redis->up());
  EXPECT_EQ(describe(call(*redis, {"SET", "k", "v"})), "status OK");
  EXPECT_EQ(describe(call(*redis, {"GET", "k"})), "string v");
  EXPECT_EQ(describe(call(*redis, {"GET", "missing"})), "nil");

  std::string binary = "a\0b\r\nc\r\n\xff"s;
  EXPECT_EQ(describe(call(*redis, {"SET", "bin\0key"s, binary})), "status OK");
  Reply got = call(*redis, {"GET", "bin\0key"s});
  EXPECT_EQ(got.type, Reply::Type::string);
  EXPECT_EQ(got.str, binary);

  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
  EXPECT_EQ(describe(call(*redis, {"SET", "big", big})), "status OK");
  got = call(*redis, {"GET", "big"});
  EXPECT_EQ(got.str.size(), big.size());
  EXPECT_TRUE(got.str == big);

  // Redis's errors are replies like any other: the link stays up.
  got = call(*redis, {"INCR", "k"});
  EXPECT_TRUE(got.is_error());
  EXPECT_NE(got.str.find("not an integer"), std::string::npos) << got.str;
  Reply list = call(*redis, {"MGET", "k", "missing", "bin\0key"s});
  ASSERT_EQ(list.type, Reply::Type::array);
  ASSERT_EQ(list.elements.size(), 3u);
  EXPECT_EQ(list.elements[0].str, "v");
  EXPECT_EQ(list.elements[1].type, Reply::Type::nil);
  EXPECT_EQ(list.elements[2].str, binary);
  EXPECT_EQ(events.locked([&] { return events.downs; }), 0);
}

TEST_P(RedisConnectionTest, PipelinedCommandsAreAnsweredInOrder) {
  Events events;
  auto redis = connect(Connection::Mode::commands, events);
  constexpr int kCount = 10000;
  std::mutex mutex;
  std::condition_variable done;
  std::vector<long long> seen;
  seen.reserve(kCount);
  for (int i = 0; i < kCount; ++i) {
    redis->command({"INCR", "counter"}, [&](const Reply& reply) {
      // Notified under the lock: once the last one is seen, the test may end
      // and these locals go.
      std::lock_guard lock(mutex);
      seen.push_back(reply.type == Reply::Type::integer ? reply.integer : -1);
      done.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(done.wait_for(lock, kWait, [&] { return seen.size() == kCount; })) << seen.size();
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(seen[static_cast<std::size_t>(i)], i + 1);
}

TEST_P(RedisConnectionTest, CallWorksFromOtherThreadsAndIsRefusedOnTheIoThread) {
  Events events;
  auto redis = connect(Connection::Mode::commands, events);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string key = "t" + std::to_string(t);
        Reply reply = redis->call({"INCR", key}, 5s);
        if (reply.type == Reply::Type::integer && reply.integer == i + 1) ++good;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good, 800);

  // Inside a callback (the io_context's thread) call() would wait for itself.
  std::promise<Reply> refused;
  redis->command({"PING"}, [&](const Reply&) { refused.set_value(redis->call({"PING"}, 5s)); });
  auto future = refused.get_future();
  ASSERT_EQ(future.wait_for(kWait), std::future_status::ready);
  Reply reply = future.get();
  EXPECT_TRUE(reply.is_error());
  EXPECT_NE(reply.str.find("refused"), std::string::npos) << reply.str;
}

TEST_P(RedisConnectionTest, AHungRedisIsDeclaredDownByThePingAndRecovers) {
  Events events;
  auto redis = connect(Connection::Mode::commands, events);
  server_->pause();
  auto before = std::chrono::steady_clock::now();
  Reply reply = redis->call({"PING"}, 300ms);
  EXPECT_TRUE(reply.is_error());
  EXPECT_NE(reply.str.find("no reply within 300 ms"), std::string::npos) << reply.str;

  // A command sent now waits, then fails when the PING check gives up.
  Awaited pending;
  redis->command({"GET", "k"}, pending.callback());
  ASSERT_TRUE(events.wait_downs(1)) << "the PING check never fired";
  auto took = std::chrono::steady_clock::now() - before;
  EXPECT_GE(took, 2900ms);
  EXPECT_LE(took, 6s);
  EXPECT_NE(events.why_down[0].find("PING"), std::string::npos) << events.why_down[0];
  EXPECT_FALSE(redis->up());
  reply = pending.get();
  EXPECT_TRUE(reply.is_error());
  EXPECT_NE(reply.str.find("connection lost"), std::string::npos) << reply.str;

  // While down, commands fail at once instead of waiting.
  auto asked = std::chrono::steady_clock::now();
  reply = redis->call({"GET", "k"}, 5s);
  EXPECT_TRUE(reply.is_error());
  EXPECT_NE(reply.str.find("not connected"), std::string::npos) << reply.str;
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);

  server_->resume();
  ASSERT_TRUE(events.wait_ups(2));
  EXPECT_EQ(describe(call(*redis, {"SET", "k", "again"})), "status OK");
  EXPECT_EQ(events.locked([&] { return events.downs; }), 1);  // once per loss, whatever the retries
}

TEST_P(RedisConnectionTest, SubscriberGetsBinaryMessagesOnItsChannels) {
  Events sub_events;
  Events pub_events;
  auto subscriber = connect(Connection::Mode::subscriber, sub_events);
  auto publisher = connect(Connection::Mode::commands, pub_events);
  subscriber->subscribe("room:1");
  subscriber->subscribe("room:\0binary"s);
  ASSERT_TRUE(sub_events.wait_subscribed("room:1", 1));
  ASSERT_TRUE(sub_events.wait_subscribed("room:\0binary"s, 1));

  std::string payload = "\0\r\n*3\r\n$7\r\nmessage\xfe"s;
  EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "room:1", payload})), "integer 1");
  EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "room:\0binary"s, "two"})), "integer 1");
  EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "elsewhere", "x"})), "integer 0");
  ASSERT_TRUE(sub_events.wait([&] { return sub_events.messages.size() >= 2; }));
  EXPECT_EQ(sub_events.messages[0], std::make_pair("room:1"s, payload));
  EXPECT_EQ(sub_events.messages[1], std::make_pair("room:\0binary"s, "two"s));

  // A subscriber takes no commands; it stays up all the while (PINGs
  // answered in the subscribed state's own way).
  Reply refused = subscriber->call({"GET", "k"}, 5s);
  EXPECT_TRUE(refused.is_error());
  std::this_thread::yield();
  EXPECT_TRUE(subscriber->up());
  EXPECT_EQ(sub_events.locked([&] { return sub_events.downs; }), 0);
  EXPECT_EQ(sub_events.locked([&] { return sub_events.order.front(); }), "up");
}

TEST_P(RedisConnectionTest, SubscriberStaysUpAcrossPingsWhileSubscribed) {
  Events events;
  Connection::Options quick;
  quick.ping_every = 50ms;
  quick.ping_timeout = 1000ms;
  auto subscriber = connect(Connection::Mode::subscriber, events, quick);
  subscriber->subscribe("a");
  ASSERT_TRUE(events.wait_subscribed("a", 1));
  // Twenty PINGs answered as ["pong", ""]: none is taken for a broken reply.
  Events pub_events;
  auto publisher = connect(Connection::Mode::commands, pub_events);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "a", std::to_string(i)})), "integer 1");
    ASSERT_TRUE(events.wait([&] { return events.messages.size() >= static_cast<std::size_t>(i + 1); }));
    std::this_thread::sleep_for(50ms);  // lets PINGs interleave with the messages; not a wait for an event
  }
  EXPECT_EQ(events.locked([&] { return events.downs; }), 0);
  // Unsubscribed from everything, PING is answered +PONG again.
  subscriber->unsubscribe("a");
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (call(*publisher, {"PUBSUB", "NUMSUB", "a"}).elements.at(1).integer != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::yield();
  }
  std::this_thread::sleep_for(200ms);  // PINGs answered +PONG meanwhile; not a wait for an event
  EXPECT_EQ(events.locked([&] { return events.downs; }), 0);
  EXPECT_TRUE(subscriber->up());
}

TEST_P(RedisConnectionTest, UnsubscribeStopsMessages) {
  Events sub_events;
  Events pub_events;
  auto subscriber = connect(Connection::Mode::subscriber, sub_events);
  auto publisher = connect(Connection::Mode::commands, pub_events);
  subscriber->subscribe("a");
  subscriber->subscribe("b");
  ASSERT_TRUE(sub_events.wait_subscribed("a", 1));
  ASSERT_TRUE(sub_events.wait_subscribed("b", 1));
  subscriber->unsubscribe("a");
  // The unsubscribe reaches Redis in its own time: wait until Redis says so.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (call(*publisher, {"PUBSUB", "NUMSUB", "a"}).elements.at(1).integer != 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::yield();
  }
  EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "a", "dropped"})), "integer 0");
  EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "b", "kept"})), "integer 1");
  ASSERT_TRUE(sub_events.wait([&] { return !sub_events.messages.empty(); }));
  ASSERT_EQ(sub_events.messages.size(), 1u);
  EXPECT_EQ(sub_events.messages[0].first, "b");

  // Even a message already on its way when unsubscribe() is called is not reported.
  subscriber->subscribe("c");
  ASSERT_TRUE(sub_events.wait_subscribed("c", 1));
  EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "c", "late"})), "integer 1");
  subscriber->unsubscribe("c");
  EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "b", "after"})), "integer 1");
  ASSERT_TRUE(sub_events.wait([&] { return sub_events.messages.back() == std::make_pair("b"s, "after"s); }));
  subscriber.reset();  // nothing reported after this
  for (const auto& [channel, payload] : sub_events.messages) {
    if (channel == "c") {
      EXPECT_EQ(payload, "late");  // reported before unsubscribe() returned, or not at all
    }
  }
}

TEST_P(RedisConnectionTest, ARestartedRedisIsReconnectedAndResubscribed) {
  Events sub_events;
  Events pub_events;
  auto subscriber = connect(Connection::Mode::subscriber, sub_events);
  auto publisher = connect(Connection::Mode::commands, pub_events);
  subscriber->subscribe("news");
  ASSERT_TRUE(sub_events.wait_subscribed("news", 1));

  server_->kill();
  ASSERT_TRUE(sub_events.wait_downs(1));
  ASSERT_TRUE(pub_events.wait_downs(1));
  EXPECT_FALSE(publisher->up());
  // Down: fails at once, never queued for later.
  auto asked = std::chrono::steady_clock::now();
  Awaited refused;
  publisher->command({"SET", "k", "v"}, refused.callback());
  Reply reply = refused.get();
  EXPECT_TRUE(reply.is_error());
  EXPECT_NE(reply.str.find("not connected"), std::string::npos) << reply.str;
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);

  server_->start();
  ASSERT_TRUE(pub_events.wait_ups(2));
  ASSERT_TRUE(sub_events.wait_ups(2));
  ASSERT_TRUE(sub_events.wait_subscribed("news", 2));
  EXPECT_EQ(describe(call(*publisher, {"PUBLISH", "news", "again"})), "integer 1");
  ASSERT_TRUE(sub_events.wait([&] { return !sub_events.messages.empty(); }));
  EXPECT_EQ(sub_events.messages[0], std::make_pair("news"s, "again"s));
  EXPECT_EQ(sub_events.locked([&] { return sub_events.order; }),
            (std::vector<std::string>{"up", "subscribed news", "down", "up", "subscribed news"}));
  EXPECT_EQ(describe(call(*publisher, {"GET", "k"})), "nil");  // the refused SET never ran
}

TEST_P(RedisConnectionTest, ACleanShutdownOfRedisIsALossToo) {
  Events events;
  auto redis = connect(Connection::Mode::commands, events);
  server_->stop();
  ASSERT_TRUE(events.wait_downs(1));
  server_->start();
  ASSERT_TRUE(events.wait_ups(2));
  EXPECT_EQ(describe(call(*redis, {"PING"})), "status PONG");
}

TEST_P(RedisConnectionTest, StopFailsPendingCommandsBeforeReturning) {
  Events events;
  auto redis = connect(Connection::Mode::commands, events);
  server_->pause();
  std::atomic<int> failed{0};
  for (int i = 0; i < 100; ++i) {
    redis->command({"INCR", "n"}, [&](const Reply& reply) {
      if (reply.is_error() && reply.str.find("stopped") != std::string::npos) ++failed;
    });
  }
  redis->stop();
  EXPECT_EQ(failed, 100);
  EXPECT_FALSE(redis->up());
  EXPECT_EQ(events.locked([&] { return events.downs; }), 0);  // stop() is no loss
  server_->resume();
  // Started again: a new link, the same handlers.
  redis->start();
  ASSERT_TRUE(events.wait_ups(2));
  EXPECT_EQ(describe(call(*redis, {"PING"})), "status PONG");
}

TEST_P(RedisConnectionTest, TheOutgoingBufferIsBounded) {
  Events events;
  Connection::Options small;
  small.max_outgoing_bytes = 1 << 20;
  auto redis = connect(Connection::Mode::commands, events, small);
  server_->pause();  // nothing is read: the kernel's buffers fill, then ours
  std::string value(256 * 1024, 'v');
  int full = 0;  // under events.mutex
  int answered = 0;
  for (int i = 0; i < 128; ++i) {  // 32 MiB: more than any socket buffers
    redis->command({"SET", "big" + std::to_string(i), value}, [&](const Reply& reply) {
      events.record([&] {
        if (reply.is_error() && reply.str.find("waiting to be sent") != std::string::npos) ++full;
        ++answered;
      });
    });
  }
  server_->resume();
  ASSERT_TRUE(events.wait([&] { return answered == 128; }));
  EXPECT_GT(events.locked([&] { return full; }), 0);
  EXPECT_LT(events.locked([&] { return full; }), 128);
  EXPECT_EQ(describe(call(*redis, {"PING"})), "status PONG");
}

TEST_P(RedisConnectionTest, RefusesCommandsThatWouldBreakThePipeline) {
  Events events;
  auto redis = connect(Connection::Mode::commands, events);
  for (auto args : std::vector<std::vector<std::string>>{
           {}, {"SUBSCRIBE", "x"}, {"psubscribe", "x*"}, {"MONITOR"}, {"client", "REPLY", "OFF"}, {"HELLO", "3"}}) {
    Reply reply = call(*redis, args);
    EXPECT_TRUE(reply.is_error()) << (args.empty() ? "" : args[0]);
    EXPECT_NE(reply.str.find("refused"), std::string::npos) << reply.str;
  }
  EXPECT_EQ(describe(call(*redis, {"PING"})), "status PONG");
  EXPECT_EQ(events.locked([&] { return events.downs; }), 0);
}

TEST_P(RedisConnectionTest, DestroyedWhileRunningOrAfterTheIoContextStopped) {
  Events events;
  auto redis = connect(Connection::Mode::commands, events);
  // Commands in flight, destroyed from this thread while the I/O thread runs.
  for (int i = 0; i < 1000; ++i) redis->command({"INCR", "x"}, [&events](const Reply&) { events.record([] {}); });
  redis.reset();

  Events sub_events;
  auto subscriber = connect(Connection::Mode::subscriber, sub_events);
  subscriber->subscribe("x");
  ASSERT_TRUE(sub_events.wait_subscribed("x", 1));
  io_.halt();
  subscriber.reset();  // what is left in the stopped io_context goes with it
}

TEST_P(RedisConnectionTest, ChannelsWantedBeforeTheFirstConnectAreSubscribedOnIt) {
  Events events;
  Connection subscriber(io_.ioc, Address::parse(server_->url()), Connection::Mode::subscriber, events.handlers());
  subscriber.subscribe("early");
  subscriber.subscribe("early");  // once is enough
  subscriber.start();
  ASSERT_TRUE(events.wait_subscribed("early", 1));
  EXPECT_EQ(events.locked([&] { return events.order; }), (std::vector<std::string>{"up", "subscribed early"}));
}

TEST_P(RedisConnectionTest, DestroyedFromItsOwnHandler) {
  std::unique_ptr<Connection> redis;
  std::promise<void> up;
  std::promise<void> destroyed;
  Connection::Handlers handlers;
  handlers.on_up = [&] { up.set_value(); };
  handlers.on_down = [&](const std::string&) {
    redis.reset();  // on the I/O thread, inside the connection's own callback
    destroyed.set_value();
  };
  redis = std::make_unique<Connection>(io_.ioc, Address::parse(server_->url()), Connection::Mode::commands, handlers);
  redis->start();
  // From here on only the I/O thread touches it: Redis goes away, and
  // on_down destroys it.
  ASSERT_EQ(up.get_future().wait_for(kWait), std::future_status::ready);
  server_->kill();
  ASSERT_EQ(destroyed.get_future().wait_for(kWait), std::future_status::ready);
}

TEST(RedisConnection, LogsInWithAPasswordAndSaysWhenItIsWrong) {
  std::unique_ptr<RedisServer> server;
  try {
    RedisServer::Options options;
    options.password = "s3cret pass";
    server = std::make_unique<RedisServer>(options);
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  IoThread io;
  Events good;
  // The URL with the password percent-encoded (the space).
  std::string url = "redis+unix://:s3cret%20pass@" + server->socket_path();
  Connection redis(io.ioc, Address::parse(url), Connection::Mode::commands, good.handlers());
  redis.start();
  ASSERT_TRUE(good.wait_ups(1));
  EXPECT_EQ(describe(redis.call({"PING"}, 5s)), "status PONG");

  Events bad;
  Connection wrong(io.ioc, Address::parse("redis+unix://:nope@" + server->socket_path()), Connection::Mode::commands,
                   bad.handlers());
  wrong.start();
  ASSERT_TRUE(bad.wait_downs(1));
  EXPECT_NE(bad.why_down[0].find("AUTH refused"), std::string::npos) << bad.why_down[0];
  EXPECT_EQ(bad.locked([&] { return bad.ups; }), 0);

  Events none;
  Connection anonymous(io.ioc, Address::parse("redis+unix://" + server->socket_path()), Connection::Mode::commands,
                       none.handlers());
  anonymous.start();
  ASSERT_TRUE(none.wait_downs(1));
  EXPECT_NE(none.why_down[0].find("NOAUTH"), std::string::npos) << none.why_down[0];
}

TEST(RedisConnection, SelectsTheDatabaseOfItsUrl) {
  std::unique_ptr<RedisServer> server;
  try {
    server = RedisServer::tcp();
  } catch (const std::exception& e) {
    FAIL() << e.what();
  }
  IoThread io;
  Events events;
  Connection db3(io.ioc, Address::parse(server->url() + "/3"), Connection::Mode::commands, events.handlers());
  Connection db0(io.ioc, Address::parse(server->url()), Connection::Mode::commands, events.handlers());
  db3.start();
  db0.start();
  ASSERT_TRUE(events.wait_ups(2));
  EXPECT_EQ(describe(db3.call({"SET", "where", "three"}, 5s)), "status OK");
  EXPECT_EQ(describe(db0.call({"GET", "where"}, 5s)), "nil");
  EXPECT_EQ(describe(db0.call({"SELECT", "3"}, 5s)), "status OK");
  EXPECT_EQ(describe(db0.call({"GET", "where"}, 5s)), "string three");
}

TEST(RedisConnection, NoRedisAtAllIsReportedDownOnceAndRetried) {
  IoThread io;
  Events events;
  Connection redis(io.ioc, Address::parse("redis+unix:///nonexistent/parley/redis.sock"), Connection::Mode::commands,
                   events.handlers());
  redis.start();
  ASSERT_TRUE(events.wait_downs(1));
  EXPECT_NE(events.why_down[0].find("cannot connect"), std::string::npos) << events.why_down[0];
  Reply reply = redis.call({"PING"}, 5s);
  EXPECT_TRUE(reply.is_error());
  EXPECT_NE(reply.str.find("not connected"), std::string::npos);
  redis.stop();
  EXPECT_EQ(events.locked([&] { return events.downs; }), 1);
}

// --- A Redis that misbehaves -------------------------------------------------

// Options that notice quickly, so that each case runs in well under a second.
Connection::Options quick_options() {
  Connection::Options options;
  options.ping_every = 50ms;
  options.ping_timeout = 300ms;
  options.connect_timeout = 300ms;
  options.backoff_first = 10ms;
  options.backoff_cap = 50ms;
  return options;
}

// Runs a connection against `fake` until it has been lost and has connected
// to the fake again; the reasons it gave.
std::vector<std::string> losses(FakeRedis& fake, Connection::Mode mode,
                                const std::function<void(Connection&)>& after_up = {}) {
  IoThread io;
  Events events;
  Connection redis(io.ioc, Address::parse(fake.url()), mode, events.handlers(), quick_options());
  redis.start();
  if (after_up) {
    EXPECT_TRUE(events.wait_ups(1));
    after_up(redis);
  }
  EXPECT_TRUE(events.wait_downs(1));
  EXPECT_TRUE(fake.wait_accepted(3)) << "no reconnect";
  std::lock_guard lock(events.mutex);
  return events.why_down;
}

TEST(RedisConnectionHostile, GarbageInsteadOfAReply) {
  FakeRedis fake([](FakeRedisPeer& peer) {
    if (peer.wait_for("PING")) peer.send("!garbage\r\n");
    return true;
  });
  auto why = losses(fake, Connection::Mode::commands);
  ASSERT_FALSE(why.empty());
  EXPECT_NE(why[0].find("protocol error"), std::string::npos) << why[0];
}

TEST(RedisConnectionHostile, AnAnswerToPingThatIsNotPong) {
  FakeRedis fake([](FakeRedisPeer& peer) {
    if (peer.wait_for("PING")) peer.send("*2\r\n$5\r\nhello\r\n:1\r\n");
    return true;
  });
  auto why = losses(fake, Connection::Mode::commands);
  ASSERT_FALSE(why.empty());
  EXPECT_NE(why[0].find("not PONG"), std::string::npos) << why[0];
}

TEST(RedisConnectionHostile, AReplyToNoCommand) {
  FakeRedis fake([](FakeRedisPeer& peer) {
    if (peer.wait_for("PING")) peer.send("+PONG\r\n+OK\r\n");
    return true;
  });
  auto why = losses(fake, Connection::Mode::commands);
  ASSERT_FALSE(why.empty());
  EXPECT_NE(why[0].find("no command"), std::string::npos) << why[0];
}

TEST(RedisConnectionHostile, ClosedInTheMiddleOfAReply) {
  FakeRedis fake([](FakeRedisPeer& peer) {
    if (peer.wait_for("PING")) peer.send("+PONG\r\n");
    if (peer.wait_for("GET")) peer.send("$10\r\nabc");
    return false;
  });
  Awaited get;
  auto why = losses(fake, Connection::Mode::commands, [&](Connection& redis) {
    redis.command({"GET", "k"}, get.callback());
  });
  Reply reply = get.get();
  EXPECT_TRUE(reply.is_error());
  EXPECT_NE(reply.str.find("connection lost"), std::string::npos) << reply.str;
  ASSERT_FALSE(why.empty());
  EXPECT_NE(why[0].find("closed"), std::string::npos) << why[0];
}

TEST(RedisConnectionHostile, AnArrayTooBigToBuild) {
  FakeRedis fake([](FakeRedisPeer& peer) {
    if (peer.wait_for("PING")) peer.send("+PONG\r\n");
    if (peer.wait_for("GET")) peer.send("*2147483647\r\n:1\r\n:2\r\n");
    return true;
  });
  Awaited get;
  auto why = losses(fake, Connection::Mode::commands, [&](Connection& redis) {
    redis.command({"GET", "k"}, get.callback());
  });
  EXPECT_TRUE(get.get().is_error());
  ASSERT_FALSE(why.empty());
  EXPECT_NE(why[0].find("protocol error"), std::string::npos) << why[0];
}

TEST(RedisConnectionHostile, NoAnswerToPing) {
  FakeRedis fake([](FakeRedisPeer& peer) {
    if (peer.wait_for("PING")) peer.send("+PONG\r\n");  // the handshake, then silence
    return true;
  });
  auto why = losses(fake, Connection::Mode::commands);
  ASSERT_FALSE(why.empty());
  EXPECT_NE(why[0].find("no answer to PING"), std::string::npos) << why[0];
}

TEST(RedisConnectionHostile, NoAnswerToTheHandshake) {
  FakeRedis fake([](FakeRedisPeer&) { return true; });
  auto why = losses(fake, Connection::Mode::commands);
  ASSERT_FALSE(why.empty());
  EXPECT_NE(why[0].find("handshake"), std::string::npos) << why[0];
}

TEST(RedisConnectionHostile, UnexpectedPushesToASubscriber) {
  for (std::string push : {"*2\r\n$5\r\nweird\r\n:1\r\n"s,                  // an unknown kind
                           "*2\r\n$7\r\nmessage\r\n$1\r\na\r\n"s,           // a message missing its payload
                           "*3\r\n$9\r\nsubscribe\r\n$1\r\nz\r\n:2\r\n"s,   // a confirmation of nothing
                           "*3\r\n$7\r\nmessage\r\n:1\r\n$1\r\nx\r\n"s}) {  // a channel that is a number
    FakeRedis fake([push](FakeRedisPeer& peer) {
      if (!peer.wait_for("PING")) return false;
      peer.send("+PONG\r\n");
      if (peer.wait_for("SUBSCRIBE")) peer.send("*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n" + push);
      return true;
    });
    auto why = losses(fake, Connection::Mode::subscriber, [](Connection& redis) { redis.subscribe("a"); });
    ASSERT_FALSE(why.empty());
    EXPECT_NE(why[0], "");
  }
}

}  // namespace
}  // namespace parley::server::redis
