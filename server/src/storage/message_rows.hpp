// The messages table as both SQL stores (sqlite_storage.cpp,
// postgres_storage.cpp) read it: its columns in one order, the SELECT that
// brings each reply's original along (for its quote), and reading a row back
// into a Message. The stores differ only in how a column is fetched, which
// `Row` hides.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "parley/protocol/messages.hpp"
#include "storage/changes.hpp"

namespace parley::server::store {

// The order read_message() reads and the stores' inserts bind.
inline constexpr std::string_view kMessageColumns =
    "room_id, seq, id, sender_id, sender_name, client_msg_id, type, content, file_name, file_size, mime_type, "
    "thumbnail_url, reply_to, created_at, updated_at, target, deleted_at, reactions, url, width, height";
inline constexpr int kMessageColumnCount = 21;

// The messages with, after their own columns, what a reply shows of its
// original (left out when it is no longer kept). `where` names the message's
// columns with "m.".
inline std::string select_messages(std::string_view where) {
  std::string columns;
  std::string_view rest = kMessageColumns;
  while (!rest.empty()) {
    auto comma = rest.find(", ");
    columns += (columns.empty() ? "m." : ", m.") + std::string(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
  }
  return "SELECT " + columns +
         ", q.sender_id, q.sender_name, q.content, q.file_name, q.deleted_at FROM messages m "
         "LEFT JOIN messages q ON q.room_id = m.room_id AND q.id = m.reply_to " +
         std::string(where);
}

// A row of select_messages() as stored (reactor lists complete). `Row` has
// text(column), int64(column), optional_text(column) and
// optional_int64(column), columns counted from 0; a NULL reactions column
// reads as "" (none).
template <class Row>
protocol::Message read_message(const Row& r) {
  protocol::Message m;
  m.roomId = r.text(0);
  m.seq = r.int64(1);
  m.id = r.text(2);
  m.senderId = r.text(3);
  m.senderName = r.text(4);
  m.clientMsgId = r.text(5);
  m.type = r.text(6);
  m.content = r.text(7);
  protocol::Metadata metadata;
  metadata.fileName = r.optional_text(8);
  metadata.fileSize = r.optional_int64(9);
  metadata.mimeType = r.optional_text(10);
  metadata.thumbnailUrl = r.optional_text(11);
  metadata.url = r.optional_text(18);
  metadata.width = r.optional_int64(19);
  metadata.height = r.optional_int64(20);
  // The wire has no "metadata with no fields" distinct from no metadata.
  if (metadata != protocol::Metadata{}) m.metadata = std::move(metadata);
  m.replyTo = r.optional_text(12);
  m.createdAt = r.int64(13);
  m.updatedAt = r.optional_int64(14);
  m.target = r.optional_text(15);
  m.deletedAt = r.optional_int64(16);
  m.reactions = decode_reactions(r.optional_text(17).value_or(""));
  if (m.replyTo) {
    if (auto sender = r.optional_text(kMessageColumnCount)) {
      protocol::Message original;
      original.senderId = std::move(*sender);
      original.senderName = r.text(kMessageColumnCount + 1);
      original.content = r.text(kMessageColumnCount + 2);
      if (auto name = r.optional_text(kMessageColumnCount + 3)) {
        original.metadata.emplace();
        original.metadata->fileName = std::move(name);
      }
      original.deletedAt = r.optional_int64(kMessageColumnCount + 4);
      m.quote = quote_of(original);
    }
  }
  return m;
}

// As read_message(), reactor lists trimmed for the wire.
template <class Row>
protocol::Message read_wire_message(const Row& r) {
  protocol::Message m = read_message(r);
  trim_for_wire(m);
  return m;
}

}  // namespace parley::server::store
