// Protocol layer: both codecs and the schema validator against the shared
// test vectors. Built natively and for WebAssembly (run under Node): the same
// vectors must give the same results, byte for byte, on both.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "parley/protocol/codec.hpp"
#include "parley/protocol/detail/walk.hpp"
#include "parley/protocol/drafts.hpp"
#include "parley/protocol/schema.hpp"
#include "rules.hpp"  // white-box: the generated rule table
#include "support/vectors.hpp"

namespace parley::protocol {
namespace {

using test::load_invalid_vectors;
using test::load_valid_vectors;

Direction direction_of(const std::string& d) {
  return d == "c2s" ? Direction::client_to_server : Direction::server_to_client;
}

// The browser build keeps errors' codes and paths but not their words.
#ifdef PARLEY_TERSE_ERRORS
constexpr bool kWords = false;
#else
constexpr bool kWords = true;
#endif

TEST(ProtocolVectors, ValidFramesRoundTripThroughJson) {
  for (const auto& v : load_valid_vectors()) {
    SCOPED_TRACE(v.name);
    std::string reencoded;
    if (v.direction == "c2s") {
      auto frame = decode_client_frame(v.json, Codec::json);
      ASSERT_TRUE(frame) << frame.error().message;
      reencoded = encode(frame.value(), Codec::json);
    } else {
      auto frame = decode_server_frame(v.json, Codec::json);
      ASSERT_TRUE(frame) << frame.error().message;
      reencoded = encode(frame.value(), Codec::json);
    }
    EXPECT_TRUE(test::same_json(v.json, reencoded)) << v.json << "\n" << reencoded;
  }
}

template <class Frame, class Decode>
void expect_binary_round_trip(const Frame& frame, Decode decode) {
  std::string bytes = encode(frame, Codec::binary);
  auto back = decode(bytes, Codec::binary);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back.value(), frame);
  EXPECT_EQ(encode(back.value(), Codec::binary), bytes);
}

TEST(ProtocolVectors, ValidFramesRoundTripThroughBinary) {
  for (const auto& v : load_valid_vectors()) {
    SCOPED_TRACE(v.name);
    if (v.direction == "c2s") {
      expect_binary_round_trip(decode_client_frame(v.json, Codec::json).value(), decode_client_frame);
    } else {
      expect_binary_round_trip(decode_server_frame(v.json, Codec::json).value(), decode_server_frame);
    }
  }
}

TEST(ProtocolVectors, ValidFramesPassTheSchemas) {
  for (const auto& v : load_valid_vectors()) {
    auto error = validate_json_frame(v.json, direction_of(v.direction));
    EXPECT_FALSE(error) << v.name << ": " << error->message;
  }
}

TEST(ProtocolVectors, InvalidFramesAreRefusedWithCodeAndPath) {
  for (const auto& v : load_invalid_vectors()) {
    SCOPED_TRACE(v.name);
    auto error = v.direction == "c2s" ? decode_client_frame(v.text, Codec::json).error()
                                      : decode_server_frame(v.text, Codec::json).error();
    bool accepted = v.direction == "c2s" ? decode_client_frame(v.text, Codec::json).ok()
                                         : decode_server_frame(v.text, Codec::json).ok();
    ASSERT_FALSE(accepted);
    EXPECT_EQ(to_string(error.code), v.code) << error.message;
    EXPECT_EQ(error.path, v.path) << error.message;
    EXPECT_EQ(error.message.empty(), !kWords);
    EXPECT_FALSE(describe(error).empty());
  }
}

TEST(ProtocolVectors, SchemaValidatorAgreesWithTheDecoder) {
  for (const auto& v : load_invalid_vectors()) {
    SCOPED_TRACE(v.name);
    auto error = validate_json_frame(v.text, direction_of(v.direction));
    if (!v.schema) {
      EXPECT_FALSE(error) << "valijson refused a schema-valid frame: " << error->message;
      continue;
    }
    ASSERT_TRUE(error) << "valijson accepted it";
    EXPECT_EQ(to_string(error->code), v.code) << error->message;
    EXPECT_EQ(error->path, v.path) << error->message;
  }
}

// Every valid vector's binary encoding is pinned in binary.json. The WASM
// build runs this same test against the same file, so native and WebAssembly
// agree byte for byte. PARLEY_UPDATE_GOLDEN=1 rewrites the file (native only).
TEST(ProtocolVectors, BinaryEncodingsMatchTheGoldenFile) {
  std::vector<std::pair<std::string, std::string>> actual;
  for (const auto& v : load_valid_vectors()) {
    std::string bytes = v.direction == "c2s" ? encode(decode_client_frame(v.json, Codec::json).value(), Codec::binary)
                                             : encode(decode_server_frame(v.json, Codec::json).value(), Codec::binary);
    actual.emplace_back(v.name, test::to_hex(bytes));
  }
  if (const char* update = std::getenv("PARLEY_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    test::save_binary_golden(actual);
    GTEST_SKIP() << "binary.json rewritten";
  }
  auto golden = test::load_binary_golden();
  ASSERT_EQ(golden.size(), actual.size()) << "binary.json is out of date: run with PARLEY_UPDATE_GOLDEN=1";
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(golden[i].first, actual[i].first);
    EXPECT_EQ(golden[i].second, actual[i].second) << actual[i].first;
  }
}

template <class Variant, std::size_t I = 0>
void add_frame_types(std::vector<std::string>& out) {
  if constexpr (I < std::variant_size_v<Variant>) {
    out.emplace_back(std::variant_alternative_t<I, Variant>::type);
    add_frame_types<Variant, I + 1>(out);
  }
}

template <class Variant>
std::vector<std::string> frame_types() {
  std::vector<std::string> out;
  add_frame_types<Variant>(out);
  return out;
}

// Every frame type of both directions has at least one valid vector.
TEST(ProtocolVectors, CoverEveryFrameType) {
  std::set<std::string> seen;
  for (const auto& v : load_valid_vectors()) {
    if (v.direction == "c2s") {
      seen.insert("c2s/" + std::string(type_name(decode_client_frame(v.json, Codec::json).value())));
    } else {
      seen.insert("s2c/" + std::string(type_name(decode_server_frame(v.json, Codec::json).value())));
    }
  }
  for (const auto& t : frame_types<c2s::Frame>())
    EXPECT_TRUE(seen.count("c2s/" + t)) << "no valid vector for c2s/" << t;
  for (const auto& t : frame_types<s2c::Frame>())
    EXPECT_TRUE(seen.count("s2c/" + t)) << "no valid vector for s2c/" << t;
}

// The C++ structs and the schemas describe the same fields: every struct
// field has a rule (with the right required-ness) and every rule a field.
class FieldCollector {
 public:
  explicit FieldCollector(std::span<const detail::FieldRule> rules) : rules_(rules) {}
  std::set<std::string> keys;
  std::set<std::string> optional_keys;

