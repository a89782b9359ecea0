// memcpy, memmove and memset for the browser module: WebAssembly's bulk
// memory instructions (memory.copy, memory.fill) instead of libc's loops.
// Compiled with -mbulk-memory and without LTO, so that the builtins below
// become those instructions and are never turned back into calls to
// themselves. Bulk memory is in every current browser (Chrome 75, Firefox
// 79, Safari 15) and in Node 12.5 and later.
#include <cstddef>

extern "C" {

void* memcpy(void* __restrict to, const void* __restrict from, std::size_t size) {
  __builtin_memcpy(to, from, size);
  return to;
}

void* memmove(void* to, const void* from, std::size_t size) {
  __builtin_memmove(to, from, size);
  return to;
}

void* memset(void* to, int byte, std::size_t size) {
  __builtin_memset(to, byte, size);
  return to;
}

}  // extern "C"
