#include "storage/storage.hpp"

namespace parley::server {

protocol::Error storage_error(std::string message) {
  return protocol::Error{protocol::ErrorCode::internal, std::move(message), ""};
}

}  // namespace parley::server