  // Walks the fields of T whose rules are keyed under `prefix`.
  template <class T>
  void walk_object(const std::string& prefix) {
    T object{};
    auto visit = [&](std::string_view name, auto& member) { field(prefix + "/" + std::string(name), member, false); };
    T::fields(object, visit);
  }

 private:
  template <class T>
  void field(const std::string& key, T&, bool optional) {
    if constexpr (detail::is_optional<T>::value) {
      typename T::value_type inner{};
      field(key, inner, true);
      return;
    }
    keys.insert(key);
    if (optional) optional_keys.insert(key);
    if constexpr (detail::is_vector<T>::value) {
      typename T::value_type item{};
      field(key + "/*", item, false);
    } else if constexpr (detail::has_fields<T>::value) {
      // Objects of a shared definition are keyed under it, as the codecs do.
      const detail::FieldRule* rule = detail::find_rule(rules_, key);
      std::string prefix = key;
      if (rule && !rule->def.empty()) {
        prefix = "#" + std::string(rule->def);
        keys.insert(prefix);
      }
      walk_object<T>(prefix);
    }
  }
  std::span<const detail::FieldRule> rules_;
};

template <class Variant, std::size_t I = 0>
void collect_fields(const char* direction, std::set<std::string>& keys, std::set<std::string>& optional) {
  if constexpr (I < std::variant_size_v<Variant>) {
    using Frame = std::variant_alternative_t<I, Variant>;
    std::string prefix = std::string(direction) + "/" + std::string(Frame::type);
    FieldCollector c(detail::rules_for<Variant>());
    c.walk_object<Frame>(prefix);
    keys.insert(prefix + "/type");
    keys.insert(c.keys.begin(), c.keys.end());
    optional.insert(c.optional_keys.begin(), c.optional_keys.end());
    collect_fields<Variant, I + 1>(direction, keys, optional);
  }
}

template <class Variant>
void expect_structs_match_schemas(const char* direction) {
  SCOPED_TRACE(direction);
  std::set<std::string> from_structs;
  std::set<std::string> optional_in_structs;
  collect_fields<Variant>(direction, from_structs, optional_in_structs);
  std::set<std::string> from_schemas;
  for (const auto& rule : detail::rules_for<Variant>()) {
    std::string key(rule.key);
    if (key[0] != '#' && key.find('/') == key.rfind('/')) continue;  // "c2s/hello": the frame itself
    from_schemas.insert(key);
    bool optional_in_schema = !rule.required;
    EXPECT_EQ(optional_in_structs.count(key) == 1, optional_in_schema) << key << ": required-ness differs";
  }
  for (const auto& key : from_structs) EXPECT_TRUE(from_schemas.count(key)) << key << " has no schema rule";
  for (const auto& key : from_schemas) EXPECT_TRUE(from_structs.count(key)) << key << " has no struct field";
}

TEST(ProtocolSchemas, StructsAndSchemasDescribeTheSameFields) {
  expect_structs_match_schemas<c2s::Frame>("c2s");
  expect_structs_match_schemas<s2c::Frame>("s2c");
}

// A typical send, pinned byte for byte: the WASM build runs this same test, so
// native and WebAssembly agree on the binary codec.
TEST(BinaryCodec, EncodingIsStable) {
  c2s::Send send;
  send.ref = "7";
  send.roomId = "lobby";
  send.clientMsgId = "c_01HZX3K9";
  send.message.content = "hi";
  std::string bytes = encode(c2s::Frame(send), Codec::binary);
  const unsigned char expected[] = {
      1,  1, 2,                                                       // cereal little-endian flag, version, tag (send)
      1,  1, 0, 0, 0,   '7',                                          // ref: present, length 1
      5,  0, 0, 0, 'l', 'o', 'b', 'b', 'y',                           // roomId
      10, 0, 0, 0, 'c', '_', '0', '1', 'H', 'Z', 'X', '3', 'K', '9',  // clientMsgId
      4,  0, 0, 0, 't', 'e', 'x', 't',                                // message.type
      2,  0, 0, 0, 'h', 'i',                                          // message.content
      0,  0, 0,                                                       // no metadata, replyTo, target
  };
  EXPECT_EQ(bytes, std::string(reinterpret_cast<const char*>(expected), sizeof expected));
}

// shared/test-vectors/invalid-binary.json: a wrong flag, version or tag,
// truncation, trailing bytes, lengths beyond the frame, and the schema rules.
TEST(ProtocolVectors, InvalidBinaryFramesAreRefusedWithCodeAndPath) {
  auto vectors = test::load_invalid_binary_vectors();
  ASSERT_FALSE(vectors.empty());
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.name);
    auto refusal = [](const auto& result) { return result ? std::optional<Error>() : result.error(); };
    auto error = v.direction == "c2s" ? refusal(decode_client_frame(v.bytes, Codec::binary))
                                      : refusal(decode_server_frame(v.bytes, Codec::binary));
    ASSERT_TRUE(error) << "accepted";
    EXPECT_EQ(to_string(error->code), v.code) << error->message;
    EXPECT_EQ(error->path, v.path) << error->message;
    EXPECT_EQ(error->message.empty(), !kWords);
  }
}

