#include "parley/client/views.hpp"

namespace parley::client {

std::string_view to_string(ConnectionState state) {
  switch (state) {
    case ConnectionState::idle:
      return "idle";
    case ConnectionState::connecting:
      return "connecting";
    case ConnectionState::authenticating:
      return "authenticating";
    case ConnectionState::connected:
      return "connected";
    case ConnectionState::backoff:
      return "backoff";
    case ConnectionState::offline:
      return "offline";
    case ConnectionState::closed:
      return "closed";
  }
  return "idle";
}

std::string_view to_string(MessageStatus status) {
  switch (status) {
    case MessageStatus::queued:
      return "queued";
    case MessageStatus::sending:
      return "sending";
    case MessageStatus::sent:
      return "sent";
    case MessageStatus::delivered:
      return "delivered";
    case MessageStatus::read:
      return "read";
    case MessageStatus::failed:
      return "failed";
  }
  return "queued";
}

}  // namespace parley::client
