#include "client_session.hpp"

#include <rapidjson/document.h>

#include <atomic>

#include "log.hpp"
#include "parley/protocol/limits.hpp"
#include "parley/protocol/schema.hpp"

namespace parley::server {

using namespace protocol;

namespace {

// The ref of a frame that failed to decode, so its error can still carry it.
std::optional<std::string> salvage_ref(std::string_view bytes, Codec codec) {
  if (codec != Codec::json) return std::nullopt;
  rapidjson::Document doc;
  doc.Parse(bytes.data(), bytes.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto ref = doc.FindMember("ref");
  if (ref == doc.MemberEnd() || !ref->value.IsString() || ref->value.GetStringLength() > 64) return std::nullopt;
  return std::string(ref->value.GetString(), ref->value.GetStringLength());
}

constexpr std::int64_t kTypingTtlMs = 5000;

std::string next_session_id() {
  static std::atomic<std::uint64_t> counter{0};
  return "s" + std::to_string(++counter);
}

}  // namespace

ClientSession::ClientSession(Hub& hub, const TokenVerifier& verifier, const Config& config, std::weak_ptr<Peer> self)
    : hub_(hub),
      verifier_(verifier),
      config_(config),
      self_(std::move(self)),
      key_(self_.lock().get()),
      session_id_(next_session_id()) {
  if (auto p = peer()) codec_ = p->codec();
}

ClientSession::~ClientSession() { on_closed(); }

void ClientSession::on_frame(std::string_view bytes, std::int64_t now_ms) {
  // The decoder checks the generated schema rules and gives the clearest
  // messages; valijson then checks JSON frames against the full schemas.
  auto decoded = decode_client_frame(bytes, codec_);
  if (!decoded) return reply_error(salvage_ref(bytes, codec_), decoded.error());
  if (codec_ == Codec::json) {
    if (auto error = validate_json_frame(bytes, Direction::client_to_server)) {
      return reply_error(salvage_ref(bytes, codec_), *error);
    }
  }
  c2s::Frame& frame = decoded.value();
  if (!identity_ && !std::holds_alternative<c2s::Hello>(frame)) {
    reply_error(ref_of(frame), Error{ErrorCode::unauthorized, "say hello with a token first", ""});
    if (auto p = peer()) p->close(close_code::unauthorized, "hello first");
    return;
  }
  std::visit([&](auto& f) { handle(f, now_ms); }, frame);
}

void ClientSession::on_closed() {
  for (const auto& room : rooms_) hub_.leave(room, key_);
  rooms_.clear();
}

void ClientSession::handle(c2s::Hello& f, std::int64_t now_ms) {
  if (identity_) return reply_error(f.ref, Error{ErrorCode::conflict, "already said hello", ""});
  auto identity = verifier_.verify(f.token, now_ms);
  if (!identity) {
    log::info("auth refused", {{"session", session_id_}, {"reason", identity.error().message}});
    reply_error(f.ref, identity.error());
    if (auto p = peer()) p->close(close_code::unauthorized, "unauthorized");
    return;
  }
  identity_ = std::move(identity).value();
  log::debug("hello", {{"session", session_id_}, {"user", identity_->user_id}});
  s2c::Welcome welcome;
  welcome.ref = f.ref;
  welcome.sessionId = session_id_;
  welcome.user = User{identity_->user_id, identity_->name};
  welcome.serverTime = now_ms;
  welcome.heartbeatMs = config_.heartbeat_ms;
  welcome.limits =
      protocol::Limits{config_.max_frame_bytes, static_cast<std::int64_t>(protocol::limits::content_max_length)};
  reply(welcome);
}

void ClientSession::handle(c2s::Join& f, std::int64_t) {
  auto self = peer();
  if (!self) return;
  s2c::Joined joined = hub_.join(f.roomId, *identity_, self, f.sinceSeq);
  rooms_.insert(f.roomId);
  joined.ref = f.ref;
  reply(joined);
}

void ClientSession::handle(c2s::Send& f, std::int64_t now_ms) {
  if (!rooms_.count(f.roomId)) {
    return reply_error(f.ref, Error{ErrorCode::forbidden, "join the room before sending to it", "/roomId"});
  }
  auto posted = hub_.post(f.roomId, *identity_, f.clientMsgId, f.message, now_ms);
  if (!posted) return reply_error(f.ref, posted.error());
  if (f.ref) reply(s2c::Ack{*f.ref, posted.value().message});
}

void ClientSession::handle(c2s::Auth& f, std::int64_t now_ms) {
  auto identity = verifier_.verify(f.token, now_ms);
  if (!identity) return reply_error(f.ref, identity.error());
  if (identity.value().user_id != identity_->user_id) {
    return reply_error(f.ref, Error{ErrorCode::forbidden, "a refreshed token must name the same user", "/token"});
  }
  identity_ = std::move(identity).value();
  if (f.ref) reply(s2c::Ack{*f.ref, {}});
}

void ClientSession::handle(c2s::Leave& f, std::int64_t) {
  if (rooms_.erase(f.roomId)) {
    hub_.relay_typing(s2c::Typing{f.roomId, identity_->user_id, identity_->name, false, 0});
    hub_.leave(f.roomId, key_);
  }
  if (f.ref) reply(s2c::Ack{*f.ref, {}});
}

void ClientSession::handle(c2s::Typing& f, std::int64_t) {
  if (!rooms_.count(f.roomId)) {
    return reply_error(f.ref, Error{ErrorCode::forbidden, "join the room before typing in it", "/roomId"});
  }
  hub_.relay_typing(s2c::Typing{f.roomId, identity_->user_id, identity_->name, f.active, kTypingTtlMs});
  if (f.ref) reply(s2c::Ack{*f.ref, {}});
}

void ClientSession::handle(c2s::History& f, std::int64_t) {
  if (!rooms_.count(f.roomId)) {
    return reply_error(f.ref, Error{ErrorCode::forbidden, "join the room before reading its history", "/roomId"});
  }
  s2c::History history = hub_.history(f.roomId, f.beforeSeq, static_cast<std::size_t>(f.limit.value_or(50)));
  history.ref = f.ref;
  reply(history);
}

void ClientSession::handle(c2s::Ping& f, std::int64_t now_ms) { reply(s2c::Pong{f.ref, now_ms}); }

void ClientSession::handle(c2s::Read& f, std::int64_t) { not_supported(f.ref, "read receipts"); }
void ClientSession::handle(c2s::Delivered& f, std::int64_t) { not_supported(f.ref, "delivery receipts"); }
void ClientSession::handle(c2s::Presence& f, std::int64_t) { not_supported(f.ref, "presence"); }

void ClientSession::not_supported(const std::optional<std::string>& ref, std::string_view what) {
  reply_error(ref, Error{ErrorCode::internal, std::string(what) + " are not supported by this server yet", ""});
}

void ClientSession::reply(const s2c::Frame& frame) {
  if (auto p = peer()) p->deliver(std::make_shared<const std::string>(encode(frame, codec_)));
}

void ClientSession::reply_error(const std::optional<std::string>& ref, const Error& error) {
  s2c::Error frame;
  frame.ref = ref;
  frame.code = std::string(to_string(error.code));
  frame.message = error.message.substr(0, 512);
  if (!error.path.empty()) frame.path = error.path;
  reply(frame);
}

}  // namespace parley::server