// Every proper prefix of a frame is refused, none read as a shorter frame.
TEST(BinaryCodec, RefusesEveryTruncation) {
  c2s::Join join;
  join.roomId = "lobby";
  join.sinceSeq = 41;
  std::string bytes = encode(c2s::Frame(join), Codec::binary);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_client_frame(bytes.substr(0, n), Codec::binary);
    ASSERT_FALSE(r) << "accepted a frame cut to " << n << " bytes";
    EXPECT_EQ(r.error().code, ErrorCode::bad_request);
  }
}

TEST(Subprotocols, MapToCodecs) {
  EXPECT_EQ(codec_for_subprotocol("parley.v1.json"), Codec::json);
  EXPECT_EQ(codec_for_subprotocol("parley.v1.bin"), Codec::binary);
  EXPECT_FALSE(codec_for_subprotocol("parley.v2.json"));
  EXPECT_EQ(subprotocol(Codec::binary), "parley.v1.bin");
}

// shared/src/drafts.cpp: what each message type takes, beyond the schemas.
TEST(Drafts, AttachmentUrlsAreHttpsOrTheAppsOwnPaths) {
  for (const char* good : {"https://cdn.example/a.png", "HTTPS://cdn.example/a", "/uploads/u_1.png", "/"}) {
    EXPECT_TRUE(is_attachment_url(good)) << good;
  }
  for (const char* bad : {"javascript:alert(1)", "data:image/png;base64,AAAA", "http://cdn.example/a.png",
                          "//evil.example/a.png", "https://", "https:///path", "https://@evil", "uploads/a.png",
                          "/a b.png", "/a\tb", "/a\\b", "https://x/\x7f", "", " https://x/a", "vbscript:x"}) {
    EXPECT_FALSE(is_attachment_url(bad)) << bad;
  }
}

