// The C ABI the JS wrapper calls (exported from the WebAssembly module).
//
// Plain C functions instead of embind keep the module small and free of
// `new Function` (strict CSP). Byte inputs go through a scratch buffer the
// host fills (parley_buffer); outputs are a NUL-terminated JSON string or the
// effects buffer, valid until the next call on the same handle.
//
// Effects buffer: a sequence of records
//   u8 kind | u32 id | f64 number | u32 len1 | bytes1 | u32 len2 | bytes2
// (little-endian): an Effect (parley/client/effects.hpp) as it is, with
// bytes1 = text and bytes2 = data. The kinds, the commands and their
// numbers are declared once, in client-wasm/abi.json, and generated for
// this file and for js-wrapper/src/core.ts.

#include <cstring>
#include <memory>

#include "parley/client/core.hpp"
#include "parley/protocol/detail/json_dom.hpp"
#include "parley/protocol/detail/json_writer.hpp"

namespace {

using namespace parley::client;

// Commands parse with the codec's JSON parser: one parser in the module.
using parley::protocol::detail::json::Document;
using parley::protocol::detail::json::Kind;
using parley::protocol::detail::json::Node;

struct Handle {
  explicit Handle(Config config) : core(std::move(config)) {}
  Core core;
  std::string scratch;
  std::string effects;
  std::string output;
  Document command;  // reused: its buffers keep their capacity
};

std::int64_t ms(double now) { return static_cast<std::int64_t>(now); }

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_f64(std::string& out, double v) {
  char bytes[8];
  std::memcpy(bytes, &v, 8);  // wasm32 and x86-64 are little-endian
  out.append(bytes, 8);
}

void put_record(std::string& out, std::uint8_t kind, std::uint32_t id, double number, std::string_view a = {},
                std::string_view b = {}) {
  out.push_back(static_cast<char>(kind));
  put_u32(out, id);
  put_f64(out, number);
  put_u32(out, static_cast<std::uint32_t>(a.size()));
  out.append(a);
  put_u32(out, static_cast<std::uint32_t>(b.size()));
  out.append(b);
}

bool parse(Document& doc, const char* text, std::size_t length) {
  return doc.parse(std::string_view(text, length)) && doc.root().kind == Kind::object;
}

std::string str(const Document& doc, const Node& obj, const char* key) {
  const Node* n = doc.member(obj, key);
  return n && n->kind == Kind::string ? std::string(doc.string(*n)) : std::string();
}

std::optional<std::int64_t> integer(const Document& doc, const Node& obj, const char* key) {
  const Node* n = doc.member(obj, key);
  if (!n || n->kind != Kind::integer || n->too_big) return std::nullopt;
  return n->integer;
}

// An attachment's metadata from the app (fields absent or of another type are left out).
parley::protocol::Metadata metadata_of(const Document& doc, const Node& meta) {
  parley::protocol::Metadata m;
  auto text = [&](const char* key, std::optional<std::string>& out) {
    if (auto v = str(doc, meta, key); !v.empty()) out = std::move(v);
  };
  text("fileName", m.fileName);
  text("mimeType", m.mimeType);
  text("thumbnailUrl", m.thumbnailUrl);
  text("url", m.url);
  m.fileSize = integer(doc, meta, "fileSize");
  m.width = integer(doc, meta, "width");
  m.height = integer(doc, meta, "height");
  return m;
}

const char* result(Handle& h, bool ok, std::string_view key = {}, std::string_view value = {}) {
  std::string text;
  parley::protocol::detail::json::Writer w(text);
  w.start_object();
  w.key("ok");
  w.boolean(ok);
  if (!key.empty()) {
    w.key(key);
    w.string(value);
  }
  w.end_object();
  h.output = std::move(text);
  return h.output.c_str();
}

// {"ok": true, "key"} or {"ok": false, "code"}.
const char* sent(Handle& h, const SendResult& r) {
  return r ? result(h, true, "key", r.key) : result(h, false, "code", to_string(*r.refused));
}

}  // namespace

