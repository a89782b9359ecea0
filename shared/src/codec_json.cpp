// JSON text codec: idiomatic camelCase objects, `type` first.

#include <limits>

#include "codecs.hpp"
#include "parley/protocol/detail/json_dom.hpp"
#include "parley/protocol/detail/json_writer.hpp"
#include "parley/protocol/detail/walk.hpp"
#include "rules.hpp"

// The decoder's document is reused (its buffers keep their capacity): one per
// thread, or a plain static where there are no threads (the browser build),
// which spares the module the thread-exit machinery.
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define PARLEY_PER_THREAD static
#else
#define PARLEY_PER_THREAD thread_local
#endif

namespace parley::protocol::detail {
namespace {

// ------------------------------------------------------------------ writing

using json::Writer;

void write_value(Writer& w, const std::string& s) { w.string(s); }
void write_value(Writer& w, std::int64_t n) { w.integer(n); }
void write_value(Writer& w, bool b) { w.boolean(b); }

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
      w.key(name);
      write_value(w, *member);
    } else {
      w.key(name);
      write_value(w, member);
    }
  };
  T::fields(object, visit);
}

template <class T, std::enable_if_t<has_fields<T>::value, int>>
void write_value(Writer& w, const T& object) {
  w.start_object();
  write_fields(w, object);
  w.end_object();
}

template <class T>
void write_value(Writer& w, const std::vector<T>& items) {
  w.start_array();
  for (const T& item : items) write_value(w, item);
  w.end_array();
}

template <class Frame>
std::string encode_frame(const Frame& frame) {
  std::string out;
  out.reserve(256);
  Writer w(out);
  std::visit(
      [&w](const auto& f) {
        w.start_object();
        w.key("type");
        w.string(f.type);
        write_fields(w, f);
        w.end_object();
      },
      frame);
  return out;
}

// ------------------------------------------------------------------ reading

using json::Document;
using json::Kind;
using json::Node;

class Reader {
 public:
  Reader(const Document& doc, std::span<const FieldRule> rules, std::string_view direction, std::string_view type)
      : doc_(doc), path_(rules, direction, type) {}

  std::optional<Error> error;

  // Reads the members of `object` into `out`; `extra_known` counts members
  // handled by the caller (the frame's `type`).
  template <class T>
  void read_fields(const Node& object, T& out, std::size_t extra_known) {
    std::size_t matched = extra_known;
    // Each field is one call with its reader for the member's type: the
    // readers are shared by every field of that type in every frame, so a
    // field costs a call, not a copy of the reading (the browser's module
    // holds the decoder of every server frame).
    auto visit = [&](std::string_view name, auto& member) {
      using M = std::decay_t<decltype(member)>;
      read_member(object, name, &member, &Reader::read_erased<M>, !is_optional<M>::value, matched);
    };
    T::fields(out, visit);
    if (!error && matched != object.count) report_unknown(object, out);
  }

 private:
  using MemberReader = void (*)(Reader&, const Node&, void*);

  template <class M>
  static void read_erased(Reader& reader, const Node& value, void* member) {
    if constexpr (is_optional<M>::value) {
      reader.read(value, static_cast<M*>(member)->emplace());
    } else {
      reader.read(value, *static_cast<M*>(member));
    }
  }

  void read_member(const Node& object, std::string_view name, void* member, MemberReader read_one, bool required,
                   std::size_t& matched) {
    if (const Node* value = open_field(object, name, required, matched)) {
      read_one(*this, *value, member);
      path_.pop();
    }
  }

  // The member `name` of `object`, with the path pointing at it (pop it
  // after), or nullptr with the path unchanged: absent, or an error already.
  // Not a template, so that each field of each message costs a call.
  const Node* open_field(const Node& object, std::string_view name, bool required, std::size_t& matched) {
    if (error) return nullptr;
    const Node* value = doc_.member(object, name);
    if (value) {
      ++matched;
      path_.push(name);
    } else if (required) {
      path_.push(name);
      error = Error{ErrorCode::bad_request, PARLEY_WORDS("`" + path_.pointer() + "` is required"), path_.pointer()};
      path_.pop();
    }
    return value;
  }

  const FieldRule* rule() {
    const FieldRule* r = path_.rule();
    if (!r)
      error =
          Error{ErrorCode::internal, PARLEY_WORDS("no schema rule for " + std::string(path_.key())), path_.pointer()};
    return r;
  }

  void wrong_type(const char* expected) {
    error =
        Error{ErrorCode::bad_request, PARLEY_WORDS("`" + path_.pointer() + "` must be " + expected), path_.pointer()};
  }

  void read(const Node& v, std::string& out) {
    const FieldRule* r = rule();
    if (!r) return;
    if (v.kind != Kind::string) return wrong_type("a string");
    std::string_view s = doc_.string(v);
    if ((error = check_string(*r, s, path_.pointer()))) return;
    out.assign(s);
  }

