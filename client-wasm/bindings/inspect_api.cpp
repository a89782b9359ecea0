// parley_inspect: decodes a frame with the module's codecs and re-encodes it,
// for the TypeScript tests of the shared protocol vectors. Linked only into
// parley-core-test.mjs, never into the module the package ships.

#include <string>

#include "parley/protocol/codec.hpp"
#include "parley/protocol/detail/json_writer.hpp"

extern "C" {

// Decodes one frame with the codecs this module ships, for the TypeScript
// tests of the shared vectors: {"ok":true,"type","json","binary":"<hex>"}
// (the frame re-encoded by both codecs) or {"ok":false,"code","path","message"}.
// direction: 0 client frames, 1 server frames; codec: 0 JSON, 1 binary.
const char* parley_inspect(int direction, int codec, const char* bytes, std::size_t length) {
  static std::string out;
  auto c = codec == 1 ? parley::protocol::Codec::binary : parley::protocol::Codec::json;
  std::string_view input(bytes, length);
  std::string text;
  parley::protocol::detail::json::Writer w(text);
  auto report = [&](const auto& result) {
    w.start_object();
    w.key("ok");
    w.boolean(result.ok());
    if (result.ok()) {
      auto json = parley::protocol::encode(result.value(), parley::protocol::Codec::json);
      auto binary = parley::protocol::encode(result.value(), parley::protocol::Codec::binary);
      static constexpr char kHex[] = "0123456789abcdef";
      std::string hex;
      for (char ch : binary) {
        auto b = static_cast<unsigned char>(ch);
        hex.push_back(kHex[b >> 4]);
        hex.push_back(kHex[b & 15]);
      }
      w.key("type");
      auto type = parley::protocol::type_name(result.value());
      w.string(type);
      w.key("json");
      w.string(json);
      w.key("binary");
      w.string(hex);
    } else {
      const auto& e = result.error();
      auto code = parley::protocol::to_string(e.code);
      w.key("code");
      w.string(code);
      w.key("path");
      w.string(e.path);
      w.key("message");
      w.string(parley::protocol::describe(e));
    }
    w.end_object();
  };
  if (direction == 0) {
    report(parley::protocol::decode_client_frame(input, c));
  } else {
    report(parley::protocol::decode_server_frame(input, c));
  }
  out = std::move(text);
  return out.c_str();
}

}  // extern "C"
