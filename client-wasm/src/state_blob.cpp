#include "state_blob.hpp"

#include <cstring>
#include <type_traits>

#include "parley/protocol/codec.hpp"
#include "parley/protocol/detail/walk.hpp"

namespace parley::client {
namespace {

using protocol::detail::has_fields;

// The blobs' layout is that of cereal's portable binary archive, which wrote
// them up to 0.1: a byte 1 (little-endian), then each value in order,
// little-endian; strings and lists after their 64-bit size, an optional
// after a byte that says it is empty. Written here by hand for the browser:
// cereal's archive classes (virtual bases, type info, hash maps of versions
// and pointers) cost the WebAssembly module 3.4 kB gzipped for three structs.
// tests/client/state_blob_test.cpp holds blobs cereal wrote.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "blobs are written in host order: little-endian only");

// Every struct of a blob, in the order of its values; `ar` is a BlobWriter
// or a BlobReader, `s` const or not.
template <class A, class S>
requires std::is_same_v<std::remove_const_t<S>, QueuedSend>
void members(A& ar, S& s) {  // all but in_flight and sent_at
  ar(s.room_id, s.client_msg_id, s.draft, s.created_at, s.failed);
  if (ar.has("held")) ar(s.held, s.waits_for);
}
template <class A, class S>
requires std::is_same_v<std::remove_const_t<S>, SavedReceipt>
void members(A& ar, S& r) { ar(r.room_id, r.read, r.delivered); }
template <class A, class S>
requires has_fields<std::remove_const_t<S>>::value void members(
    A& ar, S& s) {  // a protocol struct: its fields in their declared order
  auto visit = [&ar](std::string_view name, auto& field) {
    if (ar.has(name)) ar(field);
  };
  std::remove_const_t<S>::fields(s, visit);
}

class BlobWriter {
 public:
  explicit BlobWriter(std::string& out) : out_(out) { out_.push_back(1); }
  template <class... T>
  void operator()(const T&... values) {
    (put(values), ...);
  }
  static bool has(std::string_view) { return true; }  // writes every field

 private:
  template <class T>
  requires std::is_arithmetic_v<T>
  void put(const T& value) { out_.append(reinterpret_cast<const char*>(&value), sizeof value); }
  void put(const std::string& s) {
    put(std::uint64_t{s.size()});
    out_.append(s);
  }
  template <class T>
  void put(const std::optional<T>& value) {
    put(!value);
    if (value) put(*value);
  }
  template <class T>
  void put(const std::vector<T>& items) {
    put(std::uint64_t{items.size()});
    for (const T& item : items) put(item);
  }
  void put(const protocol::Error& e) { (*this)(static_cast<std::uint8_t>(e.code), e.message, e.path); }
  template <class T>
  void put(const T& value) {
    members(*this, value);
  }

  std::string& out_;
};

// Reads what BlobWriter wrote. A read past the end, or a size larger than
// the bytes left, marks the blob damaged and yields empty values.
class BlobReader {
 public:
  explicit BlobReader(std::string_view in) : in_(in) {
    std::uint8_t little = 0;
    get(little);
    if (little != 1) failed_ = true;
  }
  template <class... T>
  void operator()(T&... values) {
    (get(values), ...);
  }
  bool failed() const { return failed_; }
  std::size_t left() const { return failed_ ? 0 : in_.size() - at_; }
  // Whether a field is in a blob of this version: version 3 added
  // attachments' url and size, changes' target, tombstones, reactions and
  // quotes; version 4 the queue's held sends and the ids they wait for.
  void set_version(std::uint8_t version) { version_ = version; }
  bool has(std::string_view field) const {
    if (version_ >= 4) return true;
    if (field == "held") return false;
    if (version_ >= 3) return true;
    for (std::string_view added : {"url", "width", "height", "target", "deletedAt", "reactions", "quote"}) {
      if (field == added) return false;
    }
    return true;
  }

