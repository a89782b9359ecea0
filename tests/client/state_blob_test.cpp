// The persisted blobs (state_blob.cpp): the layout written up to 0.1 by
// cereal's portable binary archive is kept byte for byte, and a damaged blob
// is refused whole instead of restoring part of it.
#include <gtest/gtest.h>

#include "state_blob.hpp"

namespace parley::client {
namespace {

using namespace std::string_literals;

// Written by the 0.1 client (cereal): an outbox of two sends (the second
// refused for good with too_large) and one receipt, and a room cache of one
// message.
const std::string kOutboxV2 =
    "\x01\x02\x01\x05\x00\x00\x00\x00\x00\x00\x00\x61\x6c\x69\x63\x65\x02\x00\x00\x00\x00\x00\x00\x00"
    "\x05\x00\x00\x00\x00\x00\x00\x00\x6c\x6f\x62\x62\x79\x05\x00\x00\x00\x00\x00\x00\x00\x63\x5f\x6f"
    "\x6e\x65\x05\x00\x00\x00\x00\x00\x00\x00\x69\x6d\x61\x67\x65\x06\x00\x00\x00\x00\x00\x00\x00\x68"
    "\xc3\xa9\x6c\x6c\x6f\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x61\x2e\x70\x6e\x67\x00\x00\x08\x00"
    "\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x69\x6d\x61\x67\x65\x2f\x70\x6e\x67\x01"
    "\x00\x03\x00\x00\x00\x00\x00\x00\x00\x6d\x5f\x31\x7b\x68\xe5\xcf\x8b\x01\x00\x00\x01\x05\x00\x00"
    "\x00\x00\x00\x00\x00\x6c\x6f\x62\x62\x79\x05\x00\x00\x00\x00\x00\x00\x00\x63\x5f\x74\x77\x6f\x04"
    "\x00\x00\x00\x00\x00\x00\x00\x74\x65\x78\x74\x07\x00\x00\x00\x00\x00\x00\x00\x72\x65\x66\x75\x73"
    "\x65\x64\x01\x01\xc8\x69\xe5\xcf\x8b\x01\x00\x00\x00\x05\x08\x00\x00\x00\x00\x00\x00\x00\x74\x6f"
    "\x6f\x20\x6c\x6f\x6e\x67\x08\x00\x00\x00\x00\x00\x00\x00\x2f\x63\x6f\x6e\x74\x65\x6e\x74\x01\x00"
    "\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x6c\x6f\x62\x62\x79\x07\x00\x00\x00\x00"
    "\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00"
    ""s;
const std::string kRoomsV2 =
    "\x01\x02\x02\x05\x00\x00\x00\x00\x00\x00\x00\x61\x6c\x69\x63\x65\x01\x00\x00\x00\x00\x00\x00\x00"
    "\x05\x00\x00\x00\x00\x00\x00\x00\x6c\x6f\x62\x62\x79\x02\x00\x00\x00\x00\x00\x00\x00\x65\x31\x01"
    "\x01\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x6d\x5f\x39\x05\x00\x00\x00\x00"
    "\x00\x00\x00\x6c\x6f\x62\x62\x79\x03\x00\x00\x00\x00\x00\x00\x00\x62\x6f\x62\x03\x00\x00\x00\x00"
    "\x00\x00\x00\x42\x6f\x62\x03\x00\x00\x00\x00\x00\x00\x00\x63\x5f\x62\x09\x00\x00\x00\x00\x00\x00"
    "\x00\x04\x00\x00\x00\x00\x00\x00\x00\x74\x65\x78\x74\x02\x00\x00\x00\x00\x00\x00\x00\x68\x69\x01"
    "\x01\xe7\x6b\xe5\xcf\x8b\x01\x00\x00\x00\xe8\x6b\xe5\xcf\x8b\x01\x00\x00"
    ""s;

TEST(StateBlob, ReadsTheOutboxTheCerealArchiveWrote) {
  auto state = decode_outbox(kOutboxV2);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->user_id, "alice");
  ASSERT_EQ(state->sends.size(), 2u);
  const QueuedSend& image = state->sends[0];
  EXPECT_EQ(image.room_id, "lobby");
  EXPECT_EQ(image.client_msg_id, "c_one");
  EXPECT_EQ(image.draft.content, "h\xc3\xa9llo");
  EXPECT_EQ(image.draft.type, "image");
  EXPECT_EQ(image.draft.replyTo, "m_1");
  ASSERT_TRUE(image.draft.metadata);
  EXPECT_EQ(image.draft.metadata->fileName, "a.png");
  EXPECT_EQ(image.draft.metadata->fileSize, 2048);
  EXPECT_EQ(image.draft.metadata->mimeType, "image/png");
  EXPECT_FALSE(image.draft.metadata->thumbnailUrl);
  EXPECT_EQ(image.created_at, 1700000000123);
  EXPECT_FALSE(image.failed);
  const QueuedSend& refused = state->sends[1];
  EXPECT_EQ(refused.draft.content, "refused");
  ASSERT_TRUE(refused.failed);
  EXPECT_EQ(refused.failed->code, protocol::ErrorCode::too_large);
  EXPECT_EQ(refused.failed->message, "too long");
  EXPECT_EQ(refused.failed->path, "/content");
  ASSERT_EQ(state->receipts.size(), 1u);
  EXPECT_EQ(state->receipts[0].room_id, "lobby");
  EXPECT_EQ(state->receipts[0].read, 7);
  EXPECT_EQ(state->receipts[0].delivered, 9);

