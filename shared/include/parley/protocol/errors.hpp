// Stable error codes and WebSocket close codes of protocol v1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::protocol {

enum class ErrorCode : std::uint8_t {
  bad_request,
  unauthorized,
  forbidden,
  not_found,
  rate_limited,
  too_large,
  conflict,
  unsupported_version,
  internal,
};

std::string_view to_string(ErrorCode code);
std::optional<ErrorCode> error_code_from_string(std::string_view name);

// A refused frame or request: what a peer gets back, with the JSON pointer of
// the offending field ("" for the frame as a whole).
struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  std::string path;

  bool operator==(const Error&) const = default;
};

// The error's words, or "<code> at <path>" when it has none (the browser
// build leaves wording out: see PARLEY_TERSE_ERRORS in shared/src/rules.hpp).
std::string describe(const Error& error);

// Close codes used by parleyd (1000-1015 from RFC 6455, 4000+ Parley's own).
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
inline constexpr std::uint16_t service_restart = 1012;
inline constexpr std::uint16_t try_again_later = 1013;
inline constexpr std::uint16_t unauthorized = 4001;
inline constexpr std::uint16_t handshake_timeout = 4002;
inline constexpr std::uint16_t slow_consumer = 4003;
}  // namespace close_code

}  // namespace parley::protocol
