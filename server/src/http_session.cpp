#include "http_session.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <rapidjson/document.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "clock.hpp"
#include "handshake.hpp"
#include "log.hpp"
#include "server_context.hpp"
#include "worker.hpp"
#include "ws_connection.hpp"

namespace parley::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {

std::string websocket_accept(std::string_view key) {
  std::string input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

// How long a connection closed after a malformed request keeps draining input.
constexpr auto kLinger = std::chrono::seconds(2);

}  // namespace

HttpSession::HttpSession(Socket&& socket, Worker& worker, ServerContext& context, ConnectionSlot slot, IpAddress peer)
    : stream_(std::move(socket)), worker_(worker), context_(context), slot_(std::move(slot)), peer_(peer) {}

void HttpSession::run() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
}

void HttpSession::do_read() {
  parser_.emplace();
  parser_->header_limit(8 * 1024);
  parser_->body_limit(64 * 1024);
  // The upgrade request is part of the handshake: the same timeout bounds it.
  stream_.expires_after(std::chrono::milliseconds(context_.config.handshake_timeout_ms));
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
}

void HttpSession::on_read(beast::error_code ec, std::size_t) {
  if (ec == http::error::end_of_stream) {
    slot_.release();
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
    return;
  }
  if (ec == http::error::header_limit) {
    lingering_ = true;
    context_.admission.count_handshake_refused(431);
    return refuse(431, "the request's header is larger than 8 KiB\n");
  }
  if (ec == http::error::body_limit) {
    lingering_ = true;
    context_.admission.count_handshake_refused(413);
    return refuse(413, "the request's body is larger than 64 KiB\n");
  }
  // Malformed HTTP: a clear 400. Timeouts, resets and a request cut short
  // by the peer end the connection quietly.
  if (ec && ec.category() == beast::http::make_error_code(http::error::bad_method).category() &&
      ec != http::error::partial_message) {
    lingering_ = true;
    context_.admission.count_handshake_refused(400);
    return refuse(400, "malformed HTTP request: " + ec.message() + "\n");
  }
  if (ec) return;
  route(parser_->get());
}

void HttpSession::route(const Request& req) {
  std::string_view target(req.target().data(), req.target().size());
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (target == "/ws") return upgrade(req);
  if (target == "/healthz" && get) return respond(http::status::ok, "application/json", context_.health_json());
  if (target == "/metrics" && get) {
    return respond(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", context_.metrics_text());
  }
  if (target.rfind("/admin/", 0) == 0) return admin(req, std::string_view(req.target().data(), req.target().size()));
  respond(http::status::not_found, "text/plain", "not found\n");
}

namespace {

// The value of `name` in the target's query string (no decoding: tenant
// names need none), or nullopt.
std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return std::nullopt;
}

}  // namespace

