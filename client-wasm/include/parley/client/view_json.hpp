// The views as JSON, the shape the JS wrapper hands to React (camelCase).
#pragma once

#include <string>

#include "parley/client/views.hpp"

namespace parley::client {

// {"state","attempt","nextAttemptAt","lastError","user"}
std::string to_json(const ConnectionView& view);
// {"roomId","joined","messages":[{"key","status","mine","error"?, ...message fields}]}
std::string to_json(const RoomView& view);

}  // namespace parley::client
