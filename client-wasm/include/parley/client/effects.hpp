// What the client core asks its host (the JS wrapper, or a test) to do.
// The core performs no I/O: it returns these and the host carries them out.
//
// An effect is one plain record, the same fields for every kind (what the
// wrapper receives through the C ABI): a variant of eight structs cost the
// WebAssembly module a visit, a move and a destructor per kind.
#pragma once

#include <cstdint>
#include <string>

#include "parley/client/abi.gen.hpp"

namespace parley::client {

// The kinds and their numbers come from client-wasm/abi.json (the one
// declaration of the boundary, generated for both sides):
//   open_socket    open a WebSocket to `text` (the URL) offering the
//                  subprotocol `data`; report back with socket_opened /
//                  socket_closed / received using `id`
//   send_frame     send `text` (a JSON frame) on socket `id`
//   close_socket   close socket `id` with code `number` and reason `text`
//   start_timer    call timer_fired(id) after `number` ms, unless cancelled
//                  first; starting a timer that runs restarts it
//   cancel_timer   timer `id`
//   persist        store `data` under the key `text` so that a later core
//                  can restore it (IndexedDB in the browser)
//   request_token  get a (fresh) token from the app and hand it to set_token()
//   notify         the view named `text` ("connection" or "room:<id>")
//                  changed: re-read it
struct Effect {
#define PARLEY_EFFECT_KIND(name, number) name = number,
  enum Kind : std::uint8_t { PARLEY_ABI_EFFECTS(PARLEY_EFFECT_KIND) };
#undef PARLEY_EFFECT_KIND
  Kind kind = notify;
  std::uint32_t id = 0;
  std::int64_t number = 0;
  std::string text;
  std::string data;
  bool operator==(const Effect&) const = default;
};

}  // namespace parley::client
