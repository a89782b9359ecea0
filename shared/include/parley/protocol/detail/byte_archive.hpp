// cereal archives over bytes in memory, with the layout of cereal's portable
// binary archive (an endianness byte, then little-endian values), but without
// iostreams and without exceptions: a read past the end sets failed() and
// yields zeros. Used by the binary codec (the client writes its persisted
// state without cereal, in the same layout: client-wasm/src/state_blob.cpp).
// Include only from .cpp files: it brings cereal with it.
#pragma once

#include <cereal/cereal.hpp>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace parley::protocol::detail {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the byte archives write host order: little-endian only");

class ByteOutputArchive : public cereal::OutputArchive<ByteOutputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit ByteOutputArchive(std::string& out) : OutputArchive(this), out_(out) { out_.push_back(1); }
  void save_bytes(const void* data, std::size_t size) { out_.append(static_cast<const char*>(data), size); }

 private:
  std::string& out_;
};

class ByteInputArchive : public cereal::InputArchive<ByteInputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit ByteInputArchive(std::string_view in) : InputArchive(this), in_(in) {
    std::uint8_t little = 0;
    load_bytes(&little, 1);
    if (little != 1) failed_ = true;
  }
  void load_bytes(void* data, std::size_t size) {
    if (failed_ || size > in_.size() - at_) {
      failed_ = true;
      std::memset(data, 0, size);
      return;
    }
    std::memcpy(data, in_.data() + at_, size);
    at_ += size;
  }
  std::size_t left() const { return failed_ ? 0 : in_.size() - at_; }
  bool failed() const { return failed_; }
  void fail() { failed_ = true; }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
  bool failed_ = false;
};

template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, const T& value) {
  ar.save_bytes(&value, sizeof value);
}
template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, T& value) {
  ar.load_bytes(&value, sizeof value);
}

template <class Archive, class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(Archive& ar, cereal::NameValuePair<T>& nvp) {
  ar(nvp.value);
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, const cereal::SizeTag<T>& tag) {
  ar(tag.size);
}
// A container size larger than the bytes left is a corrupt blob: refuse it
// before cereal allocates for it.
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, cereal::SizeTag<T>& tag) {
  ar(tag.size);
  if (tag.size > ar.left()) {
    ar.fail();
    tag.size = 0;
  }
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(ByteOutputArchive& ar, const cereal::BinaryData<T>& data) {
  ar.save_bytes(data.data, static_cast<std::size_t>(data.size));
}
template <class T>
void CEREAL_LOAD_FUNCTION_NAME(ByteInputArchive& ar, cereal::BinaryData<T>& data) {
  ar.load_bytes(data.data, static_cast<std::size_t>(data.size));
}

}  // namespace parley::protocol::detail

CEREAL_REGISTER_ARCHIVE(parley::protocol::detail::ByteOutputArchive)
CEREAL_REGISTER_ARCHIVE(parley::protocol::detail::ByteInputArchive)
CEREAL_SETUP_ARCHIVE_TRAITS(parley::protocol::detail::ByteInputArchive, parley::protocol::detail::ByteOutputArchive)
