// The browser module's allocator: segregated free lists of power-of-two
// blocks, carved from memory the host grows (sbrk in the module, an arena in
// tests).
//
// Why not emmalloc: it is about 1.8 KB of WebAssembly, this is a few hundred
// bytes, and every page that loads Parley pays for it. A chat client
// allocates the same few sizes over and over (strings, tree nodes, frames),
// so a freed block is soon reused by an allocation of its class. Memory is
// never given back (WebAssembly memory cannot shrink anyway), and a block
// wastes less than half of itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace parley::client {

// `Grow` is a callable: void* grow(std::size_t bytes) returns that many new
// bytes, contiguous with nothing in particular, or nullptr when out of memory.
template <class Grow>
class BlockHeap {
 public:
  // Every block starts with this header (the block's class), so payloads
  // are aligned like the header: 8 bytes, enough for every type of wasm32.
  static constexpr std::size_t kHeader = 8;
  static constexpr unsigned kMinClass = 4;  // 16-byte blocks: 8 of payload
  static constexpr unsigned kClasses = 32;  // up to 2 GiB blocks

  explicit BlockHeap(Grow grow) : grow_(grow) {}

  void* allocate(std::size_t size) {
    unsigned c = class_of(size);
    if (c >= kClasses) return nullptr;
    Free* block = free_[c];
    if (block) {
      free_[c] = block->next;
    } else {
      block = static_cast<Free*>(grow_(std::size_t{1} << c));
      if (!block) return nullptr;
    }
    block->klass = c;
    return reinterpret_cast<char*>(block) + kHeader;
  }

  void release(void* payload) {
    if (!payload) return;
    Free* block = header_of(payload);
    block->next = free_[block->klass];
    free_[block->klass] = block;
  }

  // The payload's usable size (at least what was asked for).
  static std::size_t capacity(void* payload) { return (std::size_t{1} << header_of(payload)->klass) - kHeader; }

  void* resize(void* payload, std::size_t size) {
    if (!payload) return allocate(size);
    std::size_t have = capacity(payload);
    if (size <= have) return payload;
    void* moved = allocate(size);
    if (!moved) return nullptr;  // the old block stays valid, as realloc says
    std::memcpy(moved, payload, have);
    release(payload);
    return moved;
  }

  // The smallest class whose blocks hold `size` bytes after the header.
  static unsigned class_of(std::size_t size) {
    if (size > (std::size_t{1} << (kClasses - 1)) - kHeader) return kClasses;
    unsigned c = kMinClass;
    while ((std::size_t{1} << c) - kHeader < size) ++c;
    return c;
  }

 private:
  struct Free {
    std::uint32_t klass;  // in the header: the block's class
    std::uint32_t unused;
    Free* next;  // in the payload, while the block is free
  };
  static_assert(sizeof(std::uint32_t) * 2 == kHeader);

  static Free* header_of(void* payload) { return reinterpret_cast<Free*>(static_cast<char*>(payload) - kHeader); }

  Grow grow_;
  Free* free_[kClasses] = {};
};

}  // namespace parley::client