  // Written again as the current version (with the fields it added), and read back the same.
  std::string current = encode_outbox(state->user_id, state->sends, state->receipts);
  EXPECT_EQ(current[1], '\x04');
  auto again = decode_outbox(current);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->sends.size(), 2u);
  EXPECT_EQ(again->sends[0].draft, image.draft);
  EXPECT_EQ(again->sends[1].draft, refused.draft);
  EXPECT_EQ(again->receipts.size(), 1u);
}

TEST(StateBlob, VersionThreeKeepsEditsReactionsRepliesAndAttachments) {
  QueuedSend edit;
  edit.room_id = "lobby";
  edit.client_msg_id = "c_edit";
  edit.draft.type = "edit";
  edit.draft.content = "fixed";
  edit.draft.target = "m_1";
  QueuedSend image;
  image.room_id = "lobby";
  image.client_msg_id = "c_image";
  image.draft.type = "image";
  image.draft.metadata = protocol::Metadata{"a.png", 10, "image/png", {}, "/uploads/a.png", 640, 480};
  auto outbox = decode_outbox(encode_outbox("alice", {edit, image}, {}));
  ASSERT_TRUE(outbox);
  ASSERT_EQ(outbox->sends.size(), 2u);
  EXPECT_EQ(outbox->sends[0].draft, edit.draft);
  EXPECT_EQ(outbox->sends[1].draft, image.draft);

  // Version 3 had neither held sends nor the keys sends wait for: such a
  // blob (version 4 without them) still reads.
  std::string v3 = encode_outbox("alice", {edit}, {});
  v3[1] = 3;
  v3.erase(v3.size() - 8 - 1 - 8, 1 + 8);
  auto old = decode_outbox(v3);
  ASSERT_TRUE(old);
  ASSERT_EQ(old->sends.size(), 1u);
  EXPECT_EQ(old->sends[0].draft, edit.draft);
  EXPECT_FALSE(old->sends[0].held);

  SavedRoom room;
  room.room_id = "lobby";
  room.epoch = "e1";
  protocol::Message m;
  m.id = "m_2";
  m.roomId = "lobby";
  m.senderId = "alice";
  m.senderName = "Alice";
  m.clientMsgId = "c_aaaaaaa2";
  m.seq = 2;
  m.createdAt = 4;
  m.replyTo = "m_1";
  m.quote = protocol::Quote{"bob", "Bob", "", true};
  m.reactions = std::vector<protocol::Reaction>{{"👍", 2, {"alice", "bob"}}};
  m.deletedAt = 5;
  room.messages.push_back(m);
  auto rooms = decode_rooms(encode_rooms("alice", {room}));
  ASSERT_TRUE(rooms);
  ASSERT_EQ(rooms->rooms.size(), 1u);
  EXPECT_EQ(rooms->rooms[0].messages, room.messages);
}

TEST(StateBlob, VersionFourKeepsHeldSendsAndTheIdsTheyWaitFor) {
  QueuedSend upload;
  upload.room_id = "lobby";
  upload.client_msg_id = "c_upload";
  upload.draft.type = "image";
  upload.draft.metadata = protocol::Metadata{"a.png", 10, "image/png", {}, "blob:https://app/1", 640, 480};
  upload.held = true;
  QueuedSend react;
  react.room_id = "lobby";
  react.client_msg_id = "c_react";
  react.draft.type = "react";
  react.draft.content = "👍";
  react.waits_for = "c_upload";
  auto outbox = decode_outbox(encode_outbox("alice", {upload, react}, {}));
  ASSERT_TRUE(outbox);
  ASSERT_EQ(outbox->sends.size(), 2u);
  EXPECT_TRUE(outbox->sends[0].held);
  EXPECT_EQ(outbox->sends[0].draft, upload.draft);
  EXPECT_FALSE(outbox->sends[1].held);
  EXPECT_EQ(outbox->sends[1].waits_for, "c_upload");
}

