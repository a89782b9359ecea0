#include "parley/client/views.hpp"

namespace parley::client {

std::string_view to_string(ConnectionState state) {
  constexpr std::string_view kWords[] = {"idle",         "connecting", "authenticating", "connected",
                                         "reconnecting", "offline",    "closed"};
  return kWords[static_cast<std::size_t>(state)];
}

std::string_view to_string(MessageStatus status) {
  constexpr std::string_view kWords[] = {"queued", "sending", "sent", "delivered", "read", "failed"};
  return kWords[static_cast<std::size_t>(status)];
}

}  // namespace parley::client
