// JSON text codec: idiomatic camelCase objects, `type` first.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <limits>

#include "codecs.hpp"
#include "parley/protocol/detail/walk.hpp"
#include "rules.hpp"

namespace parley::protocol::detail {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// ------------------------------------------------------------------ writing

void write_value(Writer& w, const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
void write_value(Writer& w, std::int64_t n) { w.Int64(n); }
void write_value(Writer& w, bool b) { w.Bool(b); }

// Declared up front: the templates call each other for nested fields.
template <class T>
void write_value(Writer& w, const std::vector<T>& items);
template <class T, std::enable_if_t<has_fields<T>::value, int> = 0>
void write_value(Writer& w, const T& object);

template <class T>
void write_fields(Writer& w, const T& object) {
  auto visit = [&w](std::string_view name, const auto& member) {
    using M = std::decay_t<decltype(member)>;
    if constexpr (is_optional<M>::value) {
      if (!member) return;
      w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      write_value(w, *member);
    } else {
      w.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      write_value(w, member);
    }
  };
  T::fields(object, visit);
}

template <class T, std::enable_if_t<has_fields<T>::value, int>>
void write_value(Writer& w, const T& object) {
  w.StartObject();
  write_fields(w, object);
  w.EndObject();
}

template <class T>
void write_value(Writer& w, const std::vector<T>& items) {
  w.StartArray();
  for (const T& item : items) write_value(w, item);
  w.EndArray();
}

template <class Frame>
std::string encode_frame(const Frame& frame) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  std::visit(
      [&w](const auto& f) {
        w.StartObject();
        w.Key("type");
        w.String(f.type.data(), static_cast<rapidjson::SizeType>(f.type.size()));
        write_fields(w, f);
        w.EndObject();
      },
      frame);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// ------------------------------------------------------------------ reading

class Reader {
 public:
  Reader(std::string_view direction, std::string_view type) : path_(direction, type) {}

  std::optional<Error> error;

  // Reads the members of `object` into `out`; `extra_known` counts members
  // handled by the caller (the frame's `type`).
  template <class T>
  void read_fields(const rapidjson::Value& object, T& out, std::size_t extra_known) {
    std::size_t matched = extra_known;
    auto visit = [&](std::string_view name, auto& member) {
      if (error) return;
      using M = std::decay_t<decltype(member)>;
      auto it = object.FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
      path_.push(name);
      if (it == object.MemberEnd()) {
        if constexpr (!is_optional<M>::value) {
          error = Error{ErrorCode::bad_request, "`" + path_.pointer() + "` is required", path_.pointer()};
        }
      } else {
        ++matched;
        if constexpr (is_optional<M>::value) {
          read(it->value, member.emplace());
        } else {
          read(it->value, member);
        }
      }
      path_.pop();
    };
    T::fields(out, visit);
    if (!error && matched != object.MemberCount()) report_unknown(object, out);
  }

 private:
  const FieldRule* rule() {
    const FieldRule* r = path_.rule();
    if (!r) error = Error{ErrorCode::internal, "no schema rule for " + path_.key(), path_.pointer()};
    return r;
  }

  void wrong_type(const char* expected) {
    error = Error{ErrorCode::bad_request, "`" + path_.pointer() + "` must be " + expected, path_.pointer()};
  }

  void read(const rapidjson::Value& v, std::string& out) {
    const FieldRule* r = rule();
    if (!r) return;
    if (!v.IsString()) return wrong_type("a string");
    std::string_view s(v.GetString(), v.GetStringLength());
    if ((error = check_string(*r, s, path_.pointer()))) return;
    out.assign(s);
  }

  void read(const rapidjson::Value& v, std::int64_t& out) {
    const FieldRule* r = rule();
    if (!r) return;
    if (v.IsUint64() && !v.IsInt64()) {  // above INT64_MAX: out of every rule's range
      error = check_integer(*r, std::numeric_limits<long long>::max(), path_.pointer());
      return;
    }
    if (!v.IsInt64()) return wrong_type("an integer");
    if ((error = check_integer(*r, v.GetInt64(), path_.pointer()))) return;
    out = v.GetInt64();
  }

  void read(const rapidjson::Value& v, bool& out) {
    if (!rule()) return;
    if (!v.IsBool()) return wrong_type("true or false");
    out = v.GetBool();
  }

  template <class T>
  void read(const rapidjson::Value& v, std::vector<T>& out) {
    const FieldRule* r = rule();
    if (!r) return;
    if (!v.IsArray()) return wrong_type("an array");
    if ((error = check_items(*r, v.Size(), path_.pointer()))) return;
    out.resize(v.Size());
    for (rapidjson::SizeType i = 0; i < v.Size() && !error; ++i) {
      path_.push_index(i);
      read(v[i], out[i]);
      path_.pop();
    }
  }

  template <class T, std::enable_if_t<has_fields<T>::value, int> = 0>
  void read(const rapidjson::Value& v, T& out) {
    const FieldRule* r = rule();
    if (!r) return;
    if (!v.IsObject()) return wrong_type("an object");
    path_.enter(*r);
    read_fields(v, out, 0);
  }

  template <class T>
  void report_unknown(const rapidjson::Value& object, T& out) {
    for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
      std::string_view key(it->name.GetString(), it->name.GetStringLength());
      bool known = path_.pointer().empty() && key == "type";
      auto visit = [&](std::string_view name, auto&) { known = known || name == key; };
      T::fields(out, visit);
      if (!known) {
        path_.push(key);
        error =
            Error{ErrorCode::bad_request, "`" + path_.pointer() + "` is not a field of this object", path_.pointer()};
        path_.pop();
        return;
      }
    }
    error = Error{ErrorCode::bad_request, "the object repeats a key", path_.pointer()};
  }

  FieldPath path_;
};

template <class Frame>
Result<Frame> decode_frame(std::string_view text, std::string_view direction) {
  // Small frames parse without touching the heap for rapidjson's pools (a
  // fresh Document mallocs and frees a 64 KiB chunk per parse otherwise).
  alignas(8) char value_buffer[8192];
  alignas(8) char parse_buffer[1024];
  rapidjson::MemoryPoolAllocator<> value_allocator(value_buffer, sizeof value_buffer);
  rapidjson::MemoryPoolAllocator<> parse_allocator(parse_buffer, sizeof parse_buffer);
  using PooledDocument =
      rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>, rapidjson::MemoryPoolAllocator<>>;
  PooledDocument doc(&value_allocator, sizeof parse_buffer, &parse_allocator);
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  doc.Parse<kFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return Error{ErrorCode::bad_request,
                 "the frame is not valid JSON (" +
                     std::string(doc.GetParseError() == rapidjson::kParseErrorDocumentRootNotSingular
                                     ? "trailing data after the object"
                                     : "syntax error") +
                     " at byte " + std::to_string(doc.GetErrorOffset()) + ")",
                 ""};
  }
  if (!doc.IsObject()) return Error{ErrorCode::bad_request, "the frame must be a JSON object", ""};
  auto type = doc.FindMember("type");
  if (type == doc.MemberEnd()) return Error{ErrorCode::bad_request, "`/type` is required", "/type"};
  if (!type->value.IsString()) return Error{ErrorCode::bad_request, "`/type` must be a string", "/type"};
  std::string_view name(type->value.GetString(), type->value.GetStringLength());

  std::optional<Result<Frame>> result;
  bool known = with_alternative_named<Frame>(name, [&](auto frame) {
    Reader reader(direction, name);
    reader.read_fields(doc, frame, 1);
    if (reader.error) {
      result.emplace(std::move(*reader.error));
    } else {
      result.emplace(Frame(std::move(frame)));
    }
  });
  if (!known) {
    return Error{ErrorCode::bad_request,
                 "`/type` \"" + std::string(name.substr(0, 32)) + "\" is not a known frame type", "/type"};
  }
  return std::move(*result);
}

}  // namespace

std::string encode_json(const c2s::Frame& frame) { return encode_frame(frame); }
std::string encode_json(const s2c::Frame& frame) { return encode_frame(frame); }
Result<c2s::Frame> decode_json_client(std::string_view text) { return decode_frame<c2s::Frame>(text, "c2s"); }
Result<s2c::Frame> decode_json_server(std::string_view text) { return decode_frame<s2c::Frame>(text, "s2c"); }

}  // namespace parley::protocol::detail
