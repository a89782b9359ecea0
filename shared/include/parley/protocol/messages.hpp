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
#include <type_traits>
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

// A room member as others see them.
struct Member {
  std::string userId;
  std::string name;
  std::optional<std::string> role;  // owner | admin | member
  std::string status = "online";    // online | idle | away | offline
  std::optional<std::int64_t> lastSeen;
  std::optional<std::int64_t> readSeq;
  std::optional<std::int64_t> deliveredSeq;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("userId", s.userId);
    v("name", s.name);
    v("role", s.role);
    v("status", s.status);
    v("lastSeen", s.lastSeen);
    v("readSeq", s.readSeq);
    v("deliveredSeq", s.deliveredSeq);
  }
  bool operator==(const Member&) const = default;
};

// An attachment: the file lives in the app's own storage, at `url`.
struct Metadata {
  std::optional<std::string> fileName;
  std::optional<std::int64_t> fileSize;
  std::optional<std::string> mimeType;
  std::optional<std::string> thumbnailUrl;
  std::optional<std::string> url;
  std::optional<std::int64_t> width;   // images: pixels, so a client reserves the space
  std::optional<std::int64_t> height;  // while the image loads

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("fileName", s.fileName);
    v("fileSize", s.fileSize);
    v("mimeType", s.mimeType);
    v("thumbnailUrl", s.thumbnailUrl);
    v("url", s.url);
    v("width", s.width);
    v("height", s.height);
  }
  bool operator==(const Metadata&) const = default;
};

// One emoji on a message: how many users put it there, and the first of them.
struct Reaction {
  std::string emoji;
  std::int64_t count = 0;
  std::vector<std::string> userIds;  // the first kMaxListedReactors, in the order they reacted

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("emoji", s.emoji);
    v("count", s.count);
    v("userIds", s.userIds);
  }
  bool operator==(const Reaction&) const = default;
};

// What a reply shows of the message it answers, as that message is now.
struct Quote {
  std::string senderId;
  std::string senderName;
  std::string excerpt;          // the start of its content ("" once deleted)
  std::optional<bool> deleted;  // true: the original is a tombstone

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("senderId", s.senderId);
    v("senderName", s.senderName);
    v("excerpt", s.excerpt);
    v("deleted", s.deleted);
  }
  bool operator==(const Quote&) const = default;
};

// What a client asks to send: a message without the server-assigned fields.
// The types edit, delete, react and unreact change the earlier message named
// by `target` (docs/protocol.md, "Changing messages"); they take their own
// seq, like any message, so every member sees changes in one order.
struct Draft {
  std::string type = "text";  // text | image | file | system | edit | delete | react | unreact
  std::string content;
  std::optional<Metadata> metadata;
  std::optional<std::string> replyTo;
  std::optional<std::string> target;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("type", s.type);
    v("content", s.content);
    v("metadata", s.metadata);
    v("replyTo", s.replyTo);
    v("target", s.target);
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
  std::optional<std::int64_t> updatedAt;  // the last edit
  std::optional<std::string> target;      // edit | delete | react | unreact: the message changed
  std::optional<std::int64_t> deletedAt;  // a tombstone: content and metadata are gone
  std::optional<std::vector<Reaction>> reactions;
  std::optional<Quote> quote;  // a reply: the message it answers, when still kept

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
    v("target", s.target);
    v("deletedAt", s.deletedAt);
    v("reactions", s.reactions);
    v("quote", s.quote);
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
  std::int64_t sendIntervalMs = 0;  // the send rate limit: one per interval...
  std::int64_t sendBurst = 0;       // ...after a burst of this many

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("maxFrameBytes", s.maxFrameBytes);
    v("maxContentLength", s.maxContentLength);
    v("sendIntervalMs", s.sendIntervalMs);
    v("sendBurst", s.sendBurst);
  }
  bool operator==(const Limits&) const = default;
};

// Client -> server frames. Each frame's static `type` is its wire `type`.
namespace c2s {

struct Hello {
  static constexpr std::string_view type = "hello";
  std::optional<std::string> ref;
  std::int64_t v = 1;
  std::string token;
  std::optional<ClientInfo> client;
  std::optional<std::vector<std::string>> codecs;  // json | binary

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("v", s.v);
    v("token", s.token);
    v("client", s.client);
    v("codecs", s.codecs);
  }
  bool operator==(const Hello&) const = default;
};

struct Join {
  static constexpr std::string_view type = "join";
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
  static constexpr std::string_view type = "send";
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

struct Auth {
  static constexpr std::string_view type = "auth";
  std::optional<std::string> ref;
  std::string token;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("token", s.token);
  }
  bool operator==(const Auth&) const = default;
};

struct Leave {
  static constexpr std::string_view type = "leave";
  std::optional<std::string> ref;
  std::string roomId;
  std::optional<bool> forget;  // leave for good: the membership ends

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("forget", s.forget);
  }
  bool operator==(const Leave&) const = default;
};

struct Typing {
  static constexpr std::string_view type = "typing";
  std::optional<std::string> ref;
  std::string roomId;
  bool active = true;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("active", s.active);
  }
  bool operator==(const Typing&) const = default;
};

// `read` and `delivered`: watermarks that only move forward.
struct Read {
  static constexpr std::string_view type = "read";
  std::optional<std::string> ref;
  std::string roomId;
  std::int64_t upToSeq = 0;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("upToSeq", s.upToSeq);
  }
  bool operator==(const Read&) const = default;
};

