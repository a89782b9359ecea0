// Small pieces the SQL stores (sqlite_storage.cpp, postgres_storage.cpp) share.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "storage/storage.hpp"

namespace parley::server::store {

// A LIMIT from a size: at most int64's largest.
inline std::int64_t sql_limit(std::size_t limit) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

// The value type of what a store's guarded() body returns: T, or Result<T>.
template <class R>
struct Unwrap {
  using type = R;
};
template <class T>
struct Unwrap<StorageResult<T>> {
  using type = T;
};

}  // namespace parley::server::store
