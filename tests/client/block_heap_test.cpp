// The browser module's allocator (client-wasm/src/block_heap.hpp), over an
// arena instead of WebAssembly memory.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "block_heap.hpp"

namespace parley::client {
namespace {

// Hands out bytes from a fixed buffer, like memory.grow until it is full.
struct Arena {
  std::vector<std::uint64_t>* words;
  std::size_t* used;
  void* operator()(std::size_t bytes) const {
    std::size_t capacity = words->size() * sizeof(std::uint64_t);
    if (bytes > capacity - *used) return nullptr;
    void* p = reinterpret_cast<char*>(words->data()) + *used;
    *used += bytes;
    return p;
  }
};

struct BlockHeapTest : ::testing::Test {
  std::vector<std::uint64_t> words = std::vector<std::uint64_t>(1 << 16);  // 512 KiB
  std::size_t used = 0;
  BlockHeap<Arena> heap{Arena{&words, &used}};
};

TEST_F(BlockHeapTest, SizeClassesArePowersOfTwoThatHoldTheHeader) {
  using H = BlockHeap<Arena>;
  EXPECT_EQ(H::class_of(0), 4u);
  EXPECT_EQ(H::class_of(8), 4u);
  EXPECT_EQ(H::class_of(9), 5u);
  EXPECT_EQ(H::class_of(24), 5u);
  EXPECT_EQ(H::class_of(25), 6u);
  EXPECT_EQ(H::class_of(65536), 17u);
  EXPECT_EQ(H::class_of(std::size_t{1} << 31), H::kClasses) << "too big for any class";
}

TEST_F(BlockHeapTest, BlocksAreAlignedDistinctAndHoldWhatWasAskedFor) {
  std::vector<std::pair<char*, std::size_t>> blocks;
  for (std::size_t size : std::vector<std::size_t>{0, 1, 7, 8, 9, 100, 1000, 5000, 3, 64}) {
    auto* p = static_cast<char*>(heap.allocate(size));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8, 0u);
    EXPECT_GE(heap.capacity(p), size);
    std::memset(p, static_cast<int>(blocks.size()), size);
    blocks.emplace_back(p, size);
  }
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    for (std::size_t b = 0; b < blocks[i].second; ++b) ASSERT_EQ(blocks[i].first[b], static_cast<char>(i));
  }
}

TEST_F(BlockHeapTest, AFreedBlockIsReusedByItsClassOnly) {
  void* a = heap.allocate(20);
  void* b = heap.allocate(20);
  heap.release(a);
  EXPECT_NE(heap.allocate(100), a) << "another class does not take it";
  EXPECT_EQ(heap.allocate(24), a) << "the same class does";
  heap.release(b);
  heap.release(a);
  EXPECT_EQ(heap.allocate(1 + 8), a) << "last freed, first reused";
  EXPECT_EQ(heap.allocate(17), b);
  std::size_t before = used;
  for (int i = 0; i < 1000; ++i) heap.release(heap.allocate(300));
  EXPECT_LE(used - before, 512u) << "a steady churn does not grow the heap";
  heap.release(nullptr);  // like free(nullptr)
}

TEST_F(BlockHeapTest, ResizeKeepsTheBlockWhileItFitsAndTheBytesWhenItMoves) {
  auto* p = static_cast<char*>(heap.resize(nullptr, 10));
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "0123456789", 10);
  EXPECT_EQ(heap.resize(p, 24), p) << "24 bytes still fit a 32-byte block";
  auto* q = static_cast<char*>(heap.resize(p, 1000));
  ASSERT_NE(q, p);
  EXPECT_EQ(std::memcmp(q, "0123456789", 10), 0);
  EXPECT_EQ(heap.allocate(20), p) << "the old block was freed";
}

TEST_F(BlockHeapTest, OutOfMemoryIsANullNotACorruption) {
  void* small = heap.allocate(100);
  std::memset(small, 'x', 100);
  EXPECT_EQ(heap.allocate(1 << 20), nullptr) << "more than the arena";
  EXPECT_EQ(heap.resize(small, 1 << 20), nullptr);
  EXPECT_EQ(static_cast<char*>(small)[99], 'x') << "a failed resize leaves the block as it was";
  EXPECT_NE(heap.allocate(100), nullptr) << "what fits still works";
}

}  // namespace
}  // namespace parley::client
