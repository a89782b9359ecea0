// The client core's connection state machine, with a fake clock and transport.
#include <gtest/gtest.h>

#include "backoff.hpp"
#include "support/fake_host.hpp"

namespace parley::client {
namespace {

using namespace protocol;
using test::FakeHost;
using test::make_error;

TEST(Backoff, StaysWithinFullJitterBoundsAndCaps) {
  for (int attempt = 0; attempt < 12; ++attempt) {
    std::int64_t ceiling = std::min<std::int64_t>(10'000, 500LL << attempt);
    for (double unit : {0.0, 0.25, 0.5, 0.999999}) {
      auto d = backoff_delay(attempt, 500, 10'000, unit);
      EXPECT_GE(d, 0);
      EXPECT_LE(d, ceiling) << "attempt " << attempt;
    }
    EXPECT_GT(backoff_delay(attempt, 500, 10'000, 0.999999), ceiling * 9 / 10) << "the jitter spans the range";
  }
}

TEST(Connection, ConnectOpensAsksForATokenAndSaysHello) {
  FakeHost host;
  host.core.connect(host.now);
  host.drain();
  EXPECT_EQ(host.opens, 1);
  EXPECT_EQ(host.token_requests, 1);
  EXPECT_EQ(host.connection().state, ConnectionState::connecting);
  host.core.socket_opened(host.socket, subprotocol_json, host.now);
  EXPECT_TRUE(host.take_sent().empty()) << "no hello before the token";
  host.core.set_token("jwt-1", host.now);
  auto hello = host.expect_sent<c2s::Hello>();
  EXPECT_EQ(hello.token, "jwt-1");
  EXPECT_EQ(host.connection().state, ConnectionState::authenticating);
}

TEST(Connection, BacksOffWithGrowingCeilingsAndStartsOverAfterAStableConnection) {
  FakeHost host;
  host.core.connect(host.now);
  host.drain();
  for (int attempt = 0; attempt < 6; ++attempt) {
    host.drop();
    ASSERT_EQ(host.connection().state, ConnectionState::reconnecting);
    EXPECT_EQ(host.connection().attempt, attempt + 1);
    std::int64_t delay = *host.connection().next_attempt_at - host.now;
    EXPECT_GE(delay, 0);
    EXPECT_LE(delay, std::min<std::int64_t>(10'000, 500LL << attempt));
    int opens = host.opens;
    host.advance(delay);
    EXPECT_EQ(host.opens, opens + 1) << "the next attempt starts when the delay is over";
  }
  host.accept("alice", "Alice");
  EXPECT_EQ(host.connection().attempt, 6) << "not stable yet";
  host.advance(5'000);
  EXPECT_EQ(host.connection().attempt, 0) << "stable: the backoff starts over";
  host.drop();
  EXPECT_LE(*host.connection().next_attempt_at - host.now, 500);
}

TEST(Connection, TheServersLimitsFromWelcomeAreInTheViewAndKeptWhileAway) {
  FakeHost host;
  host.core.connect(host.now);
  EXPECT_FALSE(host.connection().limits) << "none before the first welcome";
  host.accept("alice", "Alice", 25000, protocol::Limits{32768, 1200, 250, 5});
  auto limits = host.connection().limits;
  ASSERT_TRUE(limits);
  EXPECT_EQ(*limits, (protocol::Limits{32768, 1200, 250, 5}));

  host.drop();
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
  EXPECT_EQ(host.connection().limits, limits) << "a composer keeps its bound while the connection is away";
  host.advance(10'000);  // past the longest first wait
  host.accept("alice", "Alice", 25000, protocol::Limits{32768, 800, 250, 5});
  ASSERT_TRUE(host.connection().limits);
  EXPECT_EQ(host.connection().limits->maxContentLength, 800) << "the latest welcome's";
}

TEST(Connection, ReconnectsAfterADropAndRejoinsItsRooms) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.join("lobby", host.now);
  host.core.join("random", host.now);
  EXPECT_EQ(host.take_sent_of<c2s::Join>().size(), 2u);
  host.drop();
  host.advance(10'000);
  host.accept("alice", "Alice");
  auto joins = host.take_sent_of<c2s::Join>();
  ASSERT_EQ(joins.size(), 2u);
  EXPECT_EQ(host.connection().state, ConnectionState::connected);
}

TEST(Connection, GoesOfflineWithTheNetworkAndRetriesAtOnceWhenItIsBack) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.network_offline(host.now);
  host.drain();
  EXPECT_EQ(host.connection().state, ConnectionState::offline);
  ASSERT_FALSE(host.closes.empty()) << "an open socket is closed: browsers may keep it";
  host.advance(60'000);
  EXPECT_EQ(host.connection().state, ConnectionState::offline) << "no attempts while offline";
  int opens = host.opens;
  host.core.network_online(host.now);
  host.drain();
  EXPECT_EQ(host.opens, opens + 1);
}

TEST(Connection, AskesForAFreshTokenAfter4001) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  EXPECT_EQ(host.token_requests, 1);
  host.drop();
  host.advance(10'000);
  EXPECT_EQ(host.token_requests, 1) << "the token is still good";
  host.accept("alice", "Alice");
  host.drop(close_code::unauthorized);
  EXPECT_EQ(host.connection().last_error->code, ErrorCode::unauthorized);
  host.advance(10'000);
  EXPECT_EQ(host.token_requests, 2) << "after 4001 the app is asked again";
}

// Opens the next attempt's socket and says hello with a fresh token; returns the hello.
c2s::Hello hello_with_token(FakeHost& host, const std::string& token) {
  host.drain();
  host.core.socket_opened(host.socket, subprotocol_json, host.now);
  host.core.set_token(token, host.now);
  return host.expect_sent<c2s::Hello>();
}

TEST(Connection, ARefusalOfAFreshTokenEndsClosedUntilTheAppStartsOver) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.drop(close_code::unauthorized);  // the token expired: one refusal is retried
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
  host.advance(10'000);
  EXPECT_EQ(host.token_requests, 2);
  hello_with_token(host, "fresh-but-refused");
  host.drop(close_code::unauthorized);
  EXPECT_EQ(host.connection().state, ConnectionState::closed) << "refused right after a fresh token";
  ASSERT_TRUE(host.connection().last_error);
  EXPECT_EQ(host.connection().last_error->code, ErrorCode::unauthorized);
  int opens = host.opens;
  host.advance(600'000);
  EXPECT_EQ(host.opens, opens) << "no more attempts";

  host.core.reconnect_now(host.now);  // the app (or the user) starts over
  host.drain();
  EXPECT_EQ(host.opens, opens + 1);
  EXPECT_EQ(host.token_requests, 3) << "with a token asked for afresh";
  hello_with_token(host, "refused-again");
  host.drop(close_code::unauthorized);
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting) << "a new start gets its one retry again";
}

TEST(Connection, AnUnauthorizedAnswerToHelloCountsAsARefusal) {
  FakeHost host;
  host.core.connect(host.now);
  for (int refusal = 0; refusal < 2; ++refusal) {
    auto hello = hello_with_token(host, "bad-" + std::to_string(refusal));
    host.deliver(make_error(hello.ref, "unauthorized", "token expired"));
    host.drop(close_code::unauthorized);  // the server's close comes after: already handled
    if (refusal == 0) {
      EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
      host.advance(10'000);
    }
  }
  EXPECT_EQ(host.connection().state, ConnectionState::closed);
  int opens = host.opens;
  host.core.set_token("a-new-token", host.now);  // a new token starts over too
  host.drain();
  EXPECT_EQ(host.opens, opens + 1);
  EXPECT_EQ(host.token_requests, 2) << "the new token is used, not asked for";
  host.core.socket_opened(host.socket, subprotocol_json, host.now);
  EXPECT_EQ(host.expect_sent<c2s::Hello>().token, "a-new-token");
}

TEST(Connection, ATokenProviderThatKeepsFailingEndsClosed) {
  FakeHost host;  // token_attempts = 3
  host.core.connect(host.now);
  for (int failure = 1; failure <= 3; ++failure) {
    host.drain();
    host.core.token_failed(host.now);
    host.drain();
    if (failure < 3) {
      EXPECT_EQ(host.connection().state, ConnectionState::reconnecting) << "failure " << failure;
      host.advance(10'000);
    }
  }
  EXPECT_EQ(host.connection().state, ConnectionState::closed);
  EXPECT_EQ(host.connection().last_error->code, ErrorCode::unauthorized);
  host.core.reconnect_now(host.now);
  host.drain();
  EXPECT_EQ(host.connection().state, ConnectionState::connecting);
  host.core.token_failed(host.now, true);  // the app says there is no token (signed out)
  host.drain();
  EXPECT_EQ(host.connection().state, ConnectionState::closed) << "a refusal closes at once";
}

TEST(Connection, AHelloRefusedWithRetryAfterWaitsThatLong) {
  FakeHost host;
  host.core.connect(host.now);
  auto hello = hello_with_token(host, "t");
  host.deliver(make_error(hello.ref, "rate_limited", "too many connections", 7'000));
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
  EXPECT_EQ(host.connection().last_error->code, ErrorCode::rate_limited);
  EXPECT_FALSE(host.closes.empty()) << "the refused connection is closed";
  EXPECT_EQ(*host.connection().next_attempt_at, host.now + 7'000) << "the backoff alone would be <= 500 ms";
  int opens = host.opens;
  host.advance(6'999);
  EXPECT_EQ(host.opens, opens);
  host.advance(1);
  EXPECT_EQ(host.opens, opens + 1);
}

TEST(Connection, AConnectionErrorsRetryAfterHoldsTheNextAttempt) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.deliver(make_error(std::nullopt, "rate_limited", "slow down", 4'000));  // without ref: about the connection
  host.drop(close_code::policy_violation);
  EXPECT_GE(*host.connection().next_attempt_at, host.now + 4'000);
}

TEST(Connection, ATryLaterCloseWaitsInTheUpperHalfOfTheBackoffRange) {
  FakeHost host;
  host.core.connect(host.now);
  for (int attempt = 0; attempt < 8; ++attempt) {
    host.drain();
    host.drop(close_code::try_again_later);
    std::int64_t ceiling = std::min<std::int64_t>(10'000, 500LL << attempt);
    std::int64_t delay = *host.connection().next_attempt_at - host.now;
    EXPECT_GE(delay, ceiling / 2) << "attempt " << attempt;
    EXPECT_LE(delay, ceiling) << "attempt " << attempt;
    host.advance(delay);
  }
}

TEST(Connection, UsesTheConfiguredBackoff) {
  client::Config config = FakeHost::default_config();
  config.backoff_base_ms = 100;
  config.backoff_cap_ms = 800;
  config.stable_after_ms = 1'000;
  FakeHost host(config);
  host.core.connect(host.now);
  std::int64_t longest = 0;
  for (int attempt = 0; attempt < 10; ++attempt) {
    host.drain();
    host.drop();
    std::int64_t delay = *host.connection().next_attempt_at - host.now;
    EXPECT_LE(delay, std::min<std::int64_t>(800, 100LL << attempt));
    longest = std::max(longest, delay);
    host.advance(delay);
  }
  EXPECT_GT(longest, 400) << "the cap, not the default base, bounds it";
  host.accept("alice", "Alice");
  host.advance(1'000);
  EXPECT_EQ(host.connection().attempt, 0) << "stable after the configured time";
}

TEST(Connection, AServerThatChoosesAnotherSubprotocolIsRefusedClearly) {
  for (std::string_view chosen : {"parley.v1.bin", ""}) {
    FakeHost host;
    host.core.connect(host.now);
    auto opened = host.drain();
    auto open = std::find_if(opened.begin(), opened.end(),
                             [](const client::Effect& e) { return e.kind == client::Effect::open_socket; });
    ASSERT_NE(open, opened.end());
    EXPECT_EQ(open->data, subprotocol_json) << "the subprotocol offered";
    host.core.socket_opened(host.socket, chosen, host.now);
    host.core.set_token("t", host.now);
    EXPECT_TRUE(host.take_sent().empty()) << "no hello in a protocol we do not speak";
    EXPECT_EQ(host.connection().state, ConnectionState::closed);
    ASSERT_TRUE(host.connection().last_error);
    EXPECT_EQ(host.connection().last_error->code, ErrorCode::unsupported_version);
    EXPECT_NE(host.connection().last_error->message.find("parley.v1.json"), std::string::npos);
    ASSERT_EQ(host.closes.size(), 1u);
  }
}

TEST(Connection, DetectsADeadConnectionAfterTwoSilentHeartbeats) {
  FakeHost host;
  host.core.connect(host.now);
  host.accept("alice", "Alice", 1000);
  host.advance(999);
  EXPECT_TRUE(host.take_sent_of<c2s::Ping>().empty());
  host.advance(1);
  EXPECT_EQ(host.take_sent_of<c2s::Ping>().size(), 1u) << "quiet for a heartbeat: ping";
  host.advance(999);
  EXPECT_EQ(host.connection().state, ConnectionState::connected);
  host.advance(1);
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting) << "no answer for two heartbeats: dead";
  EXPECT_FALSE(host.closes.empty());
}

TEST(Connection, AnyFrameFromTheServerKeepsTheConnectionAlive) {
  FakeHost host;
  host.core.connect(host.now);
  host.accept("alice", "Alice", 1000);
  for (int i = 0; i < 10; ++i) {
    host.advance(1000);
    for (auto& ping : host.take_sent_of<c2s::Ping>()) host.deliver(s2c::Pong{ping.ref, host.now});
  }
  EXPECT_EQ(host.connection().state, ConnectionState::connected);
}

TEST(Connection, IgnoresEventsOfAnAbandonedSocket) {
  FakeHost host;
  host.core.connect(host.now);
  host.drain();
  std::uint32_t first = host.socket;
  host.drop();
  host.advance(10'000);
  ASSERT_NE(host.socket, first);
  host.core.socket_opened(first, subprotocol_json, host.now);
  host.core.set_token("t", host.now);
  EXPECT_TRUE(host.take_sent().empty());
  EXPECT_EQ(host.connection().state, ConnectionState::connecting);
}

TEST(Connection, AnInvalidServerFrameDropsTheConnection) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.received(host.socket, R"({"type":"message"})", host.now);
  host.drain();
  EXPECT_FALSE(host.closes.empty());
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
  EXPECT_EQ(host.connection().last_error->path, "/message");
}

// ---- the handshake deadline: an attempt that never completes is abandoned

// The close effects the core asked for on `socket`.
std::size_t closes_of(const FakeHost& host, std::uint32_t socket) {
  return static_cast<std::size_t>(
      std::count_if(host.closes.begin(), host.closes.end(), [&](const client::Effect& e) { return e.id == socket; }));
}

TEST(Handshake, ASocketThatNeverOpensIsAbandonedAfterTheTimeoutAndRetried) {
  FakeHost host;  // handshake_timeout_ms = 10 000
  host.core.connect(host.now);
  host.drain();
  std::uint32_t first = host.socket;
  host.advance(9'999);
  EXPECT_EQ(host.connection().state, ConnectionState::connecting);
  EXPECT_EQ(closes_of(host, first), 0u);
  host.advance(1);
  EXPECT_EQ(closes_of(host, first), 1u) << "the attempt is closed at the deadline";
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
  EXPECT_EQ(host.connection().attempt, 1);
  ASSERT_TRUE(host.connection().last_error);
  EXPECT_EQ(host.connection().last_error->message, "no answer from the server");
  std::int64_t delay = *host.connection().next_attempt_at - host.now;
  EXPECT_LE(delay, 500) << "retried after the backoff, as any failed attempt";
  host.advance(delay);
  EXPECT_EQ(host.opens, 2);
  EXPECT_NE(host.socket, first);
  host.core.socket_opened(first, subprotocol_json, host.now);  // the abandoned socket opens after all
  host.drain();
  EXPECT_TRUE(host.take_sent_of<c2s::Hello>().empty()) << "events of the abandoned socket are ignored";
  host.accept("alice", "Alice");
  EXPECT_EQ(host.connection().state, ConnectionState::connected);
}

TEST(Handshake, ASocketThatOpensAndStaysSilentIsAbandonedWhileAuthenticating) {
  FakeHost host;
  host.core.connect(host.now);
  host.drain();
  host.core.socket_opened(host.socket, subprotocol_json, host.now);
  host.core.set_token("t", host.now);
  auto hello = host.expect_sent<c2s::Hello>();
  EXPECT_EQ(host.connection().state, ConnectionState::authenticating);
  std::uint32_t silent = host.socket;
  host.advance(9'999);
  EXPECT_EQ(host.connection().state, ConnectionState::authenticating) << "a black hole: no close, no answer";
  host.advance(1);
  EXPECT_EQ(closes_of(host, silent), 1u);
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
  // The welcome the black hole held back is for an abandoned socket.
  s2c::Welcome late;
  late.ref = hello.ref;
  late.sessionId = "s";
  late.user = {"alice", "Alice"};
  late.heartbeatMs = 25'000;
  host.core.received(silent, encode(s2c::Frame{late}, Codec::json), host.now);
  host.drain();
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
}

TEST(Handshake, TheDeadlineCountsFromTheStartOfTheAttemptAndRepeatsWithGrowingBackoff) {
  FakeHost host;
  host.core.connect(host.now);
  for (int attempt = 0; attempt < 5; ++attempt) {
    host.drain();
    std::uint32_t socket = host.socket;
    std::int64_t started = host.now;
    host.advance(9'000);
    host.core.socket_opened(socket, subprotocol_json, host.now);  // opens late, then silence
    host.core.set_token("t", host.now);
    host.advance(999);
    EXPECT_EQ(closes_of(host, socket), 0u) << "attempt " << attempt;
    host.advance(1);
    EXPECT_EQ(closes_of(host, socket), 1u) << "10 s after the attempt started, not after it opened";
    EXPECT_EQ(host.now - started, 10'000);
    EXPECT_EQ(host.connection().attempt, attempt + 1);
    std::int64_t delay = *host.connection().next_attempt_at - host.now;
    EXPECT_LE(delay, std::min<std::int64_t>(10'000, 500LL << attempt));
    host.advance(delay);
  }
  EXPECT_EQ(host.opens, 6);
}

TEST(Handshake, UsesTheConfiguredTimeoutAndNoneOnceWelcomed) {
  client::Config config = FakeHost::default_config();
  config.handshake_timeout_ms = 3'000;
  FakeHost host(config);
  host.core.connect(host.now);
  host.drain();
  host.advance(2'999);
  EXPECT_EQ(host.connection().state, ConnectionState::connecting);
  host.advance(1);
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
  host.advance(*host.connection().next_attempt_at - host.now);
  host.accept("alice", "Alice", 1'000'000);
  host.advance(60'000);
  EXPECT_EQ(host.connection().state, ConnectionState::connected) << "the heartbeat watches a welcomed socket";
  EXPECT_EQ(host.opens, 2);
}

TEST(Handshake, MessagesQueuedDuringBlackHoledAttemptsAreSentOnceWhenAConnectionWorks) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.join("lobby", host.now);
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(test::make_joined(join.ref, "lobby", 0));
  host.drop();
  std::vector<std::string> keys;
  for (int i = 0; i < 15; ++i)
    keys.push_back(host.core.send("lobby", test::text("m" + std::to_string(i)), host.now).key);
  // Three attempts open and hear nothing.
  for (int attempt = 0; attempt < 3; ++attempt) {
    host.advance(*host.connection().next_attempt_at - host.now);
    host.core.socket_opened(host.socket, subprotocol_json, host.now);
    EXPECT_EQ(host.take_sent_of<c2s::Hello>().size(), 1u) << "said hello into the void";
    host.advance(10'000);
    ASSERT_EQ(host.connection().state, ConnectionState::reconnecting) << "attempt " << attempt;
  }
  EXPECT_TRUE(host.take_sent_of<c2s::Send>().empty());
  host.advance(*host.connection().next_attempt_at - host.now);
  host.accept("alice", "Alice");
  auto rejoin = host.expect_sent<c2s::Join>();
  host.deliver(test::make_joined(rejoin.ref, "lobby", 0));
  auto sends = host.take_sent_of<c2s::Send>();
  ASSERT_EQ(sends.size(), 15u);
  for (std::size_t i = 0; i < sends.size(); ++i) EXPECT_EQ(sends[i].clientMsgId, keys[i]);
}

// ---- token refresh in place

// Opens the attempt under way with a token that expires at `expires_at` and
// welcomes it; the server's clock reads `server_time` then.
void welcome_with_expiring_token(FakeHost& host, std::int64_t expires_at, std::int64_t server_time = 0) {
  host.drain();
  host.core.socket_opened(host.socket, subprotocol_json, host.now);
  host.core.set_token("token-1", host.now, expires_at);
  auto hello = host.expect_sent<c2s::Hello>();
  s2c::Welcome welcome;
  welcome.ref = hello.ref;
  welcome.sessionId = "s1";
  welcome.user = {"alice", "Alice"};
  welcome.serverTime = server_time == 0 ? host.now : server_time;
  welcome.heartbeatMs = 1'000'000;  // out of the way
  welcome.limits = {65536, 4000, 1, 1000};
  host.deliver(welcome);
}

TEST(Refresh, ATokenIsRefreshedBeforeItExpiresOnTheSameSocket) {
  FakeHost host;  // token_refresh_ms = 30 000
  host.core.connect(host.now);
  welcome_with_expiring_token(host, host.now + 600'000);
  std::uint32_t socket = host.socket;
  EXPECT_EQ(host.token_requests, 1);
  for (int refresh = 0; refresh < 3; ++refresh) {
    std::int64_t expires = host.now + 600'000;
    if (refresh > 0) {
      host.core.set_token("token-" + std::to_string(refresh + 1), host.now, expires);
      auto auth = host.expect_sent<c2s::Auth>();
      host.deliver(s2c::Ack{*auth.ref, std::nullopt});
    }
    host.advance(600'000 - 30'001);
    EXPECT_EQ(host.token_requests, refresh + 1) << "not yet";
    host.advance(1);
    EXPECT_EQ(host.token_requests, refresh + 2) << "30 s before the expiry";
    EXPECT_EQ(host.now, expires - 30'000);
  }
  EXPECT_EQ(host.opens, 1);
  EXPECT_TRUE(host.closes.empty());
  EXPECT_EQ(host.socket, socket);
  EXPECT_EQ(host.connection().state, ConnectionState::connected);
}

TEST(Refresh, TheFreshTokenGoesOutAsAuthAndSendsAreNotHeldBack) {
  FakeHost host;
  host.core.connect(host.now);
  std::int64_t expires = host.now + 4'000;  // a short-lived token: refreshed halfway
  welcome_with_expiring_token(host, expires);
  host.core.join("lobby", host.now);
  auto join = host.expect_sent<c2s::Join>();
  host.deliver(test::make_joined(join.ref, "lobby", 0));
  host.advance(1'999);
  EXPECT_EQ(host.token_requests, 1);
  host.advance(1);
  EXPECT_EQ(host.token_requests, 2) << "halfway through a life shorter than twice the margin";
  // While the app fetches the token, messages go out as usual.
  std::string key = host.core.send("lobby", test::text("during the refresh"), host.now).key;
  EXPECT_EQ(host.expect_sent<c2s::Send>().clientMsgId, key);
  host.advance(500);
  host.core.set_token("token-2", host.now, expires + 4'000);
  auto auth = host.expect_sent<c2s::Auth>();
  EXPECT_EQ(auth.token, "token-2");
  ASSERT_TRUE(auth.ref);
  key = host.core.send("lobby", test::text("before the auth ack"), host.now).key;
  EXPECT_EQ(host.expect_sent<c2s::Send>().clientMsgId, key);
  host.deliver(s2c::Ack{*auth.ref, std::nullopt});
  EXPECT_TRUE(host.take_sent_of<c2s::Hello>().empty());
  EXPECT_TRUE(host.closes.empty()) << "no reconnect";
  EXPECT_EQ(host.opens, 1);
  // The next refresh is measured from the new token: halfway through its 5.5 s.
  host.advance(2'749);
  EXPECT_EQ(host.token_requests, 2);
  host.advance(1);
  EXPECT_EQ(host.token_requests, 3);
}

TEST(Refresh, TheExpiryIsReadOnTheServersClock) {
  FakeHost host;
  host.core.connect(host.now);
  std::int64_t server_now = host.now + 300'000;  // the server's clock is 5 minutes ahead
  welcome_with_expiring_token(host, server_now + 60'000, server_now);
  host.advance(29'999);
  EXPECT_EQ(host.token_requests, 1);
  host.advance(1);
  EXPECT_EQ(host.token_requests, 2) << "30 s before the expiry as the server counts";
}

TEST(Refresh, AnAppThatOffersATokenWhileConnectedHandsItOverInPlace) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.set_token("signed-in-again", host.now);
  EXPECT_EQ(host.expect_sent<c2s::Auth>().token, "signed-in-again");
  EXPECT_TRUE(host.closes.empty());
  EXPECT_EQ(host.opens, 1);
}

TEST(Refresh, ARefusedRefreshFallsBackToTheUnauthorizedPath) {
  FakeHost host;
  host.core.connect(host.now);
  welcome_with_expiring_token(host, host.now + 60'000);
  host.advance(30'000);
  ASSERT_EQ(host.token_requests, 2);
  host.core.set_token("refused", host.now, host.now + 60'000);
  auto auth = host.expect_sent<c2s::Auth>();
  host.deliver(make_error(auth.ref, "unauthorized", "bad signature"));
  EXPECT_EQ(host.closes.size(), 1u) << "closed, as after a 4001";
  EXPECT_EQ(host.connection().state, ConnectionState::reconnecting);
  EXPECT_EQ(host.connection().last_error->code, ErrorCode::unauthorized);
  host.advance(10'000);
  EXPECT_EQ(host.token_requests, 3) << "a fresh token for the next attempt";
  hello_with_token(host, "refused-too");
  host.drop(close_code::unauthorized);
  EXPECT_EQ(host.connection().state, ConnectionState::closed) << "refused right after a fresh token";
}

TEST(Refresh, ATokenProviderThatFailsIsAskedAgainHalfwayAndNullClosesAsSignedOut) {
  FakeHost host;
  host.core.connect(host.now);
  welcome_with_expiring_token(host, host.now + 60'000);
  host.advance(30'000);
  ASSERT_EQ(host.token_requests, 2);
  host.core.token_failed(host.now);
  host.drain();
  EXPECT_EQ(host.connection().state, ConnectionState::connected) << "the current token still works";
  host.advance(14'999);
  EXPECT_EQ(host.token_requests, 2);
  host.advance(1);
  EXPECT_EQ(host.token_requests, 3) << "halfway to the expiry";
  host.core.token_failed(host.now, true);  // no token: the user signed out
  host.drain();
  EXPECT_EQ(host.connection().state, ConnectionState::closed);
  EXPECT_EQ(host.connection().last_error->code, ErrorCode::unauthorized);
}

TEST(Refresh, AReconnectWithATokenDueForRefreshAsksForAFreshOne) {
  FakeHost host;
  host.core.connect(host.now);
  welcome_with_expiring_token(host, host.now + 60'000);
  host.advance(20'000);
  host.drop();
  host.advance(*host.connection().next_attempt_at - host.now);
  host.core.socket_opened(host.socket, subprotocol_json, host.now);
  EXPECT_EQ(host.expect_sent<c2s::Hello>().token, "token-1") << "40 s of life left: the token is reused";
  EXPECT_EQ(host.token_requests, 1);
  host.core.network_offline(host.now);
  host.advance(11'000);  // 29 s left: inside the refresh window
  host.core.network_online(host.now);
  host.drain();
  EXPECT_EQ(host.token_requests, 2) << "a fresh token rather than one about to expire";
  host.core.socket_opened(host.socket, subprotocol_json, host.now);
  EXPECT_TRUE(host.take_sent_of<c2s::Hello>().empty()) << "no hello with the old token";
  host.core.set_token("token-2", host.now, host.now + 60'000);
  EXPECT_EQ(host.expect_sent<c2s::Hello>().token, "token-2");
}

TEST(Connection, DisconnectClosesAndStaysClosed) {
  FakeHost host;
  host.connect_as("alice", "Alice");
  host.core.disconnect(host.now);
  host.drain();
  EXPECT_EQ(host.connection().state, ConnectionState::closed);
  host.advance(60'000);
  EXPECT_EQ(host.opens, 1);
}

}  // namespace
}  // namespace parley::client
