// What the client core asks its host (the JS wrapper, or a test) to do.
// The core performs no I/O: it returns these and the host carries them out.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace parley::client {

// Open a WebSocket to `url` offering `subprotocol`; report back with
// socket_opened / socket_closed / received using the same `socket` id.
struct OpenSocket {
  std::uint32_t socket = 0;
  std::string url;
  std::string subprotocol;
  bool operator==(const OpenSocket&) const = default;
};

struct SendFrame {
  std::uint32_t socket = 0;
  std::string bytes;
  bool binary = false;
  bool operator==(const SendFrame&) const = default;
};

struct CloseSocket {
  std::uint32_t socket = 0;
  std::uint16_t code = 1000;
  std::string reason;
  bool operator==(const CloseSocket&) const = default;
};

// Call timer_fired(timer) after `delay_ms`, unless cancelled first. Starting a
// timer id that is already running restarts it.
struct StartTimer {
  std::uint32_t timer = 0;
  std::int64_t delay_ms = 0;
  bool operator==(const StartTimer&) const = default;
};

struct CancelTimer {
  std::uint32_t timer = 0;
  bool operator==(const CancelTimer&) const = default;
};

// Store `blob` under `key` so a later core can restore it (IndexedDB in the browser).
struct Persist {
  std::string key;
  std::string blob;
  bool operator==(const Persist&) const = default;
};

// Get a (fresh) token from the app and hand it to set_token().
struct RequestToken {
  bool operator==(const RequestToken&) const = default;
};

// The view named `topic` changed ("connection" or "room:<roomId>"): re-read it.
struct Notify {
  std::string topic;
  bool operator==(const Notify&) const = default;
};

using Effect = std::variant<OpenSocket, SendFrame, CloseSocket, StartTimer, CancelTimer, Persist, RequestToken, Notify>;

}  // namespace parley::client
