#include "state_blob.hpp"

#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "parley/protocol/detail/byte_archive.hpp"
#include "parley/protocol/detail/walk.hpp"

// cereal finds these by argument-dependent lookup: every protocol struct is
// serialised through the one list of its fields.
namespace parley::protocol {
template <class Archive, class T, std::enable_if_t<detail::has_fields<T>::value, int> = 0>
void serialize(Archive& ar, T& value) {
  auto visit = [&ar](std::string_view, auto& field) { ar(field); };
  T::fields(value, visit);
}

template <class Archive>
void save(Archive& ar, const Error& e) {
  ar(static_cast<std::uint8_t>(e.code), e.message, e.path);
}
template <class Archive>
void load(Archive& ar, Error& e) {
  std::uint8_t code = 0;
  ar(code, e.message, e.path);
  e.code = static_cast<ErrorCode>(code <= static_cast<std::uint8_t>(ErrorCode::internal) ? code : 8);
}
}  // namespace parley::protocol

namespace parley::client {

template <class Archive>
void serialize(Archive& ar, QueuedSend& s) {  // all but in_flight
  ar(s.room_id, s.client_msg_id, s.draft, s.created_at, s.failed);
}

template <class Archive>
void serialize(Archive& ar, SavedReceipt& r) {
  ar(r.room_id, r.read, r.delivered);
}

template <class Archive>
void serialize(Archive& ar, SavedRoom& r) {
  ar(r.room_id, r.epoch, r.has_more, r.messages);
}

namespace {

// Version 2 added the outbox's receipts; version 1 blobs are still read.
constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kOutbox = 1;
constexpr std::uint8_t kRooms = 2;

template <class... T>
std::string encode(std::uint8_t kind, const std::string& user_id, const T&... values) {
  std::string out;
  protocol::detail::ByteOutputArchive ar(out);
  ar(kVersion, kind, user_id, values...);
  return out;
}

// Reads the header; the archive is then at the blob's body. 0 for a blob of
// another kind or an unknown version.
std::uint8_t read_header(protocol::detail::ByteInputArchive& ar, std::uint8_t kind, SavedState& state) {
  std::uint8_t version = 0;
  std::uint8_t stored_kind = 0;
  ar(version, stored_kind);
  if (ar.failed() || version < 1 || version > kVersion || stored_kind != kind) return 0;
  ar(state.user_id);
  return version;
}

std::optional<SavedState> done(protocol::detail::ByteInputArchive& ar, SavedState state) {
  if (ar.failed() || ar.left() != 0) return std::nullopt;
  return state;
}

}  // namespace

std::string encode_outbox(const std::string& user_id, const std::vector<QueuedSend>& sends,
                          const std::vector<SavedReceipt>& receipts) {
  return encode(kOutbox, user_id, sends, receipts);
}

std::string encode_rooms(const std::string& user_id, const std::vector<SavedRoom>& rooms) {
  return encode(kRooms, user_id, rooms);
}

std::optional<SavedState> decode_outbox(std::string_view blob) {
  protocol::detail::ByteInputArchive ar(blob);
  SavedState state;
  std::uint8_t version = read_header(ar, kOutbox, state);
  if (version == 0) return std::nullopt;
  ar(state.sends);
  if (version >= 2) ar(state.receipts);
  return done(ar, std::move(state));
}

std::optional<SavedState> decode_rooms(std::string_view blob) {
  protocol::detail::ByteInputArchive ar(blob);
  SavedState state;
  if (read_header(ar, kRooms, state) == 0) return std::nullopt;
  ar(state.rooms);
  return done(ar, std::move(state));
}

}  // namespace parley::client
