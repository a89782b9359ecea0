// malloc and friends for the browser module (linked with -sMALLOC=none):
// BlockHeap (src/block_heap.hpp) over the WebAssembly memory above the
// static data, grown a page (64 KiB) at a time as needed.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "block_heap.hpp"

extern "C" unsigned char __heap_base;  // where the linker ends the static data and the stack

namespace {

constexpr std::size_t kPage = 65536;

class Memory {
 public:
  void* operator()(std::size_t bytes) {
    std::uintptr_t end = __builtin_wasm_memory_size(0) * kPage;
    if (bytes > end - top_) {
      std::size_t pages = (bytes - (end - top_) + kPage - 1) / kPage;
      if (__builtin_wasm_memory_grow(0, pages) == static_cast<std::size_t>(-1)) return nullptr;
    }
    void* block = reinterpret_cast<void*>(top_);
    top_ += bytes;  // blocks are powers of two of at least 16 bytes: the top stays aligned
    return block;
  }

 private:
  std::uintptr_t top_ = (reinterpret_cast<std::uintptr_t>(&__heap_base) + 15) & ~std::uintptr_t{15};
};

parley::client::BlockHeap<Memory> heap{Memory{}};

}  // namespace

extern "C" {

void* malloc(std::size_t size) { return heap.allocate(size); }

void free(void* p) { heap.release(p); }

void* realloc(void* p, std::size_t size) { return heap.resize(p, size); }

void* calloc(std::size_t count, std::size_t size) {
  if (size != 0 && count > static_cast<std::size_t>(-1) / size) return nullptr;
  void* p = heap.allocate(count * size);
  if (p) std::memset(p, 0, count * size);
  return p;
}

}  // extern "C"