extern "C" {

// config: JSON {"url", "seed", "clientName", "clientVersion", and optionally
// "backoffBaseMs", "backoffCapMs", "stableAfterMs", "handshakeTimeoutMs", "queueLimit",
// "changeTimeoutMs"} (the
// wrapper checks their ranges; defaults in Config)
Handle* parley_new(const char* config_json, std::size_t length) {
  Document doc;
  if (!parse(doc, config_json, length)) return nullptr;
  const Node& root = doc.root();
  Config config;
  config.url = str(doc, root, "url");
  if (auto seed = integer(doc, root, "seed")) config.seed = static_cast<std::uint64_t>(*seed);
  if (auto v = integer(doc, root, "backoffBaseMs")) config.backoff_base_ms = *v;
  if (auto v = integer(doc, root, "backoffCapMs")) config.backoff_cap_ms = *v;
  if (auto v = integer(doc, root, "stableAfterMs")) config.stable_after_ms = *v;
  if (auto v = integer(doc, root, "handshakeTimeoutMs")) config.handshake_timeout_ms = *v;
  if (auto v = integer(doc, root, "queueLimit")) config.queue_limit = static_cast<std::size_t>(*v);
  if (auto v = integer(doc, root, "changeTimeoutMs")) config.change_timeout_ms = *v;
  if (auto name = str(doc, root, "clientName"); !name.empty()) config.client_name = name;
  if (auto version = str(doc, root, "clientVersion"); !version.empty()) config.client_version = version;
  return new Handle(std::move(config));
}

void parley_free(Handle* h) { delete h; }

// A buffer of `size` bytes for the next call's input.
char* parley_buffer(Handle* h, std::size_t size) {
  h->scratch.resize(size);
  return h->scratch.data();
}

// An app call (abi.json's commands): `op` by number, its arguments as a JSON
// object in the scratch buffer. Returns {"ok": bool, ...}: send, edit,
// remove and react answer {"ok": true, "key"} or {"ok": false, "code"} (a
// SendRefusal: queue_full, not_found, ...); a refused call says why in "error".
const char* parley_command(Handle* h, std::uint32_t op, std::size_t length, double now) {
  Document& doc = h->command;
  if (!parse(doc, h->scratch.data(), length)) return result(*h, false, "error", "arguments are not a JSON object");
  const Node& root = doc.root();
  auto field = [&](const char* key) { return str(doc, root, key); };
  auto flag = [&](const char* key) {
    const Node* n = doc.member(root, key);
    return n && n->kind == Kind::boolean && n->boolean;
  };
  std::string room = field("roomId");
  Core& core = h->core;
  auto t = ms(now);
#define PARLEY_OP(name, number) name = number,
  enum : std::uint32_t { PARLEY_ABI_COMMANDS(PARLEY_OP) };
#undef PARLEY_OP
  switch (op) {
    case connect:
      core.connect(t);
      break;
    case disconnect:
      core.disconnect(t);
      break;
    case reconnect_now:
      core.reconnect_now(t);
      break;
    case online:
      core.network_online(t);
      break;
    case offline:
      core.network_offline(t);
      break;
    case set_token:
      core.set_token(field("token"), t, integer(doc, root, "expiresAt").value_or(0));
      break;
    case token_failed:
      core.token_failed(t, flag("refused"));
      break;
    case join:
      core.join(room, t);
      break;
    case leave:
      core.leave(room, t);
      break;
    case load_older:
      core.load_older(room, t);
      break;
    case send: {
      parley::protocol::Draft draft;
      draft.content = field("content");
      if (auto type = field("type"); !type.empty()) draft.type = type;
      if (auto reply = field("replyTo"); !reply.empty()) draft.replyTo = reply;
      if (const Node* meta = doc.member(root, "metadata"); meta && meta->kind == Kind::object) {
        draft.metadata = metadata_of(doc, *meta);
      }
      return sent(*h, core.send(room, std::move(draft), t, flag("held")));
    }
    case edit:
      return sent(*h, core.edit(room, field("key"), field("content"), t));
    case remove_message:
      return sent(*h, core.remove(room, field("key"), t));
    case react:
      return sent(*h, core.react(room, field("key"), field("emoji"), t));
    case attach: {
      const Node* meta = doc.member(root, "metadata");
      if (!meta || meta->kind != Kind::object) return result(*h, false, "error", "attach needs metadata");
      return result(*h, core.attach(room, field("key"), metadata_of(doc, *meta), t));
    }
    case retry:
      return result(*h, core.retry(room, field("key"), t));
    case discard:
      return result(*h, core.discard(room, field("key"), t));
    case set_typing:
      core.set_typing(room, flag("active"), t);
      break;
    case mark_read: {
      auto seq = integer(doc, root, "seq");
      if (!seq) return result(*h, false, "error", "markRead needs an integer seq");
      core.mark_read(room, *seq, t);
      break;
    }
    case set_presence:
      core.set_presence(field("status"), t);
      break;
    default:
      return result(*h, false, "error", "unknown command");
  }
  return result(*h, true);
}

// A persisted blob: the scratch buffer holds `key_length` bytes of key, then the blob.
int parley_restore(Handle* h, std::size_t key_length, std::size_t blob_length, double now) {
  std::string key(h->scratch.data(), key_length);
  std::string_view blob(h->scratch.data() + key_length, blob_length);
  return h->core.restore(key, blob, ms(now)) ? 1 : 0;
}

// The subprotocol the server chose (WebSocket.protocol), in the scratch buffer.
void parley_socket_opened(Handle* h, std::uint32_t socket, std::size_t length, double now) {
  h->core.socket_opened(socket, std::string_view(h->scratch.data(), length), ms(now));
}

void parley_socket_closed(Handle* h, std::uint32_t socket, std::uint32_t code, double now) {
  h->core.socket_closed(socket, static_cast<std::uint16_t>(code), ms(now));
}

// A frame, in the scratch buffer.
void parley_received(Handle* h, std::uint32_t socket, std::size_t length, double now) {
  h->core.received(socket, std::string_view(h->scratch.data(), length), ms(now));
}

void parley_timer_fired(Handle* h, std::uint32_t timer, double now) { h->core.timer_fired(timer, ms(now)); }

// Takes the pending effects; returns their size, the bytes at parley_effects_data.
std::uint32_t parley_take_effects(Handle* h) {
  h->effects.clear();
  for (const auto& e : h->core.take_effects()) {
    put_record(h->effects, e.kind, e.id, static_cast<double>(e.number), e.text, e.data);
  }
  return static_cast<std::uint32_t>(h->effects.size());
}

const char* parley_effects_data(Handle* h) { return h->effects.data(); }

// The view named by the topic in the scratch buffer, as JSON.
const char* parley_view(Handle* h, std::size_t length) {
  std::string_view topic(h->scratch.data(), length);
  if (topic == "connection") {
    h->output = h->core.connection_json();
  } else if (topic.substr(0, 5) == "room:") {
    h->output = h->core.room_json(std::string(topic.substr(5)));
  } else {
    h->output = "null";
  }
  return h->output.c_str();
}

}  // extern "C"
