// Message bodies of the load generator: "T<send ns>-P<publisher>-N<number>-" padded to 100 bytes, written by
// publishers and found again in the server's events by receivers. Inline: every send and delivery goes through them.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace parley::loadgen {

// The decimal integer at `at` in `s` (advancing `at` past it), or -1.
inline std::int64_t parse_int(std::string_view s, std::size_t& at) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + at, s.data() + s.size(), v);
  if (ec != std::errc()) return -1;
  at = static_cast<std::size_t>(ptr - s.data());
  return v;
}

// The position right after `key` in `s`, or npos.
inline std::size_t after(std::string_view s, std::string_view key, std::size_t from = 0) {
  auto at = s.find(key, from);
  return at == std::string_view::npos ? at : at + key.size();
}

// A message body: "T<send ns>-P<publisher>-N<number>-" padded with 'x' to 100 bytes.
struct Body {
  std::int64_t sent_ns = -1;
  std::int64_t publisher = -1;
  std::int64_t number = -1;
};

// Reads the body that starts at `at` in `s`; false if it is not one.
inline bool parse_body(std::string_view s, std::size_t at, Body& b) {
  if (at >= s.size() || s[at] != 'T') return false;
  ++at;
  b.sent_ns = parse_int(s, at);
  if (at + 1 >= s.size() || s[at] != '-' || s[at + 1] != 'P') return false;
  at += 2;
  b.publisher = parse_int(s, at);
  if (at + 1 >= s.size() || s[at] != '-' || s[at + 1] != 'N') return false;
  at += 2;
  b.number = parse_int(s, at);
  return b.sent_ns >= 0 && b.publisher >= 0 && b.number >= 0;
}

inline std::string make_body(std::int64_t sent_ns, std::uint32_t publisher, std::uint32_t number) {
  std::string body =
      "T" + std::to_string(sent_ns) + "-P" + std::to_string(publisher) + "-N" + std::to_string(number) + "-";
  if (body.size() < 100) body.append(100 - body.size(), 'x');
  return body;
}

}  // namespace parley::loadgen
