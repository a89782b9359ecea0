// UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates, nothing
// above U+10FFFF): the one check shared by the codecs' length limits and the
// server's WebSocket text frames.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace parley::protocol {

// The number of code points in `text`, or nullopt when it is not valid UTF-8.
std::optional<std::size_t> utf8_length(std::string_view text);

}  // namespace parley::protocol
