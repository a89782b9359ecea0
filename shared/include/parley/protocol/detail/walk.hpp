// Compile-time helpers for walking message structs (codecs, persisted state).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace parley::protocol::detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

// Message structs: anything with a static `fields(self, visit)`.
template <class T, class = void>
struct has_fields : std::false_type {};
template <class T>
struct has_fields<T, std::void_t<decltype(&T::template fields<T, int>)>> : std::true_type {};

// Calls f with std::integral_constant<std::size_t, I> for the alternative I
// of Variant whose `type` is `name` (the caller emplaces it where it will
// stay: no alternative is moved); false when no alternative has that name.
template <class Variant, class F, std::size_t I = 0>
bool with_index_named(std::string_view name, F&& f) {
  if constexpr (I == std::variant_size_v<Variant>) {
    return false;
  } else {
    if (std::variant_alternative_t<I, Variant>::type == name) {
      f(std::integral_constant<std::size_t, I>{});
      return true;
    }
    return with_index_named<Variant, F, I + 1>(name, std::forward<F>(f));
  }
}

// The same, by the alternative's index (the binary codec's frame tag).
template <class Variant, class F, std::size_t I = 0>
bool with_alternative_at(std::size_t index, F&& f) {
  if constexpr (I == std::variant_size_v<Variant>) {
    return false;
  } else {
    if (index == I) {
      f(std::variant_alternative_t<I, Variant>{});
      return true;
    }
    return with_alternative_at<Variant, F, I + 1>(index, std::forward<F>(f));
  }
}

}  // namespace parley::protocol::detail
