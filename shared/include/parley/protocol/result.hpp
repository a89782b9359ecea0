// A value or an Error: how the protocol layer reports failure across its
// boundary (exceptions never leave it).
#pragma once

#include <optional>
#include <utility>

#include "parley/protocol/errors.hpp"

namespace parley::protocol {

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  const Error& error() const { return error_; }

 private:
  std::optional<T> value_;
  Error error_;
};

}  // namespace parley::protocol
