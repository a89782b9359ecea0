// Binary codec: the same structs through a cereal archive of our own
// (detail/byte_archive.hpp), little-endian like cereal's portable binary.
//
// Layout: cereal's endianness byte, version (u8, 1), frame tag (u8, the
// index in c2s::Frame / s2c::Frame), then the fields in declaration order:
// string = u32 byte length + UTF-8 bytes, integer = i64, boolean = u8 0|1,
// optional = u8 0|1 + value, array = u32 count + items, object = its fields.
// Every length is checked against the schema rules and the bytes left before
// anything is allocated, so a hostile frame cannot make the decoder allocate
// more than the frame's own size.
#include <limits>

#include "parley/protocol/detail/byte_archive.hpp"

#include "codecs.hpp"
#include "parley/protocol/detail/walk.hpp"
#include "parley/protocol/version.hpp"
#include "rules.hpp"

namespace parley::protocol::detail {
namespace {

// ------------------------------------------------------------------ writing

using Out = ByteOutputArchive;

void write_value(Out& ar, const std::string& s) {
  ar(static_cast<std::uint32_t>(s.size()));
  ar(cereal::binary_data(s.data(), s.size()));
}
void write_value(Out& ar, std::int64_t n) { ar(n); }
void write_value(Out& ar, bool b) { ar(static_cast<std::uint8_t>(b ? 1 : 0)); }

// Declared up front: the templates call each other for nested fields.
template <class T>
void write_value(Out& ar, const std::optional<T>& v);
template <class T>
void write_value(Out& ar, const std::vector<T>& items);
template <class T, std::enable_if_t<has_fields<T>::value, int> = 0>
void write_value(Out& ar, const T& object);

template <class T>
void write_value(Out& ar, const std::optional<T>& v) {
  ar(static_cast<std::uint8_t>(v ? 1 : 0));
  if (v) write_value(ar, *v);
}

template <class T>
void write_value(Out& ar, const std::vector<T>& items) {
  ar(static_cast<std::uint32_t>(items.size()));
  for (const T& item : items) write_value(ar, item);
}

template <class T, std::enable_if_t<has_fields<T>::value, int>>
void write_value(Out& ar, const T& object) {
  auto visit = [&ar](std::string_view, const auto& member) { write_value(ar, member); };
  T::fields(object, visit);
}

template <class Frame>
std::string encode_frame(const Frame& frame) {
  std::string out;
  out.reserve(256);
  Out ar(out);
  ar(static_cast<std::uint8_t>(protocol_version));
  ar(static_cast<std::uint8_t>(frame.index()));
  std::visit([&ar](const auto& f) { write_value(ar, f); }, frame);
  return out;
}

// ------------------------------------------------------------------ reading

using In = ByteInputArchive;

class Reader {
 public:
  Reader(In& ar, std::span<const FieldRule> rules, std::string_view direction, std::string_view type)
      : ar_(ar), path_(rules, direction, type) {}

  std::optional<Error> error;

  template <class T>
  void read_object(T& out) {
    auto visit = [this](std::string_view name, auto& member) {
      if (error) return;
      path_.push(name);
      read(member);
      path_.pop();
    };
    T::fields(out, visit);
  }

 private:
  // A value from the frame; past its end the archive fails and yields zero.
  template <class T>
  T raw() {
    T v{};
    ar_(v);
    return v;
  }

  const FieldRule* rule() {
    const FieldRule* r = path_.rule();
    if (!r)
      error =
          Error{ErrorCode::internal, PARLEY_WORDS("no schema rule for " + std::string(path_.key())), path_.pointer()};
    return r;
  }

  bool flag() {
    auto b = raw<std::uint8_t>();
    if (b > 1) {
      error = Error{ErrorCode::bad_request, PARLEY_WORDS("`" + path_.pointer() + "` has a flag byte other than 0 or 1"),
                    path_.pointer()};
    }
    return b == 1;
  }

