// Full JSON Schema validation (valijson) of JSON frames against
// shared/schemas/. parleyd runs it on every inbound JSON frame; the client's
// release build relies on the decoder's generated rules instead (size), and
// its tests prove both refuse the same frames.
#pragma once

#include <optional>
#include <string_view>

#include "parley/protocol/errors.hpp"

namespace parley::protocol {

enum class Direction : std::uint8_t { client_to_server, server_to_client };

// nullopt when `json_text` is a valid frame for `direction`; otherwise the
// first (deepest) violation with its code and JSON pointer.
std::optional<Error> validate_json_frame(std::string_view json_text, Direction direction);

}  // namespace parley::protocol
