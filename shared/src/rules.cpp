#include "rules.hpp"

#include <algorithm>

namespace parley::protocol::detail {

const FieldRule* find_rule(std::span<const FieldRule> rules, std::string_view key) {
  auto it = std::lower_bound(rules.begin(), rules.end(), key,
                             [](const FieldRule& r, std::string_view k) { return r.key < k; });
  return it != rules.end() && it->key == key ? &*it : nullptr;
}

namespace {

[[maybe_unused]] std::string shown(const std::string& path) { return path.empty() ? "the frame" : "`" + path + "`"; }

#define PARLEY_BAD(path, ...) \
  Error { ErrorCode::bad_request, PARLEY_WORDS(shown(path) + " " + (__VA_ARGS__)), path }

}  // namespace

std::optional<Error> check_string(const FieldRule& rule, std::string_view value, const std::string& path) {
  if (rule.kind != FieldKind::string) return PARLEY_BAD(path, "must not be a string");
  auto length = utf8_length(value);
  if (!length) return PARLEY_BAD(path, "is not valid UTF-8");
  if (rule.enum_count > 0) {
    for (std::size_t i = 0; i < rule.enum_count; ++i) {
      if (rule.enum_values[i] == value) return std::nullopt;
    }
    return PARLEY_BAD(
        path, "must be one of: " + [&] {
          std::string allowed;
          for (std::size_t i = 0; i < rule.enum_count; ++i)
            allowed += (i ? ", " : "") + std::string(rule.enum_values[i]);
          return allowed;
        }());
  }
  if (*length > rule.max_length) {
    return Error{ErrorCode::too_large,
                 PARLEY_WORDS(shown(path) + " is " + std::to_string(*length) + " characters long; the limit is " +
                              std::to_string(rule.max_length)),
                 path};
  }
  if (*length < rule.min_length) {
    return PARLEY_BAD(path, rule.min_length == 1
                                ? "must not be empty"
                                : "must be at least " + std::to_string(rule.min_length) + " characters");
  }
  if (rule.charset) {
    for (char ch : value) {
      auto c = static_cast<unsigned char>(ch);
      if (c >= 128 || !(rule.charset[c >> 3] & (1u << (c & 7)))) {
        return PARLEY_BAD(path, "contains a character that is not allowed here");
      }
    }
  }
  return std::nullopt;
}

std::optional<Error> check_integer(const FieldRule& rule, long long value, const std::string& path) {
  if (rule.kind != FieldKind::integer) return PARLEY_BAD(path, "must not be an integer");
  if (value < rule.minimum || value > rule.maximum) {
    return PARLEY_BAD(path, "must be between " + std::to_string(rule.minimum) + " and " + std::to_string(rule.maximum));
  }
  return std::nullopt;
}

std::optional<Error> check_items(const FieldRule& rule, std::size_t count, const std::string& path) {
  if (rule.kind != FieldKind::array) return PARLEY_BAD(path, "must not be an array");
  if (count > rule.max_items) {
    return Error{ErrorCode::too_large,
                 PARLEY_WORDS(shown(path) + " has " + std::to_string(count) + " items; the limit is " +
                              std::to_string(rule.max_items)),
                 path};
  }
  return std::nullopt;
}

FieldPath::FieldPath(std::span<const FieldRule> rules, std::string_view direction, std::string_view type)
    : rules_(rules) {
  keys_.reserve(64);
  pointer_.reserve(64);
  keys_.append(direction).append("/").append(type);
}

void FieldPath::mark() {
  marks_.push_back(
      Mark{static_cast<std::uint32_t>(keys_.size()), key_start_, static_cast<std::uint32_t>(pointer_.size())});
}

void FieldPath::push(std::string_view name) {
  mark();
  keys_.append("/").append(name);
  pointer_.append("/");
  for (char c : name) {  // RFC 6901 escaping
    if (c == '~') {
      pointer_.append("~0");
    } else if (c == '/') {
      pointer_.append("~1");
    } else {
      pointer_.push_back(c);
    }
  }
}

void FieldPath::push_index(std::size_t index) {
  mark();
  keys_.append("/*");
  pointer_.append("/").append(std::to_string(index));
}

void FieldPath::enter(const FieldRule& rule) {
  if (rule.def.empty() || marks_.empty()) return;
  key_start_ = static_cast<std::uint32_t>(keys_.size());
  keys_.append("#").append(rule.def);
}

void FieldPath::pop() {
  const Mark& mark = marks_.back();
  keys_.resize(mark.keys_size);
  key_start_ = mark.key_start;
  pointer_.resize(mark.pointer_size);
  marks_.pop_back();
}

}  // namespace parley::protocol::detail
