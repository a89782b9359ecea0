// A small JSON parser for frames: strict RFC 8259 (UTF-8 validated, no
// trailing data, bounded depth), into a flat tape of nodes. It is what the
// JSON codec reads frames with; it knows only what frames need (integers
// exactly, other numbers as "not an integer"), which keeps the browser
// module small and decoding fast.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::protocol::detail::json {

enum class Kind : std::uint8_t { null, boolean, integer, number, string, array, object };

struct Node {
  Kind kind = Kind::null;
  bool boolean = false;
  bool too_big = false;  // an integer outside int64
  std::int64_t integer = 0;
  std::uint32_t key = 0, key_size = 0;    // the member name, in an object (into the string pool)
  std::uint32_t text = 0, text_size = 0;  // a string's value (into the string pool)
  std::uint32_t first = 0;                // first child (arrays, objects); 0: none
  std::uint32_t count = 0;                // number of children
  std::uint32_t next = 0;                 // next sibling; 0: none
};

class Document {
 public:
  // Parses a whole text; false on any syntax error or trailing data.
  bool parse(std::string_view text);
  std::size_t error_offset() const { return error_at_; }
  bool trailing_data() const { return trailing_; }

  const Node& root() const { return nodes_[1]; }
  const Node& node(std::uint32_t index) const { return nodes_[index]; }
  std::string_view string(const Node& n) const { return std::string_view(pool_).substr(n.text, n.text_size); }
  std::string_view key(const Node& n) const { return std::string_view(pool_).substr(n.key, n.key_size); }
  // The member named `name` of an object node, or nullptr.
  const Node* member(const Node& object, std::string_view name) const;

 private:
  bool value(std::uint32_t index, int depth);
  bool string_into(std::uint32_t& at, std::uint32_t& size);
  bool number(Node& n);
  bool literal(std::string_view word);
  void skip_space();
  bool fail();

  std::string_view in_;
  std::size_t pos_ = 0;
  std::size_t error_at_ = 0;
  bool trailing_ = false;
  std::vector<Node> nodes_;  // [0] unused: index 0 means "none"
  std::string pool_;         // unescaped strings and keys
};

}  // namespace parley::protocol::detail::json