struct Delivered {
  static constexpr std::string_view type = "delivered";
  std::optional<std::string> ref;
  std::string roomId;
  std::int64_t upToSeq = 0;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("upToSeq", s.upToSeq);
  }
  bool operator==(const Delivered&) const = default;
};

struct Presence {
  static constexpr std::string_view type = "presence";
  std::optional<std::string> ref;
  std::string status = "online";  // online | idle | away

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("status", s.status);
  }
  bool operator==(const Presence&) const = default;
};

struct History {
  static constexpr std::string_view type = "history";
  std::optional<std::string> ref;
  std::string roomId;
  std::optional<std::int64_t> beforeSeq;
  std::optional<std::int64_t> limit;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("beforeSeq", s.beforeSeq);
    v("limit", s.limit);
  }
  bool operator==(const History&) const = default;
};

struct Ping {
  static constexpr std::string_view type = "ping";
  std::optional<std::string> ref;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
  }
  bool operator==(const Ping&) const = default;
};

struct Kick {
  static constexpr std::string_view type = "kick";
  std::optional<std::string> ref;
  std::string roomId;
  std::string userId;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("userId", s.userId);
  }
  bool operator==(const Kick&) const = default;
};

// The binary codec tags frames by their index here: append, never reorder.
using Frame = std::variant<Hello, Join, Send, Auth, Leave, Typing, Read, Delivered, Presence, History, Ping, Kick>;

}  // namespace c2s

// Server -> client frames.
namespace s2c {

struct Welcome {
  static constexpr std::string_view type = "welcome";
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
  static constexpr std::string_view type = "joined";
  std::optional<std::string> ref;
  Room room;
  std::string epoch;
  std::int64_t headSeq = 0;
  std::vector<Member> members;
  std::vector<Message> messages;
  std::optional<bool> reset;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("room", s.room);
    v("epoch", s.epoch);
    v("headSeq", s.headSeq);
    v("members", s.members);
    v("messages", s.messages);
    v("reset", s.reset);
  }
  bool operator==(const Joined&) const = default;
};

struct Ack {
  static constexpr std::string_view type = "ack";
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
  static constexpr std::string_view type = "error";
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
  static constexpr std::string_view type = "message";
  Message message;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("message", s.message);
  }
  bool operator==(const MessageEvent&) const = default;
};

struct Typing {
  static constexpr std::string_view type = "typing";
  std::string roomId;
  std::string userId;
  std::string name;
  bool active = true;
  std::int64_t ttlMs = 0;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("roomId", s.roomId);
    v("userId", s.userId);
    v("name", s.name);
    v("active", s.active);
    v("ttlMs", s.ttlMs);
  }
  bool operator==(const Typing&) const = default;
};

struct Presence {
  static constexpr std::string_view type = "presence";
  std::string roomId;
  std::vector<Member> members;
  std::optional<bool> snapshot;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("roomId", s.roomId);
    v("members", s.members);
    v("snapshot", s.snapshot);
  }
  bool operator==(const Presence&) const = default;
};

struct Receipt {
  static constexpr std::string_view type = "receipt";
  std::string roomId;
  std::string userId;
  std::string kind = "read";  // read | delivered
  std::int64_t upToSeq = 0;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("roomId", s.roomId);
    v("userId", s.userId);
    v("kind", s.kind);
    v("upToSeq", s.upToSeq);
  }
  bool operator==(const Receipt&) const = default;
};

struct History {
  static constexpr std::string_view type = "history";
  std::optional<std::string> ref;
  std::string roomId;
  std::vector<Message> messages;
  bool hasMore = false;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("roomId", s.roomId);
    v("messages", s.messages);
    v("hasMore", s.hasMore);
  }
  bool operator==(const History&) const = default;
};

struct Pong {
  static constexpr std::string_view type = "pong";
  std::optional<std::string> ref;
  std::int64_t serverTime = 0;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("ref", s.ref);
    v("serverTime", s.serverTime);
  }
  bool operator==(const Pong&) const = default;
};

struct Announcement {
  static constexpr std::string_view type = "announcement";
  std::string id;
  std::string text;
  std::string level = "info";  // info | warning
  std::int64_t createdAt = 0;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("id", s.id);
    v("text", s.text);
    v("level", s.level);
    v("createdAt", s.createdAt);
  }
  bool operator==(const Announcement&) const = default;
};

struct Removed {
  static constexpr std::string_view type = "removed";
  std::string roomId;
  std::string by;
  std::optional<std::string> reason;

  template <class S, class V>
  static void fields(S& s, V& v) {
    v("roomId", s.roomId);
    v("by", s.by);
    v("reason", s.reason);
  }
  bool operator==(const Removed&) const = default;
};

// The binary codec tags frames by their index here: append, never reorder.
using Frame = std::variant<Welcome, Joined, Ack, Error, MessageEvent, Typing, Presence, Receipt, History, Pong,
                           Announcement, Removed>;

}  // namespace s2c

// The index of frame type T in a frame variant, at compile time.
template <class Variant, class T, std::size_t I = 0>
constexpr std::size_t variant_index() {
  static_assert(I < std::variant_size_v<Variant>, "T is not a frame of this variant");
  if constexpr (std::is_same_v<std::variant_alternative_t<I, Variant>, T>) {
    return I;
  } else {
    return variant_index<Variant, T, I + 1>();
  }
}

}  // namespace parley::protocol
