// A minimal JSON writer appending to a string: what frames and views need
// (objects, arrays, strings, integers, booleans, null), with commas handled.
// Strings are written as UTF-8 with only the required escapes.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::protocol::detail::json {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void start_object() { open('{'); }
  void end_object() { close('}'); }
  void start_array() { open('['); }
  void end_array() { close(']'); }
  void key(std::string_view name) {
    separate();
    quoted(name);
    out_.push_back(':');
    after_key_ = true;
  }
  void string(std::string_view s) {
    separate();
    quoted(s);
  }
  void integer(std::int64_t n) {
    separate();
    char buffer[24];
    auto end = std::to_chars(buffer, buffer + sizeof buffer, n).ptr;
    out_.append(buffer, static_cast<std::size_t>(end - buffer));
  }
  void boolean(bool b) {
    separate();
    out_.append(b ? "true" : "false");
  }
  void null() {
    separate();
    out_.append("null");
  }

 private:
  void open(char c) {
    separate();
    out_.push_back(c);
    ++depth_;
    empty_ |= std::uint64_t{1} << (depth_ & 63);  // nesting deeper than 64 never happens in frames
  }
  void close(char c) {
    out_.push_back(c);
    --depth_;
  }
  // A comma before every value but the first of its container (and none after a key).
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ == 0) return;
    std::uint64_t bit = std::uint64_t{1} << (depth_ & 63);
    if (empty_ & bit) {
      empty_ &= ~bit;
    } else {
      out_.push_back(',');
    }
  }
  void quoted(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_.push_back('"');
    for (char ch : s) {
      auto c = static_cast<unsigned char>(ch);
      if (c == '"' || c == '\\') {
        out_.push_back('\\');
        out_.push_back(ch);
      } else if (c < 0x20) {
        out_.append("\\u00");
        out_.push_back(kHex[c >> 4]);
        out_.push_back(kHex[c & 15]);
      } else {
        out_.push_back(ch);
      }
    }
    out_.push_back('"');
  }

  std::string& out_;
  unsigned depth_ = 0;
  std::uint64_t empty_ = 0;  // bit d: the container at depth d has no value yet
  bool after_key_ = false;
};

}  // namespace parley::protocol::detail::json
