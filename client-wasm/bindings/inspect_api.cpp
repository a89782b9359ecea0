// parley_inspect: decodes a frame with the module's codecs and re-encodes it,
// for the TypeScript tests of the shared protocol vectors. Linked only into
// parley-core-test.mjs, never into the module the package ships.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>

#include "parley/protocol/codec.hpp"

extern "C" {

// Decodes one frame with the codecs this module ships, for the TypeScript
// tests of the shared vectors: {"ok":true,"type","json","binary":"<hex>"}
// (the frame re-encoded by both codecs) or {"ok":false,"code","path","message"}.
// direction: 0 client frames, 1 server frames; codec: 0 JSON, 1 binary.
const char* parley_inspect(int direction, int codec, const char* bytes, std::size_t length) {
  static std::string out;
  auto c = codec == 1 ? parley::protocol::Codec::binary : parley::protocol::Codec::json;
  std::string_view input(bytes, length);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto report = [&](const auto& result) {
    w.StartObject();
    w.Key("ok");
    w.Bool(result.ok());
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
      w.Key("type");
      auto type = parley::protocol::type_name(result.value());
      w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
      w.Key("json");
      w.String(json.data(), static_cast<rapidjson::SizeType>(json.size()));
      w.Key("binary");
      w.String(hex.data(), static_cast<rapidjson::SizeType>(hex.size()));
    } else {
      const auto& e = result.error();
      auto code = parley::protocol::to_string(e.code);
      w.Key("code");
      w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
      w.Key("path");
      w.String(e.path.data(), static_cast<rapidjson::SizeType>(e.path.size()));
      w.Key("message");
      w.String(e.message.data(), static_cast<rapidjson::SizeType>(e.message.size()));
    }
    w.EndObject();
  };
  if (direction == 0) {
    report(parley::protocol::decode_client_frame(input, c));
  } else {
    report(parley::protocol::decode_server_frame(input, c));
  }
  out.assign(buffer.GetString(), buffer.GetSize());
  return out.c_str();
}

}  // extern "C"
