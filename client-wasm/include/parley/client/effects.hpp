// What the client core asks its host (the JS wrapper, or a test) to do.
// The core performs no I/O: it returns these and the host carries them out.
//
// An effect is one plain record, the same fields for every kind (what the
// wrapper receives through the C ABI): a variant of eight structs cost the
// WebAssembly module a visit, a move and a destructor per kind.
#pragma once

#include <cstdint>
#include <string>

namespace parley::client {

struct Effect {
  enum Kind : std::uint8_t {
    // Open a WebSocket to `text` (the URL) offering the subprotocol `data`;
    // report back with socket_opened / socket_closed / received using `id`.
    open_socket = 1,
    send_frame = 2,    // send `text` (a JSON frame) on socket `id`
    close_socket = 3,  // close socket `id` with code `number` and reason `text`
    // Call timer_fired(id) after `number` ms, unless cancelled first; starting
    // a timer that is already running restarts it.
    start_timer = 4,
    cancel_timer = 5,  // timer `id`
    // Store `data` under the key `text` so that a later core can restore it
    // (IndexedDB in the browser).
    persist = 6,
    request_token = 7,  // get a (fresh) token from the app and hand it to set_token()
    notify = 8,         // the view named `text` ("connection" or "room:<id>") changed: re-read it
  };
  Kind kind = notify;
  std::uint32_t id = 0;
  std::int64_t number = 0;
  std::string text;
  std::string data;
  bool operator==(const Effect&) const = default;
};

}  // namespace parley::client
