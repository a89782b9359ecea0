// Every frame of protocol v1 as a plain struct of std types.
//
// Each struct lists its wire fields once, in `fields(self, visit)`: the JSON
// codec, the binary codec and the schema consistency test all walk that list,
// so a field exists in exactly one place in C++. Names are the camelCase wire
// names; limits and forms live in shared/schemas/, not here. Optional wire
// fields are std::optional; everything else is required.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace parley::protocol {

struct User {
  std::string id;
  std::string name;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("id", s.id);
    v("name", s.name);
  }
  bool operator==(const User&) const = default;
};

struct Room {
  std::string id;
  std::string kind;  // public | private | direct

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("id", s.id);
    v("kind", s.kind);
  }
  bool operator==(const Room&) const = default;
};

struct Metadata {
  std::optional<std::string> fileName;
  std::optional<std::int64_t> fileSize;
  std::optional<std::string> mimeType;
  std::optional<std::string> thumbnailUrl;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fileName", s.fileName);
    v("fileSize", s.fileSize);
    v("mimeType", s.mimeType);
    v("thumbnailUrl", s.thumbnailUrl);
  }
  bool operator==(const Metadata&) const = default;
};

// What a client asks to send: a message without the server-assigned fields.
struct Draft {
  std::string type = "text";  // text | image | file | system
  std::string content;
  std::optional<Metadata> metadata;
  std::optional<std::string> replyTo;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v("content", s.content);
    v("metadata", s.metadata);
    v("replyTo", s.replyTo);
  }
  bool operator==(const Draft&) const = default;
};

// A stored chat message.
struct Message {
  std::string id;
  std::string roomId;
  std::string senderId;
  std::string senderName;
  std::string clientMsgId;
  std::int64_t seq = 0;
  std::string type = "text";
  std::string content;
  std::optional<Metadata> metadata;
  std::optional<std::string> replyTo;
  std::int64_t createdAt = 0;
  std::optional<std::int64_t> updatedAt;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("id", s.id);
    v("roomId", s.roomId);
    v("senderId", s.senderId);
    v("senderName", s.senderName);
    v("clientMsgId", s.clientMsgId);
    v("seq", s.seq);
    v("type", s.type);
    v("content", s.content);
    v("metadata", s.metadata);
    v("replyTo", s.replyTo);
    v("createdAt", s.createdAt);
    v("updatedAt", s.updatedAt);
  }
  bool operator==(const Message&) const = default;
};

struct ClientInfo {
  std::string name;
  std::string version;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("name", s.name);
    v("version", s.version);
  }
  bool operator==(const ClientInfo&) const = default;
};

struct Limits {
  std::int64_t maxFrameBytes = 0;
  std::int64_t maxContentLength = 0;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("maxFrameBytes", s.maxFrameBytes);
    v("maxContentLength", s.maxContentLength);
  }
  bool operator==(const Limits&) const = default;
};

// Client -> server frames. The `type` of each is its `name`.
namespace c2s {

struct Hello {
  static constexpr std::string_view name = "hello";
  std::optional<std::string> ref;
  std::int64_t v = 1;
  std::string token;
  std::optional<ClientInfo> client;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("v", s.v);
    v("token", s.token);
    v("client", s.client);
  }
  bool operator==(const Hello&) const = default;
};

struct Join {
  static constexpr std::string_view name = "join";
  std::optional<std::string> ref;
  std::string roomId;
  std::optional<std::int64_t> sinceSeq;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("sinceSeq", s.sinceSeq);
  }
  bool operator==(const Join&) const = default;
};

struct Send {
  static constexpr std::string_view name = "send";
  std::optional<std::string> ref;
  std::string roomId;
  std::string clientMsgId;
  Draft message;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("clientMsgId", s.clientMsgId);
    v("message", s.message);
  }
  bool operator==(const Send&) const = default;
};

// The binary codec tags frames by their index here: append, never reorder.
using Frame = std::variant<Hello, Join, Send>;

}  // namespace c2s

// Server -> client frames.
namespace s2c {

struct Welcome {
  static constexpr std::string_view name = "welcome";
  std::optional<std::string> ref;
  std::string sessionId;
  User user;
  std::int64_t serverTime = 0;
  std::int64_t heartbeatMs = 0;
  Limits limits;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("sessionId", s.sessionId);
    v("user", s.user);
    v("serverTime", s.serverTime);
    v("heartbeatMs", s.heartbeatMs);
    v("limits", s.limits);
  }
  bool operator==(const Welcome&) const = default;
};

struct Joined {
  static constexpr std::string_view name = "joined";
  std::optional<std::string> ref;
  Room room;
  std::string epoch;
  std::int64_t headSeq = 0;
  std::vector<Message> messages;
  std::optional<bool> reset;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("room", s.room);
    v("epoch", s.epoch);
    v("headSeq", s.headSeq);
    v("messages", s.messages);
    v("reset", s.reset);
  }
  bool operator==(const Joined&) const = default;
};

struct Ack {
  static constexpr std::string_view name = "ack";
  std::string ref;
  std::optional<Message> message;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("message", s.message);
  }
  bool operator==(const Ack&) const = default;
};

struct Error {
  static constexpr std::string_view name = "error";
  std::optional<std::string> ref;
  std::string code;
  std::string message;
  std::optional<std::string> path;
  std::optional<std::int64_t> retryAfterMs;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("code", s.code);
    v("message", s.message);
    v("path", s.path);
    v("retryAfterMs", s.retryAfterMs);
  }
  bool operator==(const Error&) const = default;
};

// Frame type "message": a new message in a joined room.
struct MessageEvent {
  static constexpr std::string_view name = "message";
  Message message;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("message", s.message);
  }
  bool operator==(const MessageEvent&) const = default;
};

// The binary codec tags frames by their index here: append, never reorder.
using Frame = std::variant<Welcome, Joined, Ack, Error, MessageEvent>;

}  // namespace s2c

}  // namespace parley::protocol
