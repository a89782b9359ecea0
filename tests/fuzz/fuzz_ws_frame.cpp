// libFuzzer target for parleyd's WebSocket frame parser: no input may crash
// it, hold more than a message's worth of memory, or parse differently when
// the same bytes arrive in two pieces.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "ws/frame.hpp"

using parley::server::ws::Event;
using parley::server::ws::Parser;

namespace {
constexpr std::size_t kMax = 4096;

bool same(const std::vector<Event>& a, const std::vector<Event>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].kind != b[i].kind || a[i].payload != b[i].payload || a[i].close_code != b[i].close_code) return false;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t split = data[0] % (input.size() + 1);

  Parser whole(kMax);
  std::vector<Event> a;
  auto fa = whole.feed(input, a);

  Parser pieces(kMax);
  std::vector<Event> b;
  auto fb = pieces.feed(input.substr(0, split), b);
  if (!fb) fb = pieces.feed(input.substr(split), b);

  if (fa.has_value() != fb.has_value() || !same(a, b)) std::abort();
  if (fa && fa->code != fb->code) std::abort();
  if (whole.buffered() > kMax + 14 + 125) std::abort();
  for (const auto& e : a) {
    if (e.payload.size() > kMax) std::abort();
  }
  return 0;
}