 private:
  void bytes(void* data, std::size_t size) {
    if (size > left()) {
      failed_ = true;
      std::memset(data, 0, size);
      return;
    }
    std::memcpy(data, in_.data() + at_, size);
    at_ += size;
  }
  template <class T>
  requires std::is_arithmetic_v<T> &&(!std::is_same_v<T, bool>)void get(T& value) { bytes(&value, sizeof value); }
  void get(bool& value) {
    std::uint8_t byte = 0;
    get(byte);
    value = byte != 0;
  }
  std::size_t size() {
    std::uint64_t n = 0;
    get(n);
    if (n > left()) {
      failed_ = true;
      n = 0;
    }
    return static_cast<std::size_t>(n);
  }
  void get(std::string& s) {
    std::size_t n = size();
    s.assign(in_.substr(at_, n));
    at_ += n;
  }
  template <class T>
  void get(std::optional<T>& value) {
    bool empty = true;
    get(empty);
    if (empty) {
      value.reset();
    } else {
      get(value.emplace());
    }
  }
  template <class T>
  void get(std::vector<T>& items) {
    items.resize(size());
    for (T& item : items) get(item);
  }
  void get(protocol::Error& e) {
    std::uint8_t code = 0;
    (*this)(code, e.message, e.path);
    e.code = code <= static_cast<std::uint8_t>(protocol::ErrorCode::internal) ? static_cast<protocol::ErrorCode>(code)
                                                                              : protocol::ErrorCode::internal;
  }
  template <class T>
  void get(T& value) {
    members(*this, value);
  }

  std::string_view in_;
  std::size_t at_ = 0;
  bool failed_ = false;
  std::uint8_t version_ = 0;
};

// Outboxes: version 2 added the receipts, version 3 the fields of edits,
// reactions, replies and attachments, version 4 held sends and the ids sends
// wait for; older outboxes are still read. Room caches: version 5 holds JSON
// (the binary layout of versions 1 to 4 is not read).
constexpr std::uint8_t kVersion = 4;
constexpr std::uint8_t kRoomsVersion = 5;
constexpr std::uint8_t kOutbox = 1;
constexpr std::uint8_t kRooms = 2;

template <class... T>
std::string encode(std::uint8_t version, std::uint8_t kind, const std::string& user_id, const T&... values) {
  std::string out;
  BlobWriter ar(out);
  ar(version, kind, user_id, values...);
  return out;
}

// Reads the header; the reader is then at the blob's body. 0 for a blob of
// another kind or an unknown version.
std::uint8_t read_header(BlobReader& ar, std::uint8_t kind, SavedState& state) {
  std::uint8_t version = 0;
  std::uint8_t stored_kind = 0;
  ar(version, stored_kind);
  bool known = kind == kRooms ? version == kRoomsVersion : version >= 1 && version <= kVersion;
  if (ar.failed() || !known || stored_kind != kind) return 0;
  ar(state.user_id);
  ar.set_version(version);
  return version;
}

std::optional<SavedState> done(const BlobReader& ar, SavedState state) {
  if (ar.failed() || ar.left() != 0) return std::nullopt;
  return state;
}

}  // namespace

std::string encode_outbox(const std::string& user_id, const std::vector<QueuedSend>& sends,
                          const std::vector<SavedReceipt>& receipts) {
  return encode(kVersion, kOutbox, user_id, sends, receipts);
}

// The rooms' frames, one per line (JSON as the writer writes it has no line break).
std::string encode_rooms(const std::string& user_id, const std::vector<SavedRoom>& rooms) {
  std::string frames;
  for (const auto& room : rooms) {
    frames += room_cache_json(room);
    frames += '\n';
  }
  return encode(kRoomsVersion, kRooms, user_id, frames);
}

std::optional<SavedState> decode_outbox(std::string_view blob) {
  BlobReader ar(blob);
  SavedState state;
  std::uint8_t version = read_header(ar, kOutbox, state);
  if (version == 0) return std::nullopt;
  ar(state.sends);
  if (version >= 2) ar(state.receipts);
  return done(ar, std::move(state));
}

std::optional<SavedState> decode_rooms(std::string_view blob) {
  BlobReader ar(blob);
  SavedState state;
  if (read_header(ar, kRooms, state) == 0) return std::nullopt;
  std::string frames;
  ar(frames);
  std::string_view rest = frames;
  while (!rest.empty()) {
    std::size_t end = rest.find('\n');
    if (end == std::string_view::npos) return std::nullopt;
    auto frame = protocol::decode_server_json(rest.substr(0, end));
    rest.remove_prefix(end + 1);
    auto* joined = frame ? std::get_if<protocol::s2c::Joined>(&frame.value()) : nullptr;
    if (!joined) return std::nullopt;
    SavedRoom& room = state.rooms.emplace_back();
    room.room_id = std::move(joined->room.id);
    room.epoch = std::move(joined->epoch);
    room.messages = std::move(joined->messages);
    room.position = joined->headSeq;
    room.has_more = !room.messages.empty() && room.messages.front().seq > 1;
  }
  return done(ar, std::move(state));
}

}  // namespace parley::client
