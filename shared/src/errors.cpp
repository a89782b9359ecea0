#include "parley/protocol/errors.hpp"

#include <array>

namespace parley::protocol {

namespace {
constexpr std::array<std::string_view, 9> kNames = {
    "bad_request", "unauthorized", "forbidden",           "not_found", "rate_limited",
    "too_large",   "conflict",     "unsupported_version", "internal",
};
}  // namespace

std::string_view to_string(ErrorCode code) { return kNames[static_cast<std::size_t>(code)]; }

std::optional<ErrorCode> error_code_from_string(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<ErrorCode>(i);
  }
  return std::nullopt;
}

std::string describe(const Error& error) {
  if (!error.message.empty()) return error.message;
  std::string text(to_string(error.code));
  if (!error.path.empty()) text += " at " + error.path;
  return text;
}

}  // namespace parley::protocol