  void read(const Node& v, std::int64_t& out) {
    const FieldRule* r = rule();
    if (!r) return;
    if (v.kind != Kind::integer) return wrong_type("an integer");
    if (v.too_big) {  // outside int64: outside every rule's range
      error = check_integer(*r, std::numeric_limits<long long>::max(), path_.pointer());
      return;
    }
    if ((error = check_integer(*r, v.integer, path_.pointer()))) return;
    out = v.integer;
  }

  void read(const Node& v, bool& out) {
    if (!rule()) return;
    if (v.kind != Kind::boolean) return wrong_type("true or false");
    out = v.boolean;
  }

  template <class T>
  void read(const Node& v, std::vector<T>& out) {
    const FieldRule* r = rule();
    if (!r) return;
    if (v.kind != Kind::array) return wrong_type("an array");
    if ((error = check_items(*r, v.count, path_.pointer()))) return;
    out.resize(v.count);
    std::size_t i = 0;
    for (std::uint32_t child = v.first; child != 0 && !error; child = doc_.node(child).next, ++i) {
      path_.push_index(i);
      read(doc_.node(child), out[i]);
      path_.pop();
    }
  }

  template <class T, std::enable_if_t<has_fields<T>::value, int> = 0>
  void read(const Node& v, T& out) {
    const FieldRule* r = rule();
    if (!r) return;
    if (v.kind != Kind::object) return wrong_type("an object");
    path_.enter(*r);
    read_fields(v, out, 0);
  }

  // Names the member of `object` that is not a field of T (or says a key
  // repeats, when every member is a field). The field names are collected as
  // "/a/b/" (no field name has a slash), a type-free list for the search.
  template <class T>
  void report_unknown(const Node& object, T& out) {
    std::string fields = path_.pointer().empty() ? "/type/" : "/";
    auto collect = [&fields](std::string_view name, auto&) { fields.append(name).append("/"); };
    T::fields(out, collect);
    report_unknown_among(object, fields);
  }

  void report_unknown_among(const Node& object, const std::string& fields) {
    for (std::uint32_t child = object.first; child != 0; child = doc_.node(child).next) {
      std::string_view key = doc_.key(doc_.node(child));
      if (key.find('/') != key.npos || fields.find("/" + std::string(key) + "/") == fields.npos) {
        path_.push(key);
        error = Error{ErrorCode::bad_request, PARLEY_WORDS("`" + path_.pointer() + "` is not a field of this object"),
                      path_.pointer()};
        path_.pop();
        return;
      }
    }
    error = Error{ErrorCode::bad_request, PARLEY_WORDS("the object repeats a key"), path_.pointer()};
  }

  const Document& doc_;
  FieldPath path_;
};

template <class Frame>
Result<Frame> decode_frame(std::string_view text, std::string_view direction) {
  PARLEY_PER_THREAD Document doc;
  if (!doc.parse(text)) {
    return Error{ErrorCode::bad_request,
                 PARLEY_WORDS("the frame is not valid JSON (" +
                              std::string(doc.trailing_data() ? "trailing data after the object" : "syntax error") +
                              " at byte " + std::to_string(doc.error_offset()) + ")"),
                 ""};
  }
  const Node& root = doc.root();
  if (root.kind != Kind::object)
    return Error{ErrorCode::bad_request, PARLEY_WORDS("the frame must be a JSON object"), ""};
  const Node* type = doc.member(root, "type");
  if (!type) return Error{ErrorCode::bad_request, PARLEY_WORDS("`/type` is required"), "/type"};
  if (type->kind != Kind::string)
    return Error{ErrorCode::bad_request, PARLEY_WORDS("`/type` must be a string"), "/type"};
  std::string_view name = doc.string(*type);

  Frame frame;
  std::optional<Error> error;
  bool known = with_index_named<Frame>(name, [&](auto index) {
    Reader reader(doc, rules_for<Frame>(), direction, name);
    reader.read_fields(root, frame.template emplace<decltype(index)::value>(), 1);
    error = std::move(reader.error);
  });
  if (!known) {
    return Error{ErrorCode::bad_request,
                 PARLEY_WORDS("`/type` \"" + std::string(name.substr(0, 32)) + "\" is not a known frame type"),
                 "/type"};
  }
  if (error) return std::move(*error);
  return frame;
}

}  // namespace

std::string encode_json(const c2s::Frame& frame) { return encode_frame(frame); }
std::string encode_json(const s2c::Frame& frame) { return encode_frame(frame); }
Result<c2s::Frame> decode_json_client(std::string_view text) { return decode_frame<c2s::Frame>(text, "c2s"); }
Result<s2c::Frame> decode_json_server(std::string_view text) { return decode_frame<s2c::Frame>(text, "s2c"); }

}  // namespace parley::protocol::detail
