// Per-field rules generated from shared/schemas/ (rules.gen.cpp) and the
// checks both codecs apply with them. Private to the protocol library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "parley/protocol/errors.hpp"
#include "parley/protocol/messages.hpp"
#include "parley/protocol/utf8.hpp"

// The human wording of an error. The browser build (PARLEY_TERSE_ERRORS)
// keeps the stable code and JSON path only: words cost bytes in its module,
// and apps word errors for their users themselves.
#ifdef PARLEY_TERSE_ERRORS
// sizeof keeps the wording compiled (and its variables used) but never run.
#define PARLEY_WORDS(...) (static_cast<void>(sizeof(__VA_ARGS__)), std::string())
#else
#define PARLEY_WORDS(...) (__VA_ARGS__)
#endif

namespace parley::protocol::detail {

enum class FieldKind : std::uint8_t { string, integer, boolean, object, array };

struct FieldRule {
  // "<c2s|s2c>/<type><JSON pointer>" ("*" for array items), or
  // "#<definition><JSON pointer>" for the fields of a shared definition.
  std::string_view key;
  FieldKind kind;
  bool required;
  std::uint32_t min_length;     // strings, in code points
  std::uint32_t max_length;     // strings, in code points
  const std::uint8_t* charset;  // 128-bit ASCII bitmap, or nullptr for any
  long long minimum;            // integers
  long long maximum;            // integers
  std::uint32_t max_items;      // arrays
  const std::string_view* enum_values;
  std::size_t enum_count;
  std::string_view def;  // an object described by a shared definition: its fields are keyed "#<def>/..."
};

// Generated: the rules of client frames (c2s) and of server frames (s2c),
// each with the shared definitions it uses, sorted by key. Separate so that
// a peer decoding one direction (the browser client) links one table.
std::span<const FieldRule> client_frame_rules();
std::span<const FieldRule> server_frame_rules();

// The table of a frame variant's direction.
template <class Frame>
std::span<const FieldRule> rules_for() {
  if constexpr (std::is_same_v<Frame, c2s::Frame>) {
    return client_frame_rules();
  } else {
    return server_frame_rules();
  }
}

// The rule for a key in a table, or nullptr if the schemas do not define it.
const FieldRule* find_rule(std::span<const FieldRule> table, std::string_view key);

// Checks; each returns the violation, if any, for the field at `path`.
std::optional<Error> check_string(const FieldRule& rule, std::string_view value, const std::string& path);
std::optional<Error> check_integer(const FieldRule& rule, long long value, const std::string& path);
std::optional<Error> check_items(const FieldRule& rule, std::size_t count, const std::string& path);

// Number of code points in valid UTF-8, nullopt for invalid UTF-8.

// Builds rule keys and JSON pointers together while a codec walks a frame.
// The keys of enclosing definitions stay in `keys_` before the current one,
// so going back up is a matter of sizes.
class FieldPath {
 public:
  FieldPath(std::span<const FieldRule> rules, std::string_view direction, std::string_view type);
  void push(std::string_view name);    // object member
  void push_index(std::size_t index);  // array item: "*" in the key, the index in the pointer
  // Descends into the object the current rule describes: when it is a shared
  // definition, its fields are keyed under the definition.
  void enter(const FieldRule& rule);
  void pop();
  const std::string& pointer() const { return pointer_; }
  const FieldRule* rule() const { return find_rule(rules_, key()); }
  std::string_view key() const { return std::string_view(keys_).substr(key_start_); }

 private:
  struct Mark {
    std::uint32_t keys_size;
    std::uint32_t key_start;
    std::uint32_t pointer_size;
  };
  void mark();
  std::span<const FieldRule> rules_;
  std::string keys_;
  std::uint32_t key_start_ = 0;
  std::string pointer_;
  std::vector<Mark> marks_;
};

}  // namespace parley::protocol::detail
