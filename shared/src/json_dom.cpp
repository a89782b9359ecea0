#include "parley/protocol/detail/json_dom.hpp"

namespace parley::protocol::detail::json {

namespace {
constexpr int kMaxDepth = 64;

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool Document::fail() {
  error_at_ = pos_;
  return false;
}

void Document::skip_space() {
  while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r')) {
    ++pos_;
  }
}

bool Document::parse(std::string_view text) {
  in_ = text;
  pos_ = 0;
  trailing_ = false;
  nodes_.assign(2, Node{});  // [0] means "none", [1] is the root
  pool_.clear();
  skip_space();
  if (!value(1, 0)) return false;
  skip_space();
  if (pos_ != in_.size()) {
    trailing_ = true;
    return fail();
  }
  return true;
}

const Node* Document::member(const Node& object, std::string_view name) const {
  for (std::uint32_t i = object.first; i != 0; i = nodes_[i].next) {
    if (key(nodes_[i]) == name) return &nodes_[i];
  }
  return nullptr;
}

bool Document::literal(std::string_view word) {
  if (in_.substr(pos_, word.size()) != word) return fail();
  pos_ += word.size();
  return true;
}

bool Document::value(std::uint32_t index, int depth) {
  if (pos_ >= in_.size()) return fail();
  char c = in_[pos_];
  if (c == '{' || c == '[') {
    if (depth >= kMaxDepth) return fail();
    bool object = c == '{';
    char close = object ? '}' : ']';
    nodes_[index].kind = object ? Kind::object : Kind::array;
    ++pos_;
    skip_space();
    if (pos_ < in_.size() && in_[pos_] == close) {
      ++pos_;
      return true;
    }
    std::uint32_t previous = 0;
    for (;;) {
      auto child = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();
      if (object) {
        if (pos_ >= in_.size() || in_[pos_] != '"') return fail();
        std::uint32_t at = 0;
        std::uint32_t size = 0;
        if (!string_into(at, size)) return false;
        nodes_[child].key = at;
        nodes_[child].key_size = size;
        skip_space();
        if (pos_ >= in_.size() || in_[pos_] != ':') return fail();
        ++pos_;
        skip_space();
      }
      if (!value(child, depth + 1)) return false;
      if (previous != 0) {
        nodes_[previous].next = child;
      } else {
        nodes_[index].first = child;
      }
      previous = child;
      ++nodes_[index].count;
      skip_space();
      if (pos_ >= in_.size()) return fail();
      if (in_[pos_] == ',') {
        ++pos_;
        skip_space();
        continue;
      }
      if (in_[pos_] != close) return fail();
      ++pos_;
      return true;
    }
  }
  if (c == '"') {
    nodes_[index].kind = Kind::string;
    std::uint32_t at = 0;
    std::uint32_t size = 0;
    if (!string_into(at, size)) return false;
    nodes_[index].text = at;
    nodes_[index].text_size = size;
    return true;
  }
  if (c == 't' || c == 'f') {
    nodes_[index].kind = Kind::boolean;
    nodes_[index].boolean = c == 't';
    return literal(c == 't' ? "true" : "false");
  }
  if (c == 'n') {
    nodes_[index].kind = Kind::null;
    return literal("null");
  }
  return number(nodes_[index]);
}

bool Document::number(Node& n) {
  bool negative = false;
  if (pos_ < in_.size() && in_[pos_] == '-') {
    negative = true;
    ++pos_;
  }
  if (pos_ >= in_.size() || in_[pos_] < '0' || in_[pos_] > '9') return fail();
  std::uint64_t magnitude = 0;
  bool overflow = false;
  if (in_[pos_] == '0') {
    ++pos_;
  } else {
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      auto digit = static_cast<std::uint64_t>(in_[pos_] - '0');
      if (magnitude > (UINT64_MAX - digit) / 10) overflow = true;
      magnitude = magnitude * 10 + digit;
      ++pos_;
    }
  }
  bool integral = true;
  if (pos_ < in_.size() && in_[pos_] == '.') {
    integral = false;
    ++pos_;
    std::size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    if (pos_ == start) return fail();
  }
  if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
    integral = false;
    ++pos_;
    if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
    std::size_t start = pos_;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
    if (pos_ == start) return fail();
  }
  if (!integral) {
    n.kind = Kind::number;
    return true;
  }
  n.kind = Kind::integer;
  constexpr std::uint64_t kMaxPositive = static_cast<std::uint64_t>(INT64_MAX);
  if (overflow || magnitude > kMaxPositive + (negative ? 1 : 0)) {
    n.too_big = true;
  } else if (negative) {
    n.integer = magnitude == kMaxPositive + 1 ? INT64_MIN : -static_cast<std::int64_t>(magnitude);
  } else {
    n.integer = static_cast<std::int64_t>(magnitude);
  }
  return true;
}

// Reads a string token (at its opening quote) into the pool, unescaped and
// checked: valid UTF-8, no raw control characters, paired surrogates.
bool Document::string_into(std::uint32_t& at, std::uint32_t& size) {
  ++pos_;  // the opening quote
  std::size_t start = pool_.size();
  for (;;) {
    if (pos_ >= in_.size()) return fail();
    auto c = static_cast<unsigned char>(in_[pos_]);
    if (c == '"') {
      ++pos_;
      break;
    }
    if (c < 0x20) return fail();
    if (c == '\\') {
      if (++pos_ >= in_.size()) return fail();
      char e = in_[pos_++];
      switch (e) {
        case '"':
          pool_.push_back('"');
          break;
        case '\\':
          pool_.push_back('\\');
          break;
        case '/':
          pool_.push_back('/');
          break;
        case 'b':
          pool_.push_back('\b');
          break;
        case 'f':
          pool_.push_back('\f');
          break;
        case 'n':
          pool_.push_back('\n');
          break;
        case 'r':
          pool_.push_back('\r');
          break;
        case 't':
          pool_.push_back('\t');
          break;
        case 'u': {
          auto code_unit = [&](std::uint32_t& out) {
            if (pos_ + 4 > in_.size()) return false;
            out = 0;
            for (int i = 0; i < 4; ++i) {
              int h = hex(in_[pos_++]);
              if (h < 0) return false;
              out = (out << 4) | static_cast<std::uint32_t>(h);
            }
            return true;
          };
          std::uint32_t cp = 0;
          if (!code_unit(cp)) return fail();
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail();  // a lone low surrogate
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (in_.substr(pos_, 2) != "\\u") return fail();
            pos_ += 2;
            if (!code_unit(low) || low < 0xDC00 || low > 0xDFFF) return fail();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(pool_, cp);
          break;
        }
        default:
          return fail();
      }
      continue;
    }
    if (c < 0x80) {
      pool_.push_back(static_cast<char>(c));
      ++pos_;
      continue;
    }
    // A multi-byte UTF-8 sequence, validated (no overlongs, no surrogates).
    std::size_t extra = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 0;
    if (extra == 0 || pos_ + extra >= in_.size()) return fail();
    std::uint32_t cp = c & (0x3Fu >> extra);
    for (std::size_t i = 1; i <= extra; ++i) {
      auto b = static_cast<unsigned char>(in_[pos_ + i]);
      if ((b & 0xC0) != 0x80) return fail();
      cp = (cp << 6) | (b & 0x3Fu);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail();
    pool_.append(in_.substr(pos_, extra + 1));
    pos_ += extra + 1;
  }
  at = static_cast<std::uint32_t>(start);
  size = static_cast<std::uint32_t>(pool_.size() - start);
  return true;
}

}  // namespace parley::protocol::detail::json