void HttpSession::admin(const Request& req, std::string_view full_target) {
  const std::string& token = context_.config.admin_token;
  if (token.empty()) return respond(http::status::not_found, "text/plain", "the admin API is off (--admin-token)\n");
  std::string expected = "Bearer " + token;
  auto given = req[http::field::authorization];
  if (given.size() != expected.size() || CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0) {
    return respond(http::status::unauthorized, "text/plain", "missing or wrong admin token\n");
  }
  std::string_view target = full_target.substr(0, full_target.find('?'));
  // The tenant a request is about: ?tenant=<name>, the default tenant without it.
  std::string tenant_name = query_param(full_target, "tenant").value_or("default");
  if (auto why = check_tenant_name(tenant_name)) {
    return respond(http::status::bad_request, "text/plain", "tenant: " + *why + "\n");
  }
  if (target == "/admin/stats" && req.method() == http::verb::get) {
    return respond(http::status::ok, "application/json", context_.stats_json());
  }
  if (target == "/admin/broadcast" && req.method() == http::verb::post) {
    rapidjson::Document body;
    body.Parse<rapidjson::kParseIterativeFlag>(req.body().data(), req.body().size());
    auto text = body.IsObject() ? body.FindMember("text") : body.MemberEnd();
    if (body.HasParseError() || !body.IsObject() || text == body.MemberEnd() || !text->value.IsString() ||
        text->value.GetStringLength() == 0 || text->value.GetStringLength() > 2000) {
      return respond(http::status::bad_request, "text/plain",
                     "send {\"text\": \"...\", \"level\": \"info|warning\"}\n");
    }
    std::string level = "info";
    if (auto l = body.FindMember("level"); l != body.MemberEnd() && l->value.IsString()) level = l->value.GetString();
    if (level != "info" && level != "warning") {
      return respond(http::status::bad_request, "text/plain", "level is info or warning\n");
    }
    // ?tenant=<name>: that tenant's connections only; without it, everyone's.
    std::optional<std::string> only;
    if (query_param(full_target, "tenant")) only = tenant_name;
    context_.announce(text->value.GetString(), level, only);
    log::info("announcement", {{"level", level}});
    return respond(http::status::accepted, "application/json", "{\"status\":\"sent\"}\n");
  }
  // PUT /admin/rooms/<room>/members/<user> {"role": "admin" | "member"}
  constexpr std::string_view kRooms = "/admin/rooms/";
  constexpr std::string_view kMembers = "/members/";
  if (target.rfind(kRooms, 0) == 0 && req.method() == http::verb::put) {
    auto at = target.find(kMembers, kRooms.size());
    if (at == std::string_view::npos) return respond(http::status::not_found, "text/plain", "not found\n");
    std::string room(target.substr(kRooms.size(), at - kRooms.size()));
    std::string user(target.substr(at + kMembers.size()));
    rapidjson::Document body;
    body.Parse<rapidjson::kParseIterativeFlag>(req.body().data(), req.body().size());
    auto role = body.IsObject() ? body.FindMember("role") : body.MemberEnd();
    if (body.HasParseError() || !body.IsObject() || role == body.MemberEnd() || !role->value.IsString()) {
      return respond(http::status::bad_request, "text/plain", "send {\"role\": \"admin|member\"}\n");
    }
    return on_storage_threads([this, tenant_name, room, user, wanted = std::string(role->value.GetString())] {
      auto tenant = context_.tenants.get(tenant_name);
      if (!tenant) return Answer{http::status::service_unavailable, "text/plain", "storage unavailable\n"};
      auto changed = tenant.value()->hub().set_role(room, user, wanted, wall_ms());
      if (!changed) {
        auto code = changed.error().code;
        auto status = code == protocol::ErrorCode::not_found   ? http::status::not_found
                      : code == protocol::ErrorCode::forbidden ? http::status::forbidden
                                                               : http::status::bad_request;
        return Answer{status, "text/plain", changed.error().message + "\n"};
      }
      return Answer{http::status::ok, "application/json",
                    "{\"roomId\":\"" + room + "\",\"userId\":\"" + user + "\",\"role\":\"" +
                        std::string(to_string(changed.value().role)) + "\"}\n"};
    });
  }
  // GET /admin/tenants/<name>: its limits and usage; PUT: new limits
  // ({"maxConnections": n, "messagesPerSecond": n, "maxRooms": n}; 0 or
  // left out: no limit), until the process ends.
  constexpr std::string_view kTenants = "/admin/tenants/";
  if (target.rfind(kTenants, 0) == 0 && (req.method() == http::verb::get || req.method() == http::verb::put)) {
    std::string name(target.substr(kTenants.size()));
    if (auto why = check_tenant_name(name)) {
      return respond(http::status::bad_request, "text/plain", "tenant: " + *why + "\n");
    }
    std::optional<TenantLimits> limits;
    if (req.method() == http::verb::put) {
      auto parsed = parse_one_tenant_limits(req.body());
      if (!parsed) return respond(http::status::bad_request, "text/plain", parsed.error().message + "\n");
      limits = parsed.value();
    }
    return on_storage_threads([this, name, limits] {
      // A tenant not seen yet has its rooms counted in storage.
      protocol::Result<Tenant*> tenant =
          limits ? context_.tenants.set_limits(name, *limits) : context_.tenants.get(name);
      if (!tenant) return Answer{http::status::service_unavailable, "text/plain", "storage unavailable\n"};
      if (limits) log::info("tenant limits set", {{"tenant", name}, {"limits", to_json(*limits)}});
      Tenant& t = *tenant.value();
      Tenant::Usage u = t.usage();
      return Answer{http::status::ok, "application/json",
                    "{\"tenant\":\"" + name + "\",\"limits\":" + to_json(t.limits()) +
                        ",\"connections\":" + std::to_string(u.connections) + ",\"rooms\":" + std::to_string(u.rooms) +
                        ",\"messages\":" + std::to_string(u.messages) + "}\n"};
    });
  }
  respond(http::status::not_found, "text/plain", "not found\n");
}

