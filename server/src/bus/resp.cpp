#include "bus/resp.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <climits>
#include <new>
#include <stdexcept>

namespace parley::server::redis {

namespace {

// hiredis counts a formatted command in int; far below that, one command
// this large is a bug.
constexpr std::size_t kMaxCommandBytes = std::size_t{1} << 30;
// The reader keeps its buffer across reads up to this size; past it, the
// memory a big reply needed is given back once the reply is taken.
constexpr std::size_t kKeptBufferBytes = std::size_t{1} << 20;
// What an array reserves before its elements arrive: a declared length is
// only a promise.
constexpr std::size_t kReservedElements = 1024;

}  // namespace

struct Reader::State {
  ReaderLimits limits;
  redisReader* reader = nullptr;
  std::string error;
  std::string refusal;     // why a build function below refused (hiredis says only "Out of memory")
  std::size_t values = 0;  // in the reply being built
};

namespace {

Reader::State& state_of(const redisReadTask* task) { return *static_cast<Reader::State*>(task->privdata); }

// A new value of the reply being built: the root (which hiredis hands back,
// or frees through free_value on an error) or the next element of the array
// its parent task is filling. hiredis fills arrays in order and finishes an
// element before it starts the next, so growing the array only moves finished
// siblings; the pointer returned here stays valid while this value's own
// elements are added. nullptr makes hiredis stop with an error.
Reply* place(const redisReadTask* task, Reply::Type type) noexcept {
  Reader::State& state = state_of(task);
  if (++state.values > state.limits.max_values) {
    state.refusal = "a reply of more than " + std::to_string(state.limits.max_values) + " values";
    return nullptr;
  }
  try {
    if (task->parent == nullptr) {
      auto* root = new Reply;
      root->type = type;
      return root;
    }
    auto* parent = static_cast<Reply*>(task->parent->obj);
    if (task->idx < 0 || static_cast<std::size_t>(task->idx) != parent->elements.size()) {
      state.refusal = "array elements out of order";
      return nullptr;
    }
    Reply& element = parent->elements.emplace_back();
    element.type = type;
    return &element;
  } catch (const std::bad_alloc&) {
    state.refusal = "out of memory";
    return nullptr;
  }
}

void* create_string(const redisReadTask* task, char* data, std::size_t length) {
  Reply::Type type = Reply::Type::string;
  if (task->type == REDIS_REPLY_STATUS) type = Reply::Type::status;
  if (task->type == REDIS_REPLY_ERROR) type = Reply::Type::error;
  Reply* value = place(task, type);
  if (value == nullptr) return nullptr;
  try {
    value->str.assign(data, length);
  } catch (const std::bad_alloc&) {
    state_of(task).refusal = "out of memory";
    // An element stays in its parent, freed with the root; a root hiredis
    // never saw is freed here.
    if (task->parent == nullptr) delete value;
    return nullptr;
  }
  return value;
}

void* create_array(const redisReadTask* task, int length) {
  Reader::State& state = state_of(task);
  if (length < 0 ||
      static_cast<std::size_t>(length) > state.limits.max_values - std::min(state.values, state.limits.max_values)) {
    state.refusal = "an array of " + std::to_string(length) + " elements";
    return nullptr;
  }
  Reply* value = place(task, Reply::Type::array);
  if (value == nullptr) return nullptr;
  try {
    value->elements.reserve(std::min(static_cast<std::size_t>(length), kReservedElements));
  } catch (const std::bad_alloc&) {
    state.refusal = "out of memory";
    if (task->parent == nullptr) delete value;
    return nullptr;
  }
  return value;
}

void* create_integer(const redisReadTask* task, long long number) {
  Reply* value = place(task, Reply::Type::integer);
  if (value != nullptr) value->integer = number;
  return value;
}

void* create_nil(const redisReadTask* task) { return place(task, Reply::Type::nil); }

// hiredis frees only roots: the reply it hands back, or the one it was
// building when it failed (with everything in it).
void free_value(void* value) { delete static_cast<Reply*>(value); }

redisReplyObjectFunctions g_functions = {create_string, create_array, create_integer, create_nil, free_value};

}  // namespace

std::string format_command(const std::vector<std::string>& args) {
  if (args.empty()) throw std::invalid_argument("a Redis command needs at least its name");
  std::size_t total = 0;
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const auto& arg : args) {
    total += arg.size() + 16;  // "$<length>\r\n...\r\n"
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  if (total > kMaxCommandBytes || args.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::length_error("a Redis command of more than 1 GiB");
  }
  char* formatted = nullptr;
  int length = redisFormatCommandArgv(&formatted, static_cast<int>(args.size()), argv.data(), lengths.data());
  if (length < 0 || formatted == nullptr) throw std::bad_alloc();
  std::string command(formatted, static_cast<std::size_t>(length));
  redisFreeCommand(formatted);
  return command;
}

Reader::Reader() : Reader(ReaderLimits{}) {}

Reader::Reader(ReaderLimits limits) : state_(std::make_unique<State>()) {
  state_->limits = limits;
  state_->reader = redisReaderCreateWithFunctions(&g_functions);
  if (state_->reader == nullptr) throw std::bad_alloc();
  state_->reader->maxbuf = kKeptBufferBytes;
  state_->reader->privdata = state_.get();
}

Reader::~Reader() { redisReaderFree(state_->reader); }

void Reader::feed(const char* data, std::size_t n) {
  if (!state_->error.empty() || n == 0) return;
  if (redisReaderFeed(state_->reader, data, n) != REDIS_OK) state_->error = "out of memory";
}

std::optional<Reply> Reader::next() {
  State& state = *state_;
  if (!state.error.empty()) return std::nullopt;
  void* raw = nullptr;
  if (redisReaderGetReply(state.reader, &raw) != REDIS_OK) {
    state.error = state.refusal.empty() ? std::string(state.reader->errstr) : state.refusal;
    if (state.error.empty()) state.error = "protocol error";
    return std::nullopt;
  }
  if (raw == nullptr) {
    // Incomplete: what waits is the rest of one value (the array elements
    // before it are already built), e.g. a bulk string of any declared size.
    if (state.reader->len - state.reader->pos > state.limits.max_pending_bytes) {
      state.error = "a reply of more than " + std::to_string(state.limits.max_pending_bytes) + " bytes";
    }
    return std::nullopt;
  }
  std::unique_ptr<Reply> reply(static_cast<Reply*>(raw));
  state.values = 0;
  return std::move(*reply);
}

const std::string& Reader::error() const { return state_->error; }

}  // namespace parley::server::redis