TEST(Drafts, ReactionsAreOneEmoji) {
  for (const char* good : {"👍", "👍🏽", "1️⃣", "👨‍👩‍👧‍👦", "❤️", "#️⃣"})
    EXPECT_TRUE(is_reaction_emoji(good)) << good;
  for (const char* bad : {"", "a", "+1", " 👍", "👍\n", "lol", "\xff", "👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍"}) {
    EXPECT_FALSE(is_reaction_emoji(bad)) << bad;
  }
}

TEST(Drafts, EachTypeTakesItsOwnFields) {
  auto path_of = [](const Draft& d) {
    return check_draft(d).value_or(Error{ErrorCode::internal, "", "accepted"}).path;
  };
  Draft text{"text", "hi", {}, {}, {}};
  EXPECT_FALSE(check_draft(text));
  Draft reply = text;
  reply.replyTo = "m_1";
  EXPECT_FALSE(check_draft(reply));
  Draft targeted = text;
  targeted.target = "m_1";
  EXPECT_EQ(path_of(targeted), "/message/target");
  Draft with_metadata = text;
  with_metadata.metadata = Metadata{};
  EXPECT_EQ(path_of(with_metadata), "/message/metadata");
  Draft system{"system", "x", {}, {}, {}};
  EXPECT_EQ(check_draft(system)->code, ErrorCode::forbidden);

  Draft edit{"edit", "new", {}, {}, {}};
  EXPECT_EQ(path_of(edit), "/message/target");
  edit.target = "m_1";
  EXPECT_FALSE(check_draft(edit));
  edit.replyTo = "m_2";
  EXPECT_EQ(path_of(edit), "/message/replyTo");
  Draft del{"delete", "not empty", {}, {}, "m_1"};
  EXPECT_EQ(path_of(del), "/message/content");
  del.content.clear();
  EXPECT_FALSE(check_draft(del));
  Draft react{"react", "lol", {}, {}, "m_1"};
  EXPECT_EQ(path_of(react), "/message/content");
  react.content = "🎉";
  EXPECT_FALSE(check_draft(react));
}

TEST(Drafts, AttachmentsCarryCompleteMetadata) {
  Metadata m;
  m.url = "/uploads/u_1.png";
  m.fileName = "cat.png";
  m.fileSize = 1234;
  m.mimeType = "image/png";
  m.width = 640;
  m.height = 480;
  Draft image{"image", "", m, {}, {}};
  EXPECT_FALSE(check_draft(image));
  auto refused_at = [&](auto change, const char* path) {
    Draft d = image;
    change(*d.metadata);
    auto error = check_draft(d);
    ASSERT_TRUE(error) << path;
    EXPECT_EQ(error->path, path);
  };
  refused_at([](Metadata& x) { x.url = "javascript:alert(1)"; }, "/message/metadata/url");
  refused_at([](Metadata& x) { x.url.reset(); }, "/message/metadata/url");
  refused_at([](Metadata& x) { x.thumbnailUrl = "data:image/png;base64,AA"; }, "/message/metadata/thumbnailUrl");
  refused_at([](Metadata& x) { x.fileName = "../../etc/passwd"; }, "/message/metadata/fileName");
  refused_at([](Metadata& x) { x.fileName = std::string("a\0b", 3); }, "/message/metadata/fileName");
  refused_at([](Metadata& x) { x.fileSize.reset(); }, "/message/metadata/fileSize");
  refused_at([](Metadata& x) { x.mimeType = "text/html; charset=utf-8"; }, "/message/metadata/mimeType");
  refused_at([](Metadata& x) { x.mimeType = "application/pdf"; }, "/message/metadata/mimeType");
  refused_at([](Metadata& x) { x.width.reset(); }, "/message/metadata/width");
  refused_at([](Metadata& x) { x.height.reset(); }, "/message/metadata/height");
  Draft file = image;
  file.type = "file";
  EXPECT_EQ(check_draft(file)->path, "/message/metadata/width");
  file.metadata->width.reset();
  file.metadata->height.reset();
  file.metadata->mimeType = "application/pdf";
  EXPECT_FALSE(check_draft(file));
  Draft bare{"file", "", {}, {}, {}};
  EXPECT_EQ(check_draft(bare)->path, "/message/metadata");
}

TEST(Drafts, QuoteExcerptsCutAtCodePoints) {
  Message original;
  original.content = std::string(200, 'a');
  EXPECT_EQ(quote_excerpt(original).size(), kQuoteExcerptLength);
  original.content.clear();
  for (int i = 0; i < 130; ++i) original.content += "é";
  EXPECT_EQ(quote_excerpt(original), original.content.substr(0, 2 * kQuoteExcerptLength));
  original.content.clear();
  original.metadata = Metadata{};
  original.metadata->fileName = "report.pdf";
  EXPECT_EQ(quote_excerpt(original), "report.pdf");
}

}  // namespace
}  // namespace parley::protocol