void HttpSession::upgrade(const Request& req) {
  UpgradeRequest request;
  request.method = view(req.method_string());
  request.version = req.version();
  for (const auto& field : req) request.fields.push_back({view(field.name_string()), view(field.value())});
  request.has_body = !req.body().empty() || req.chunked();
  UpgradeVerdict verdict = check_upgrade(request, context_.config.allowed_origins);
  if (!verdict.ok()) {
    context_.admission.count_handshake_refused(verdict.status);
    log::debug("handshake refused",
               {{"status", std::to_string(verdict.status)}, {"reason", verdict.reason}, {"ip", peer_.to_string()}});
    return refuse(static_cast<unsigned>(verdict.status), std::move(verdict.reason), std::move(verdict.headers));
  }

  // Pick the codec from the subprotocols the client offers, in its order.
  std::optional<protocol::Codec> codec;
  std::string chosen;
  std::string_view offered(req[http::field::sec_websocket_protocol].data(),
                           req[http::field::sec_websocket_protocol].size());
  if (offered.empty()) codec = protocol::Codec::json;
  while (!offered.empty() && !codec) {
    auto comma = offered.find(',');
    auto item = offered.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if ((codec = protocol::codec_for_subprotocol(item))) chosen = std::string(item);
    offered = comma == std::string_view::npos ? std::string_view() : offered.substr(comma + 1);
  }
  if (!codec) {
    context_.admission.count_handshake_refused(400);
    return refuse(400, "unsupported WebSocket subprotocol; this server speaks parley.v1.json and parley.v1.bin\n");
  }

  // Behind a trusted proxy the client is the one its forwarding header names.
  const Config& config = context_.config;
  auto forwarded =
      field_values(request.fields, config.proxy_header == ProxyHeader::forwarded ? "forwarded" : "x-forwarded-for");
  std::string ip = client_address(peer_, config.trusted_proxies, config.proxy_header, forwarded).to_string();
  if (context_.admission.upgrade(slot_, ip) != Admission::Refusal::none) {
    return refuse(429, "too many connections from this address\n", {{"Retry-After", "5"}});
  }

  std::string response =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nServer: parleyd\r\n"
      "Sec-WebSocket-Accept: " +
      websocket_accept(verdict.key) + "\r\n";
  if (!chosen.empty()) response += "Sec-WebSocket-Protocol: " + chosen + "\r\n";
  response += "\r\n";
  std::string leftover = beast::buffers_to_string(buffer_.data());
  stream_.expires_never();
  auto connection = std::make_shared<WsConnection>(stream_.release_socket(), worker_, context_, *codec, std::move(ip),
                                                   std::move(slot_));
  connection->start(std::move(response), std::move(leftover));
}

void HttpSession::on_storage_threads(std::function<Answer()> work) {
  context_.lanes->post([self = shared_from_this(), work = std::move(work)] {
    Answer answer = work();
    net::post(self->stream_.get_executor(), [self, answer = std::move(answer)]() mutable {
      self->respond(answer.status, std::move(answer.content_type), std::move(answer.body));
    });
  });
}

void HttpSession::respond(http::status status, std::string content_type, std::string body,
                          std::optional<std::string> retry_after) {
  auto res = std::make_shared<http::response<http::string_body>>(status, parser_->get().version());
  res->set(http::field::server, "parleyd");
  res->set(http::field::content_type, content_type);
  res->set(http::field::cache_control, "no-store");
  if (retry_after) res->set(http::field::retry_after, *retry_after);
  res->keep_alive(parser_->get().keep_alive() && status != http::status::switching_protocols);
  res->body() = std::move(body);
  res->prepare_payload();
  bool keep_alive = res->keep_alive();
  send(std::move(res), keep_alive);
}

void HttpSession::refuse(unsigned status, std::string reason, Headers headers) {
  unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), version);
  res->set(http::field::server, "parleyd");
  res->set(http::field::content_type, "text/plain; charset=utf-8");
  res->set(http::field::cache_control, "no-store");
  bool upgrade = false;
  for (auto& [name, value] : headers) {
    upgrade = upgrade || beast::iequals(name, "Upgrade");
    res->set(name, value);
  }
  res->keep_alive(false);
  // An Upgrade header in a response goes with the upgrade option (RFC 9110 §7.8).
  if (upgrade && version >= 11) res->set(http::field::connection, "Upgrade, close");
  res->body() = std::move(reason);
  res->prepare_payload();
  send(std::move(res), false);
}

void HttpSession::send(std::shared_ptr<http::response<http::string_body>> res, bool keep_alive) {
  http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
    self->on_write(keep_alive, ec);
  });
}

void HttpSession::on_write(bool keep_alive, beast::error_code ec) {
  if (ec) return;
  if (keep_alive) return do_read();
  boost::system::error_code ignored;
  // Input the peer sent past the request would turn our close into a reset,
  // which can destroy the answer before the peer reads it: drain it first.
  if (lingering_ || buffer_.size() > 0 || stream_.socket().available(ignored) > 0) return linger();
  // The place is given back before the peer can see the end of the
  // connection: a client that read to the end may count on it.
  slot_.release();
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
}

void HttpSession::linger() {
  lingering_ = true;
  boost::system::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kLinger);
  drain();
}

void HttpSession::drain() {
  buffer_.consume(buffer_.size());
  stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](beast::error_code ec, std::size_t) {
    if (!ec) self->drain();  // until the peer's end, an error or kLinger
  });
}

}  // namespace parley::server