TEST(StateBlob, TheRoomCacheIsTheProtocolsJsonAndOlderCachesAreNotRead) {
  // The 0.1 client's cache (cereal's binary layout) is a cache: not read,
  // the room is joined afresh.
  EXPECT_FALSE(decode_rooms(kRoomsV2));

  SavedRoom room;
  room.room_id = "lobby";
  room.epoch = "e1";
  room.position = 12;  // a change after the last message
  protocol::Message m;
  m.id = "m_9";
  m.roomId = "lobby";
  m.senderId = "bob";
  m.senderName = "Bob";
  m.clientMsgId = "c_bbbbbb9";
  m.seq = 9;
  m.content = "hi \"there\"\n";
  m.createdAt = 1700000000999;
  m.updatedAt = 1700000001000;
  m.metadata = protocol::Metadata{"a.png", 10, "image/png", "/t.png", "https://cdn.example/a.png", 640, 480};
  m.type = "image";
  room.messages.push_back(m);
  SavedRoom empty;
  empty.room_id = "quiet";
  empty.epoch = "e2";
  std::string blob = encode_rooms("alice", {room, empty});
  EXPECT_EQ(blob[1], '\x05');
  EXPECT_NE(blob.find("{\"type\":\"joined\""), std::string::npos) << "readable JSON";
  auto state = decode_rooms(blob);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->user_id, "alice");
  ASSERT_EQ(state->rooms.size(), 2u);
  EXPECT_EQ(state->rooms[0].room_id, "lobby");
  EXPECT_EQ(state->rooms[0].epoch, "e1");
  EXPECT_EQ(state->rooms[0].position, 12);
  EXPECT_TRUE(state->rooms[0].has_more) << "seq 9 is not the room's first";
  EXPECT_EQ(state->rooms[0].messages, room.messages);
  EXPECT_EQ(state->rooms[1].room_id, "quiet");
  EXPECT_TRUE(state->rooms[1].messages.empty());
  EXPECT_FALSE(state->rooms[1].has_more);
}

TEST(StateBlob, EveryTruncationAndAnyTrailingByteIsRefused) {
  for (std::size_t n = 0; n < kOutboxV2.size(); ++n) {
    EXPECT_FALSE(decode_outbox(kOutboxV2.substr(0, n))) << "cut at " << n;
  }
  SavedRoom room;
  room.room_id = "lobby";
  room.epoch = "e1";
  std::string rooms = encode_rooms("alice", {room});
  for (std::size_t n = 0; n < rooms.size(); ++n) {
    EXPECT_FALSE(decode_rooms(rooms.substr(0, n))) << "cut at " << n;
  }
  EXPECT_FALSE(decode_outbox(kOutboxV2 + "x"));
  EXPECT_FALSE(decode_rooms(rooms + "\0"s));
}

TEST(StateBlob, ABlobOfAnotherKindOrByteOrderIsRefused) {
  EXPECT_FALSE(decode_rooms(kOutboxV2));
  EXPECT_FALSE(decode_outbox(kRoomsV2));
  std::string big_endian = kOutboxV2;
  big_endian[0] = 0;
  EXPECT_FALSE(decode_outbox(big_endian));
}

TEST(StateBlob, ASizeLargerThanTheBlobIsRefusedBeforeAnythingIsAllocated) {
  // The user id's size (bytes 3-10), then the sends' size, set to 2^63.
  for (std::size_t at : {std::size_t{3}, std::size_t{16}}) {
    std::string blob = kOutboxV2;
    for (std::size_t i = 0; i < 8; ++i) blob[at + i] = i == 7 ? '\x80' : '\0';
    EXPECT_FALSE(decode_outbox(blob)) << "size at " << at;
  }
}

TEST(StateBlob, AnUnknownErrorCodeIsReadAsInternal) {
  std::string blob = kOutboxV2;
  std::size_t code = blob.find("too long") - 9;  // the code byte, then the message's size
  ASSERT_EQ(blob[code], static_cast<char>(protocol::ErrorCode::too_large));
  blob[code] = '\x7f';
  auto state = decode_outbox(blob);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->sends[1].failed->code, protocol::ErrorCode::internal);
}

}  // namespace
}  // namespace parley::client
