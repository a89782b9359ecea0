#include "client_session.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>

#include "log.hpp"
#include "parley/protocol/drafts.hpp"
#include "parley/protocol/limits.hpp"
#include "parley/protocol/schema.hpp"
#include "parley/protocol/utf8.hpp"

namespace parley::server {

using namespace protocol;

namespace {

// How long a send refused for the rate holds back the ones behind it once its
// token is due (a client that never sends it again).
constexpr std::int64_t kHoldGraceMs = 10'000;

// When a request answered `internal` may be tried again.
constexpr std::int64_t kInternalRetryMs = 1'000;

// The ref of a frame that failed to decode, so its error can still carry it.
std::optional<std::string> salvage_ref(std::string_view bytes, Codec codec) {
  if (codec != Codec::json) return std::nullopt;
  rapidjson::Document doc;
  // Iterative: a frame nested 60 000 deep must not recurse as deep on the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(bytes.data(), bytes.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto ref = doc.FindMember("ref");
  if (ref == doc.MemberEnd() || !ref->value.IsString() || ref->value.GetStringLength() > 64) return std::nullopt;
  return std::string(ref->value.GetString(), ref->value.GetStringLength());
}

std::uint64_t next_session_number() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

std::int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ClientSession::ClientSession(SessionServices services, WorkerMetrics& metrics, std::weak_ptr<Peer> self)
    : services_(services),
      metrics_(metrics),
      self_(std::move(self)),
      key_(self_.lock().get()),
      session_number_(next_session_number()),
      codec_(self_.lock() ? self_.lock()->codec() : Codec::json),
      buckets_(services.config.rates) {}

bool ClientSession::joined(const std::string& room_id) const {
  return std::binary_search(rooms_.begin(), rooms_.end(), room_id);
}

std::string ClientSession::session_id() const { return "s" + std::to_string(session_number_); }

ClientSession::~ClientSession() {
  on_closed(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count());
}

std::optional<std::int64_t> ClientSession::expires_at() const {
  std::int64_t at = expires_at_ms_.load(std::memory_order_acquire);
  if (at == 0) return std::nullopt;
  return at;
}

void ClientSession::on_frame(std::string_view bytes, std::int64_t now_ms) {
  std::int64_t started = steady_us();
  // The decoder checks the generated schema rules and gives the clearest
  // messages; valijson then checks JSON frames against the full schemas.
  auto decoded = decode_client_frame(bytes, codec_);
  // The generated decoder enforces the schemas' rules; valijson, the schemas'
  // oracle, costs 15 times as much and runs only when asked (--strict-schema).
  if (decoded && codec_ == Codec::json && services_.config.strict_schema) {
    if (auto error = validate_json_frame(bytes, Direction::client_to_server)) decoded = std::move(*error);
  }
  if (!decoded) {
    reply_error(salvage_ref(bytes, codec_), decoded.error());
    return;
  }
  c2s::Frame& frame = decoded.value();
  WorkerMetrics::add(metrics_.frames_in[frame.index()]);
  WorkerMetrics::add(metrics_.bytes_in[frame.index()], bytes.size());
  try {
    std::visit([&](auto& f) { dispatch(f, now_ms); }, frame);
  } catch (const std::exception& e) {
    // Nothing below throws by design (storage failures are values); should
    // something still, it ends this request, not the worker and its connections.
    log::error("request failed", {{"session", session_id()}, {"error", e.what()}});
    std::visit(
        [&](auto& f) {
          reply_error(f.ref, Error{ErrorCode::internal, "the server failed; try again", ""});
        },
        frame);
  }
  metrics_.observe_latency(steady_us() - started);
}

template <class Frame>
void ClientSession::dispatch(Frame& f, std::int64_t now_ms) {
  constexpr bool is_hello = std::is_same_v<Frame, c2s::Hello>;
  if (!identity_ && !is_hello) {
    reply_error(f.ref, Error{ErrorCode::unauthorized, "say hello with a token first", ""});
    return close(close_code::unauthorized, "hello first");
  }
  if constexpr (!is_hello) {
    constexpr bool is_send = std::is_same_v<Frame, c2s::Send>;
    if constexpr (is_send) {
      if (std::int64_t wait = held_back(f, now_ms); wait > 0) {
        // Not counted as ignoring the limit: the client sent it before it
        // could know about the refusal.
        WorkerMetrics::add(metrics_.rate_limited);
        return reply_error(
            f.ref,
            Error{ErrorCode::rate_limited, "an earlier message waits to be sent again; messages keep their order", ""},
            wait);
      }
    }
    RateClass which = rate_class_of(variant_index<c2s::Frame, Frame>());
    if constexpr (is_send) {
      // Reactions have a budget of their own: a burst of them must not eat
      // the messages' (nor messages theirs).
      if (f.message.type == "react" || f.message.type == "unreact") which = RateClass::reactions;
    }
    const Rate& rate = services_.config.rates[which];
    std::int64_t wait = buckets_[which].take(rate, now_ms);
    if (wait == 0) {
      wait = tenant_->users().take(identity_->user_id, which, now_ms);
      // The app's own send rate, over all its users (tenants/tenants.hpp).
      if (wait == 0 && which == RateClass::messages) wait = tenant_->take_send(now_ms);
      if (wait > 0) buckets_[which].give_back(rate);  // the request was not served after all
    }
    if (wait > 0) {
      WorkerMetrics::add(metrics_.rate_limited);
      if (abusive(now_ms)) return close(close_code::policy_violation, "rate limit ignored");
      if constexpr (is_send) {
        held_ = std::make_unique<HeldSend>(HeldSend{f.clientMsgId, now_ms + wait, now_ms + wait + kHoldGraceMs});
      }
      // Typing is volatile: a dropped indicator needs no answer unless asked for.
      if (!std::is_same_v<Frame, c2s::Typing> || f.ref) {
        reply_error(f.ref, Error{ErrorCode::rate_limited, "too many requests; slow down", ""}, wait);
      }
      return;
    }
  }
  handle(f, now_ms);
}

RateClass ClientSession::rate_class_of(std::size_t frame_index) {
  switch (frame_index) {
    case variant_index<c2s::Frame, c2s::Send>():
      return RateClass::messages;
    case variant_index<c2s::Frame, c2s::Typing>():
      return RateClass::typing;
    case variant_index<c2s::Frame, c2s::Read>():
    case variant_index<c2s::Frame, c2s::Delivered>():
      return RateClass::receipts;
    default:
      return RateClass::other;
  }
}

std::int64_t ClientSession::held_back(const c2s::Send& f, std::int64_t now_ms) {
  if (!held_) return 0;
  if (f.clientMsgId == held_->client_msg_id || now_ms >= held_->expires_at) {
    held_.reset();
    return 0;
  }
  // Once its token is due, the held send should come first: wait for the
  // hold to expire otherwise.
  return now_ms < held_->ready_at ? held_->ready_at - now_ms : held_->expires_at - now_ms;
}

bool ClientSession::abusive(std::int64_t now_ms) {
  std::erase_if(limited_at_, [&](std::int64_t t) { return t < now_ms - 10'000; });
  limited_at_.push_back(now_ms);
  return limited_at_.size() >= services_.config.abuse_limit;
}

void ClientSession::on_closed(std::int64_t now_ms) {
  if (identity_) {
    for (const auto& room : rooms_) tenant_->hub().leave(room, *identity_, key_, false, now_ms);
  }
  rooms_.clear();
  if (counted_) {
    tenant_->users().remove_connection(identity_->user_id);
    tenant_->remove_connection();
  }
  counted_ = false;
}

void ClientSession::expire(std::int64_t now_ms) {
  if (!identity_ || identity_->expires_at_ms > now_ms) return;  // auth brought a fresh token meanwhile
  reply_error(std::nullopt, Error{ErrorCode::unauthorized, "the token expired; send auth with a fresh one", ""});
  close(close_code::unauthorized, "token expired");
}

void ClientSession::handle(c2s::Hello& f, std::int64_t now_ms) {
  if (identity_) return reply_error(f.ref, Error{ErrorCode::conflict, "already said hello", ""});
  auto identity = services_.verifier.verify(f.token, now_ms);
  if (!identity) {
    log::info("auth refused", {{"session", session_id()}, {"reason", identity.error().message}});
    reply_error(f.ref, identity.error());
    return close(close_code::unauthorized, "unauthorized");
  }
  // The session belongs to the token's tenant from now on: its rooms and
  // users are the only ones it can reach.
  auto tenant = services_.tenants.get(identity.value().tenant);
  if (!tenant) {
    log::error("tenant unavailable", {{"tenant", identity.value().tenant}, {"error", tenant.error().message}});
    reply_error(f.ref, Error{ErrorCode::internal, "the server failed; try again", ""}, 1000);
    return close(close_code::try_again_later, "storage unavailable");
  }
  Tenant& t = *tenant.value();
  if (!t.add_connection()) {
    reply_error(
        f.ref,
        Error{ErrorCode::forbidden,
              "too many connections for this app (limit " + std::to_string(t.limits().max_connections) + ")", ""});
    return close(close_code::try_again_later, "too many connections for this app");
  }
  if (!t.users().add_connection(identity.value().user_id)) {
    t.remove_connection();
    reply_error(f.ref, Error{ErrorCode::forbidden,
                             "too many connections for this user (limit " +
                                 std::to_string(services_.config.max_connections_per_user) + ")",
                             ""});
    return close(close_code::try_again_later, "too many connections for this user");
  }
  tenant_ = &t;
  counted_ = true;
  identity_ = std::move(identity).value();
  expires_at_ms_.store(identity_->expires_at_ms, std::memory_order_release);
  tenant_name_.store(&t.name(), std::memory_order_release);
  log::debug("hello", {{"session", session_id()}, {"user", identity_->user_id}});
  s2c::Welcome welcome;
  welcome.ref = f.ref;
  welcome.sessionId = session_id();
  welcome.user = User{identity_->user_id, identity_->name};
  welcome.serverTime = now_ms;
  welcome.heartbeatMs = services_.config.ping_interval_ms;
  // The tighter of the connection's and the user's send limits, so a client
  // that paces itself to it is not refused while it is the user's only one.
  const Rate& connection = services_.config.rates[RateClass::messages];
  const Rate& user = services_.config.user_rates[RateClass::messages];
  double per_second = std::min(connection.per_second, user.per_second);
  double burst = std::min(connection.burst, user.burst);
  welcome.limits =
      protocol::Limits{services_.config.max_frame_bytes, static_cast<std::int64_t>(services_.config.max_content_length),
                       static_cast<std::int64_t>(std::ceil(1000.0 / per_second)),
                       std::max<std::int64_t>(1, static_cast<std::int64_t>(burst))};
  reply(welcome);
}

void ClientSession::handle(c2s::Auth& f, std::int64_t now_ms) {
  auto identity = services_.verifier.verify(f.token, now_ms);
  if (!identity) return reply_error(f.ref, identity.error());
  if (identity.value().user_id != identity_->user_id || identity.value().tenant != identity_->tenant) {
    return reply_error(f.ref, Error{ErrorCode::forbidden, "a refreshed token must name the same user", "/token"});
  }
  identity_ = std::move(identity).value();
  expires_at_ms_.store(identity_->expires_at_ms, std::memory_order_release);
  acknowledge(f.ref);
}

void ClientSession::handle(c2s::Join& f, std::int64_t now_ms) {
  auto self = self_.lock();
  if (!self) return;
  if (auto refused = tenant_->hub().join(*identity_, self, f, now_ms)) return reply_error(f.ref, *refused);
  if (!joined(f.roomId)) rooms_.insert(std::lower_bound(rooms_.begin(), rooms_.end(), f.roomId), f.roomId);
}

void ClientSession::handle(c2s::Leave& f, std::int64_t now_ms) {
  bool forget = f.forget.value_or(false);
  if (!joined(f.roomId)) {
    if (forget)
      return reply_error(f.ref, Error{ErrorCode::forbidden, "join the room before leaving it for good", "/roomId"});
    return acknowledge(f.ref);  // leaving twice is fine
  }
  if (auto refused = tenant_->hub().leave(f.roomId, *identity_, key_, forget, now_ms)) {
    return reply_error(f.ref, *refused);
  }
  rooms_.erase(std::lower_bound(rooms_.begin(), rooms_.end(), f.roomId));
  acknowledge(f.ref);
}

void ClientSession::handle(c2s::Send& f, std::int64_t now_ms) {
  if (!in_room(f.ref, f.roomId, "sending to it")) return;
  if (auto refused = protocol::check_draft(f.message)) return reply_error(f.ref, *refused);
  // The decoder checked the protocol's limit; the server's own may be lower.
  if (protocol::utf8_length(f.message.content).value_or(0) > services_.config.max_content_length) {
    return reply_error(f.ref, Error{ErrorCode::too_large,
                                    "`/message/content` is longer than this server's limit of " +
                                        std::to_string(services_.config.max_content_length) + " characters",
                                    "/message/content"});
  }
  auto posted = tenant_->hub().post(f.roomId, *identity_, key_, f.clientMsgId, f.message, now_ms);
  if (!posted) return reply_error(f.ref, posted.error());
  if (f.ref) reply(s2c::Ack{*f.ref, posted.value().message});
}

void ClientSession::handle(c2s::Typing& f, std::int64_t now_ms) {
  if (!in_room(f.ref, f.roomId, "typing in it")) return;
  if (auto refused = tenant_->hub().typing(f.roomId, *identity_, key_, f.active, now_ms)) {
    return reply_error(f.ref, *refused);
  }
  acknowledge(f.ref);
}

void ClientSession::handle(c2s::Read& f, std::int64_t now_ms) {
  if (!in_room(f.ref, f.roomId, "marking it read")) return;
  if (auto e = tenant_->hub().receipt(f.roomId, *identity_, key_, Watermark::read, f.upToSeq)) {
    return reply_error(f.ref, *e);
  }
  tenant_->hub().activity({f.roomId}, *identity_, key_, now_ms);
  acknowledge(f.ref);
}

void ClientSession::handle(c2s::Delivered& f, std::int64_t) {
  if (!in_room(f.ref, f.roomId, "acknowledging delivery")) return;
  if (auto e = tenant_->hub().receipt(f.roomId, *identity_, key_, Watermark::delivered, f.upToSeq)) {
    return reply_error(f.ref, *e);
  }
  acknowledge(f.ref);
}

void ClientSession::handle(c2s::Presence& f, std::int64_t now_ms) {
  // The decoder allows only online, idle and away.
  tenant_->hub().set_status(room_list(), *identity_, key_,
                            parse_presence_status(f.status).value_or(PresenceStatus::online), now_ms);
  acknowledge(f.ref);
}

void ClientSession::handle(c2s::History& f, std::int64_t) {
  if (!in_room(f.ref, f.roomId, "reading its history")) return;
  auto history = tenant_->hub().history(f.roomId, key_, f.beforeSeq, static_cast<std::size_t>(f.limit.value_or(50)));
  if (!history) return reply_error(f.ref, history.error());
  history.value().ref = f.ref;
  reply(history.value());
}

void ClientSession::handle(c2s::Ping& f, std::int64_t now_ms) { reply(s2c::Pong{f.ref, now_ms}); }

void ClientSession::handle(c2s::Kick& f, std::int64_t now_ms) {
  if (!in_room(f.ref, f.roomId, "removing members")) return;
  if (auto e = tenant_->hub().kick(f.roomId, *identity_, key_, f.userId, now_ms)) return reply_error(f.ref, *e);
  acknowledge(f.ref);
}

bool ClientSession::in_room(const std::optional<std::string>& ref, const std::string& room_id, const char* action) {
  if (joined(room_id)) return true;
  reply_error(ref, Error{ErrorCode::forbidden, std::string("join the room before ") + action, "/roomId"});
  return false;
}

void ClientSession::acknowledge(const std::optional<std::string>& ref) {
  if (ref) reply(s2c::Ack{*ref, {}});
}

void ClientSession::reply(const s2c::Frame& frame) {
  // Through the worker's queue like broadcasts, so replies keep their place among them.
  if (auto p = self_.lock()) fan_out(services_.dispatch, {p}, frame);
}

void ClientSession::reply_error(const std::optional<std::string>& ref, const Error& error,
                                std::optional<std::int64_t> retry_after_ms) {
  WorkerMetrics::add(metrics_.errors[static_cast<std::size_t>(error.code)]);
  s2c::Error frame;
  frame.ref = ref;
  frame.code = std::string(to_string(error.code));
  frame.message = error.message.substr(0, 512);
  if (!error.path.empty()) frame.path = error.path;
  // `internal` is retryable (the storage failed, say): tell the client when.
  if (!retry_after_ms && error.code == ErrorCode::internal) retry_after_ms = kInternalRetryMs;
  frame.retryAfterMs = retry_after_ms;
  reply(frame);
}

void ClientSession::close(std::uint16_t code, std::string reason) {
  if (auto p = self_.lock()) p->close(code, std::move(reason));
}

}  // namespace parley::server