  void read(std::string& out) {
    const FieldRule* r = rule();
    if (ar_.failed()) return;
    if (!r) return;
    auto size = raw<std::uint32_t>();
    // A code point is at most 4 bytes: longer strings are too large for sure.
    if (r->kind == FieldKind::string && r->enum_count == 0 && size / 4 > r->max_length) {
      error = Error{ErrorCode::too_large,
                    PARLEY_WORDS("`" + path_.pointer() + "` is " + std::to_string(size) + " bytes; the limit is " +
                                 std::to_string(r->max_length) + " characters"),
                    path_.pointer()};
      return;
    }
    if (size > ar_.left()) return ar_.fail();
    out.resize(size);
    ar_(cereal::binary_data(out.data(), size));
    error = check_string(*r, out, path_.pointer());
  }

  void read(std::int64_t& out) {
    const FieldRule* r = rule();
    if (!r) return;
    out = raw<std::int64_t>();
    error = check_integer(*r, out, path_.pointer());
  }

  void read(bool& out) {
    if (!rule()) return;
    out = flag();
  }

  template <class T>
  void read(std::optional<T>& out) {
    if (flag() && !error) read(out.emplace());
  }

  template <class T>
  void read(std::vector<T>& out) {
    const FieldRule* r = rule();
    if (!r) return;
    auto count = raw<std::uint32_t>();
    if ((error = check_items(*r, count, path_.pointer()))) return;
    if (count > ar_.left()) return ar_.fail();  // every item takes at least one byte
    out.resize(count);
    for (std::uint32_t i = 0; i < count && !error && !ar_.failed(); ++i) {
      path_.push_index(i);
      read(out[i]);
      path_.pop();
    }
  }

  template <class T, std::enable_if_t<has_fields<T>::value, int> = 0>
  void read(T& out) {
    const FieldRule* r = rule();
    if (!r) return;
    path_.enter(*r);
    read_object(out);
  }

  In& ar_;
  FieldPath path_;
};

Error truncated() {
  return Error{ErrorCode::bad_request, PARLEY_WORDS("the binary frame ends before its last field"), ""};
}

template <class Frame>
Result<Frame> decode_frame(std::string_view bytes, std::string_view direction) {
  if (bytes.size() < 3) return truncated();
  if (bytes[0] != 1) {
    return Error{ErrorCode::bad_request,
                 PARLEY_WORDS("the binary frame's first byte must be 1 (little-endian); it is " +
                              std::to_string(static_cast<unsigned char>(bytes[0]))),
                 ""};
  }
  In ar(bytes);
  std::uint8_t version = 0;
  std::uint8_t tag = 0;
  ar(version, tag);
  if (ar.failed()) return truncated();
  if (version != protocol_version) {
    return Error{ErrorCode::unsupported_version,
                 PARLEY_WORDS("binary frame of protocol version " + std::to_string(version) + "; this peer speaks " +
                              std::to_string(protocol_version)),
                 ""};
  }
  std::optional<Result<Frame>> result;
  bool known = with_alternative_at<Frame>(tag, [&](auto frame) {
    Reader reader(ar, rules_for<Frame>(), direction, frame.type);
    reader.read_object(frame);
    if (ar.failed()) {
      result.emplace(truncated());
    } else if (reader.error) {
      result.emplace(std::move(*reader.error));
    } else if (ar.left() != 0) {
      result.emplace(Error{ErrorCode::bad_request,
                           PARLEY_WORDS(std::to_string(ar.left()) + " trailing bytes after the frame"), ""});
    } else {
      result.emplace(Frame(std::move(frame)));
    }
  });
  if (!known) {
    return Error{ErrorCode::bad_request,
                 PARLEY_WORDS("binary frame tag " + std::to_string(tag) + " is not a known frame type"), "/type"};
  }
  return std::move(*result);
}

}  // namespace

std::string encode_binary(const c2s::Frame& frame) { return encode_frame(frame); }
std::string encode_binary(const s2c::Frame& frame) { return encode_frame(frame); }
Result<c2s::Frame> decode_binary_client(std::string_view bytes) { return decode_frame<c2s::Frame>(bytes, "c2s"); }
Result<s2c::Frame> decode_binary_server(std::string_view bytes) { return decode_frame<s2c::Frame>(bytes, "s2c"); }

}  // namespace parley::protocol::detail
