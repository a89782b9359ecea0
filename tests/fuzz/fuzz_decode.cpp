// libFuzzer target for one decoder, chosen at compile time:
//   PARLEY_FUZZ_CODEC     0 = JSON, 1 = binary
//   PARLEY_FUZZ_DIRECTION 0 = client frames (what parleyd decodes), 1 = server frames (what the client decodes)
// Whatever the input, decoding must not crash, leak or trip a sanitizer, and
// an accepted frame must survive a round trip through its codec unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parley/protocol/codec.hpp"
#include "parley/protocol/schema.hpp"

namespace {

constexpr auto kCodec = PARLEY_FUZZ_CODEC == 0 ? parley::protocol::Codec::json : parley::protocol::Codec::binary;

template <class Decode>
void check(std::string_view input, Decode decode) {
  auto frame = decode(input, kCodec);
  if (!frame) return;
  auto again = decode(parley::protocol::encode(frame.value(), kCodec), kCodec);
  if (!again || !(again.value() == frame.value())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if constexpr (PARLEY_FUZZ_DIRECTION == 0) {
    check(input, parley::protocol::decode_client_frame);
    if constexpr (PARLEY_FUZZ_CODEC == 0) {
      // What parleyd runs on JSON frames too (valijson over rapidjson): a
      // frame the decoder accepts must pass the full schemas as well.
      auto schema_error = validate_json_frame(input, parley::protocol::Direction::client_to_server);
      if (parley::protocol::decode_client_frame(input, kCodec).ok() && schema_error) std::abort();
    }
  } else {
    check(input, parley::protocol::decode_server_frame);
  }
  return 0;
}
