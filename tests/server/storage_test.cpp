// The Storage contract, run against every implementation (memory, SQLite
// and PostgreSQL), plus what only the databases promise: surviving a restart
// (and, for SQLite, a crash), their versioned schemas, clear errors, and for
// PostgreSQL several writers on one database and a server that restarts.
// The PostgreSQL tests run on a throw-away cluster of their own
// (support/postgres_cluster.hpp); where one cannot run, they fail.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "parley/protocol/drafts.hpp"
#include "storage/group_commit.hpp"
#include "storage/sqlite_checkpointer.hpp"
#include "storage/storage.hpp"
#include "support/postgres_cluster.hpp"

namespace parley::server {
namespace {

namespace fs = std::filesystem;
using protocol::Message;
using protocol::Metadata;
using protocol::Quote;
using protocol::Reaction;

// A fresh, empty folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    do {
      path_ = fs::temp_directory_path() / ("parley-storage-test-" + std::to_string(::getpid()) + "-" +
                                           std::to_string(random()) + std::to_string(random()));
    } while (!fs::create_directory(path_));
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

RoomRecord room(const std::string& id, std::int64_t created_at = 1000) {
  return RoomRecord{id, RoomKind::public_room, "e_" + id, 0, created_at};
}

Message message(const std::string& room_id, std::int64_t seq, const std::string& sender = "alice",
                std::string client_msg_id = "") {
  Message m;
  m.id = "m_" + room_id + "_" + std::to_string(seq);
  m.roomId = room_id;
  m.senderId = sender;
  m.senderName = "Name of " + sender;
  m.clientMsgId = client_msg_id.empty() ? room_id + "-c" + std::to_string(seq) : std::move(client_msg_id);
  m.seq = seq;
  m.content = "message " + std::to_string(seq);
  m.createdAt = 1'700'000'000'000 + seq;
  return m;
}

MemberRecord member(const std::string& room_id, const std::string& user_id, Role role = Role::member) {
  return MemberRecord{room_id, user_id, "Name of " + user_id, role, 0, 0, 2000, 3000};
}

// A storage call's value; a failure (there should be none here) fails the test.
template <class T>
T ok(StorageResult<T> result) {
  if (!result) {
    ADD_FAILURE() << "storage failed: " << result.error().message;
    return T{};
  }
  return std::move(result).value();
}
// A write that returns nothing.
void done(const StorageStatus& status) {
  if (status) ADD_FAILURE() << "storage failed: " << status->message;
}
// The code a refused call gave (nullopt when it was not refused).
template <class T>
std::optional<protocol::ErrorCode> refused(const StorageResult<T>& result) {
  if (result) return std::nullopt;
  return result.error().code;
}

std::vector<std::int64_t> seqs(const std::vector<Message>& messages) {
  std::vector<std::int64_t> out;
  for (const auto& m : messages) out.push_back(m.seq);
  return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  for (std::int64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

// ---- the contract, for every implementation

struct Backend {
  std::string name;
  // Opens a fresh, empty store. `dir` is the test's own folder; what else
  // the store needs for the test's duration (a database) goes in `keep`.
  std::function<std::unique_ptr<Storage>(const fs::path& dir, std::shared_ptr<void>& keep)> open;
};

void PrintTo(const Backend& backend, std::ostream* out) { *out << backend.name; }
std::string backend_name(const ::testing::TestParamInfo<Backend>& param) { return param.param.name; }

class StorageTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    try {
      storage_ = GetParam().open(dir_.path(), keep_);
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
  }
  void TearDown() override {
    storage_.reset();
    keep_.reset();
  }

  // Creates `room_id` and appends seqs 1..count.
  void fill(const std::string& room_id, std::int64_t count) {
    ASSERT_TRUE(ok(storage_->create_room(room(room_id), {})));
    for (std::int64_t seq = 1; seq <= count; ++seq) {
      ASSERT_FALSE(ok(storage_->append_message(message(room_id, seq))).duplicate);
    }
  }

  TempDir dir_;
  std::shared_ptr<void> keep_;
  std::unique_ptr<Storage> storage_;
};

TEST_P(StorageTest, CreatesAndLoadsRooms) {
  EXPECT_EQ(ok(storage_->load_room("lobby")), std::nullopt);
  EXPECT_EQ(storage_->room_count(), 0);
  RoomRecord lobby{"lobby", RoomKind::public_room, "e1", 0, 1234};
  EXPECT_TRUE(ok(storage_->create_room(lobby, {})));
  EXPECT_TRUE(ok(storage_->create_room(RoomRecord{"dm", RoomKind::direct, "e2", 0, 5678}, {})));

  RoomRecord other_lobby{"lobby", RoomKind::private_room, "e9", 0, 9999};
  EXPECT_FALSE(ok(storage_->create_room(other_lobby, {})));
  EXPECT_EQ(ok(storage_->load_room("lobby")), lobby);  // unchanged by the second create
  EXPECT_EQ(ok(storage_->load_room("dm")), (RoomRecord{"dm", RoomKind::direct, "e2", 0, 5678}));
  EXPECT_EQ(ok(storage_->load_room("Lobby")), std::nullopt);
  EXPECT_EQ(storage_->room_count(), 2);
}

TEST_P(StorageTest, CreatesARoomWithItsFirstMembersOrNothing) {
  ASSERT_TRUE(ok(storage_->create_room(room("dm"), {member("dm", "alice"), member("dm", "bob")})));
  EXPECT_EQ(ok(storage_->members("dm")), (std::vector<MemberRecord>{member("dm", "alice"), member("dm", "bob")}));
  // A second create changes nothing, members included.
  EXPECT_FALSE(ok(storage_->create_room(room("dm"), {member("dm", "mallory")})));
  EXPECT_EQ(ok(storage_->load_member("dm", "mallory")), std::nullopt);
  EXPECT_EQ(storage_->room_count(), 1);
}

TEST_P(StorageTest, AppendsGapFreeSeqsAndAdvancesHeadSeq) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  for (std::int64_t seq = 1; seq <= 3; ++seq) {
    auto appended = ok(storage_->append_message(message("r", seq)));
    EXPECT_FALSE(appended.duplicate);
    EXPECT_EQ(appended.message, message("r", seq));
    EXPECT_EQ(ok(storage_->load_room("r"))->head_seq, seq);
  }
  EXPECT_EQ(ok(storage_->messages_after("r", 0, 10)),
            (std::vector<Message>{message("r", 1), message("r", 2), message("r", 3)}));
}

TEST_P(StorageTest, MessagesAfterHonoursBoundariesAndLimits) {
  fill("r", 10);
  fill("other", 3);
  EXPECT_EQ(seqs(ok(storage_->messages_after("r", 0, 100))), range(1, 10));
  EXPECT_EQ(seqs(ok(storage_->messages_after("r", 0, 4))), range(1, 4));  // the oldest, ascending
  EXPECT_EQ(seqs(ok(storage_->messages_after("r", 4, 3))), range(5, 7));  // strictly after
  EXPECT_EQ(seqs(ok(storage_->messages_after("r", 9, 100))), range(10, 10));
  EXPECT_TRUE(ok(storage_->messages_after("r", 10, 100)).empty());
  EXPECT_TRUE(ok(storage_->messages_after("r", 50, 100)).empty());
  EXPECT_TRUE(ok(storage_->messages_after("r", 0, 0)).empty());
  EXPECT_EQ(seqs(ok(storage_->messages_after("r", -5, 2))), range(1, 2));
  for (const auto& m : ok(storage_->messages_after("other", 0, 100))) EXPECT_EQ(m.roomId, "other");
}

TEST_P(StorageTest, MessagesBeforeReturnsTheNewestPageAscending) {
  fill("r", 10);
  fill("other", 3);
  EXPECT_EQ(seqs(ok(storage_->messages_before("r", 11, 3))), range(8, 10));  // newest, ascending
  EXPECT_EQ(seqs(ok(storage_->messages_before("r", 8, 3))), range(5, 7));    // strictly before
  EXPECT_EQ(seqs(ok(storage_->messages_before("r", 3, 10))), range(1, 2));   // short last page
  EXPECT_EQ(seqs(ok(storage_->messages_before("r", 1000, 100))), range(1, 10));
  EXPECT_TRUE(ok(storage_->messages_before("r", 1, 10)).empty());
  EXPECT_TRUE(ok(storage_->messages_before("r", 5, 0)).empty());
  EXPECT_EQ(ok(storage_->messages_before("r", 3, 1)), std::vector<Message>{message("r", 2)});
}

TEST_P(StorageTest, EmptyAndUnknownRoomsHaveNoMessages) {
  ASSERT_TRUE(ok(storage_->create_room(room("empty"), {})));
  EXPECT_TRUE(ok(storage_->messages_after("empty", 0, 10)).empty());
  EXPECT_TRUE(ok(storage_->messages_before("empty", 100, 10)).empty());
  EXPECT_TRUE(ok(storage_->messages_after("nowhere", 0, 10)).empty());
  EXPECT_TRUE(ok(storage_->messages_before("nowhere", 100, 10)).empty());
  EXPECT_EQ(ok(storage_->load_room("empty"))->head_seq, 0);
}

TEST_P(StorageTest, DuplicateReturnsTheOriginalAndWritesNothing) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  ASSERT_TRUE(ok(storage_->create_room(room("elsewhere"), {})));
  Message original = message("r", 1, "alice", "c-1");
  ASSERT_FALSE(ok(storage_->append_message(original)).duplicate);

  // A retry: the caller assigned a new id, seq and time; the original wins.
  Message retry = message("r", 2, "alice", "c-1");
  retry.id = "m_retry";
  retry.content = "different";
  retry.createdAt = original.createdAt + 500;
  auto appended = ok(storage_->append_message(retry));
  EXPECT_TRUE(appended.duplicate);
  EXPECT_EQ(appended.message, original);
  EXPECT_EQ(appended.message.id, original.id);
  EXPECT_EQ(appended.message.seq, 1);
  EXPECT_EQ(appended.message.createdAt, original.createdAt);
  EXPECT_EQ(ok(storage_->load_room("r"))->head_seq, 1);
  EXPECT_EQ(storage_->message_count(), 1);

  // The key is (room, sender, clientMsgId): another room is another message,
  // never an answer about the first room's.
  auto elsewhere = ok(storage_->append_message(message("elsewhere", 1, "alice", "c-1")));
  EXPECT_FALSE(elsewhere.duplicate);
  EXPECT_EQ(elsewhere.message.roomId, "elsewhere");
  EXPECT_EQ(ok(storage_->load_room("elsewhere"))->head_seq, 1);
  EXPECT_EQ(ok(storage_->find_sent("elsewhere", "alice", "c-1")), message("elsewhere", 1, "alice", "c-1"));
  EXPECT_EQ(ok(storage_->find_sent("r", "alice", "c-1")), original);

  // Another sender may reuse the client id.
  auto bob = ok(storage_->append_message(message("r", 2, "bob", "c-1")));
  EXPECT_FALSE(bob.duplicate);
  EXPECT_EQ(bob.message.senderId, "bob");
  EXPECT_EQ(storage_->message_count(), 3);
}

TEST_P(StorageTest, PruningDeletesOldMessagesAndTheirDedupKeys) {
  fill("r", 10);
  fill("other", 3);
  EXPECT_EQ(ok(storage_->prune_messages("r", 8)), 7u);
  EXPECT_EQ(seqs(ok(storage_->messages_after("r", 0, 100))), range(8, 10));
  EXPECT_TRUE(ok(storage_->messages_before("r", 8, 10)).empty());
  EXPECT_EQ(storage_->message_count(), 6);
  EXPECT_EQ(ok(storage_->load_room("r"))->head_seq, 10) << "seq goes on from the head";
  EXPECT_EQ(ok(storage_->find_sent("r", "alice", "r-c3")), std::nullopt) << "the dedup key went with the message";
  EXPECT_EQ(ok(storage_->find_sent("r", "alice", "r-c9")), message("r", 9));
  EXPECT_EQ(seqs(ok(storage_->messages_after("other", 0, 100))), range(1, 3)) << "other rooms are untouched";
  EXPECT_EQ(ok(storage_->prune_messages("r", 8)), 0u);
  EXPECT_FALSE(ok(storage_->append_message(message("r", 11))).duplicate);
}

TEST_P(StorageTest, FindSentLooksUpTheDedupKey) {
  fill("r", 3);
  EXPECT_EQ(ok(storage_->find_sent("r", "alice", "r-c2")), message("r", 2));
  EXPECT_EQ(ok(storage_->find_sent("r", "bob", "r-c2")), std::nullopt);
  EXPECT_EQ(ok(storage_->find_sent("r", "alice", "r-c9")), std::nullopt);
}

TEST_P(StorageTest, WrongSeqOrUnknownRoomIsRefusedAndWritesNothing) {
  fill("r", 2);
  using protocol::ErrorCode;
  EXPECT_EQ(refused(storage_->append_message(message("r", 4))), ErrorCode::conflict);                    // a gap
  EXPECT_EQ(refused(storage_->append_message(message("r", 2, "alice", "fresh"))), ErrorCode::conflict);  // a repeat
  EXPECT_EQ(refused(storage_->append_message(message("r", 0, "alice", "fresh"))), ErrorCode::conflict);
  EXPECT_EQ(refused(storage_->append_message(message("nowhere", 1))), ErrorCode::not_found);
  EXPECT_EQ(ok(storage_->load_room("r"))->head_seq, 2);
  EXPECT_EQ(storage_->message_count(), 2);
  EXPECT_EQ(ok(storage_->find_sent("r", "alice", "r-c4")), std::nullopt);
  EXPECT_EQ(storage_->room_count(), 1);

  // The store is still usable after the refusals.
  EXPECT_FALSE(ok(storage_->append_message(message("r", 3))).duplicate);
  EXPECT_EQ(seqs(ok(storage_->messages_after("r", 0, 10))), range(1, 3));
}

TEST_P(StorageTest, PutsLoadsListsAndRemovesMembers) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  ASSERT_TRUE(ok(storage_->create_room(room("other"), {})));
  EXPECT_EQ(ok(storage_->load_member("r", "alice")), std::nullopt);
  EXPECT_TRUE(ok(storage_->members("r")).empty());

  done(storage_->put_member(member("r", "carol")));
  done(storage_->put_member(member("r", "alice", Role::owner)));
  done(storage_->put_member(member("r", "bob")));
  done(storage_->put_member(member("other", "alice")));
  EXPECT_EQ(ok(storage_->load_member("r", "alice")), member("r", "alice", Role::owner));
  EXPECT_EQ(ok(storage_->members("r")),
            (std::vector<MemberRecord>{member("r", "alice", Role::owner), member("r", "bob"), member("r", "carol")}));

  // put replaces the whole record.
  MemberRecord changed{"r", "bob", "Robert", Role::admin, 7, 9, 111, 222};
  done(storage_->put_member(changed));
  EXPECT_EQ(ok(storage_->load_member("r", "bob")), changed);
  EXPECT_EQ(ok(storage_->members("r")).size(), 3u);

  EXPECT_TRUE(ok(storage_->remove_member("r", "alice")));
  EXPECT_FALSE(ok(storage_->remove_member("r", "alice")));
  EXPECT_FALSE(ok(storage_->remove_member("nowhere", "alice")));
  EXPECT_EQ(ok(storage_->load_member("r", "alice")), std::nullopt);
  EXPECT_EQ(ok(storage_->load_member("other", "alice")), member("other", "alice"));
  EXPECT_EQ(ok(storage_->members("r")), (std::vector<MemberRecord>{changed, member("r", "carol")}));
}

TEST_P(StorageTest, PutMemberOfAnUnknownRoomIsNotFound) {
  auto status = storage_->put_member(member("nowhere", "alice"));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, protocol::ErrorCode::not_found);
  EXPECT_EQ(ok(storage_->load_member("nowhere", "alice")), std::nullopt);
}

TEST_P(StorageTest, WatermarksOnlyMoveForward) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  done(storage_->put_member(member("r", "alice")));

  EXPECT_EQ(ok(storage_->advance_watermark("r", "alice", Watermark::read, 5)), 5);
  EXPECT_EQ(ok(storage_->advance_watermark("r", "alice", Watermark::read, 3)), 5);
  EXPECT_EQ(ok(storage_->advance_watermark("r", "alice", Watermark::read, 5)), 5);
  EXPECT_EQ(ok(storage_->advance_watermark("r", "alice", Watermark::delivered, 2)), 2);
  EXPECT_EQ(ok(storage_->advance_watermark("r", "alice", Watermark::delivered, 8)), 8);
  EXPECT_EQ(ok(storage_->advance_watermark("r", "alice", Watermark::read, 6)), 6);

  auto alice = ok(storage_->load_member("r", "alice"));
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->read_seq, 6);
  EXPECT_EQ(alice->delivered_seq, 8);

  EXPECT_EQ(ok(storage_->advance_watermark("r", "bob", Watermark::read, 3)), std::nullopt);
  EXPECT_EQ(ok(storage_->advance_watermark("nowhere", "alice", Watermark::delivered, 3)), std::nullopt);
  EXPECT_EQ(ok(storage_->load_member("r", "bob")), std::nullopt);
}

TEST_P(StorageTest, TouchMemberSetsLastSeen) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  done(storage_->put_member(member("r", "alice")));
  done(storage_->touch_member("r", "alice", 987654));
  EXPECT_EQ(ok(storage_->load_member("r", "alice"))->last_seen, 987654);
  done(storage_->touch_member("r", "bob", 1));  // not a member: nothing to do
  EXPECT_EQ(ok(storage_->load_member("r", "bob")), std::nullopt);
}

TEST_P(StorageTest, OptionalFieldsRoundTripExactly) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  std::vector<Message> sent;

  sent.push_back(message("r", 1));  // nothing optional
  Message file = message("r", 2);
  file.type = "file";
  file.metadata = Metadata{"report.pdf", 123456, "application/pdf", "https://cdn.example/t.png", {}, {}, {}};
  sent.push_back(file);
  Message partial = message("r", 3);
  partial.type = "image";
  partial.metadata =
      Metadata{std::nullopt, 0, std::nullopt, "https://cdn.example/x.png", "/u/x.png", 640, 0};  // zero is not absent
  sent.push_back(partial);
  Message reply = message("r", 4);
  reply.replyTo = "m_r_1";
  reply.updatedAt = 1'700'000'999'999;
  reply.quote = Quote{"alice", "Name of alice", "message 1", std::nullopt};  // the original as it is
  sent.push_back(reply);
  Message empty_strings = message("r", 5);
  empty_strings.content = "";
  empty_strings.metadata = Metadata{"", std::nullopt, std::nullopt, std::nullopt, {}, {}, {}};
  sent.push_back(empty_strings);

  for (const auto& m : sent) EXPECT_EQ(ok(storage_->append_message(m)).message, m);

  // Metadata with no field set is stored, and returned, as no metadata.
  Message hollow = message("r", 6);
  hollow.metadata = Metadata{};
  EXPECT_FALSE(ok(storage_->append_message(hollow)).message.metadata.has_value());
  EXPECT_FALSE(ok(storage_->messages_after("r", 5, 1)).at(0).metadata.has_value());

  auto stored = ok(storage_->messages_after("r", 0, 5));
  ASSERT_EQ(stored.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(stored[i], sent[i]) << "seq " << sent[i].seq;
  EXPECT_FALSE(stored[0].metadata.has_value());
  EXPECT_FALSE(stored[0].replyTo.has_value());
  EXPECT_FALSE(stored[0].updatedAt.has_value());
  ASSERT_TRUE(stored[2].metadata.has_value());
  EXPECT_FALSE(stored[2].metadata->fileName.has_value());
  EXPECT_EQ(stored[2].metadata->fileSize, 0);
  EXPECT_EQ(ok(storage_->find_sent("r", "alice", "r-c4")), reply);
}

// ---- changes (storage/changes.hpp): each is a message with its own seq,
// applied to its target in the same transaction.

// A change message from `sender` at `seq` of `type` on `target`.
Message change(const std::string& room_id, std::int64_t seq, const std::string& sender, const std::string& type,
               const std::string& target, std::string content = "") {
  Message m = message(room_id, seq, sender);
  m.type = type;
  m.target = target;
  m.content = std::move(content);
  return m;
}

// Where a refused append points, or "" when it was stored.
template <class T>
std::string refused_path(const StorageResult<T>& result) {
  return result ? std::string() : result.error().path;
}

TEST_P(StorageTest, AnEditChangesItsTargetAndKeepsItsOwnPlace) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  ok(storage_->append_message(message("r", 1)));
  ok(storage_->append_message(message("r", 2, "bob")));
  Message edit = change("r", 3, "alice", "edit", "m_r_1", "fixed");
  EXPECT_EQ(ok(storage_->append_message(edit)).message, edit);
  EXPECT_EQ(ok(storage_->load_room("r"))->head_seq, 3);

  auto target = ok(storage_->load_message("r", "m_r_1"));
  ASSERT_TRUE(target);
  EXPECT_EQ(target->content, "fixed");
  EXPECT_EQ(target->updatedAt, edit.createdAt);
  EXPECT_EQ(target->seq, 1) << "the edited message keeps its place";
  // Replay carries the change in order; history pages only messages, as they are now.
  auto after = ok(storage_->messages_after("r", 0, 10));
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2], edit);
  EXPECT_EQ(after[0].content, "fixed");
  auto page = ok(storage_->messages_before("r", 4, 10));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].content, "fixed");
  EXPECT_EQ(page[1].id, "m_r_2");
  // A retried edit (same client message id) is the original, stored once.
  Message retried = edit;
  retried.seq = 4;
  auto again = ok(storage_->append_message(retried));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.message.seq, 3);
}

TEST_P(StorageTest, ADeleteLeavesATombstoneWithNothingOfTheContent) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  Message image = message("r", 1);
  image.type = "image";
  image.content = "the secret caption";
  image.metadata = Metadata{"secret.png", 10, "image/png", std::nullopt, "/u/secret.png", 4, 3};
  ok(storage_->append_message(image));
  ok(storage_->append_message(change("r", 2, "alice", "edit", "m_r_1", "the secret, edited")));
  ok(storage_->append_message(change("r", 3, "bob", "react", "m_r_1", "👍")));
  Message reply = message("r", 4, "bob");
  reply.replyTo = "m_r_1";
  EXPECT_EQ(ok(storage_->append_message(reply)).message.quote,
            (Quote{"alice", "Name of alice", "the secret, edited", {}}));
  ok(storage_->append_message(change("r", 5, "alice", "delete", "m_r_1")));

  auto tombstone = ok(storage_->load_message("r", "m_r_1"));
  ASSERT_TRUE(tombstone);
  EXPECT_EQ(tombstone->content, "");
  EXPECT_FALSE(tombstone->metadata);
  EXPECT_FALSE(tombstone->reactions);
  EXPECT_EQ(tombstone->deletedAt, 1'700'000'000'005);
  EXPECT_EQ(tombstone->seq, 1) << "it keeps its place";
  for (const auto& m : ok(storage_->messages_after("r", 0, 10))) {
    EXPECT_EQ(m.content.find("secret"), std::string::npos) << "seq " << m.seq << ": " << m.content;
    EXPECT_FALSE(m.metadata) << "seq " << m.seq;
  }
  auto answered = ok(storage_->load_message("r", "m_r_4"));
  EXPECT_EQ(answered->quote, (Quote{"alice", "Name of alice", "", true}));
  // A tombstone takes no more changes, and no replies.
  EXPECT_EQ(refused_path(storage_->append_message(change("r", 6, "alice", "edit", "m_r_1", "back"))),
            "/message/target");
  EXPECT_EQ(refused_path(storage_->append_message(change("r", 6, "bob", "react", "m_r_1", "👍"))), "/message/target");
  Message late_reply = message("r", 6, "bob");
  late_reply.replyTo = "m_r_1";
  EXPECT_EQ(refused_path(storage_->append_message(late_reply)), "/message/replyTo");
  EXPECT_EQ(ok(storage_->load_room("r"))->head_seq, 5) << "refusals write nothing";
  EXPECT_EQ(storage_->message_count(), 5);
}

TEST_P(StorageTest, ChangesAndRepliesMustReferToAMessageOfTheRoom) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  ASSERT_TRUE(ok(storage_->create_room(room("other"), {})));
  ok(storage_->append_message(message("r", 1)));
  ok(storage_->append_message(message("other", 1)));
  ok(storage_->append_message(change("r", 2, "alice", "edit", "m_r_1", "x")));
  for (const char* target : {"m_nowhere", "m_other_1", "m_r_2"}) {  // none, another room's, a change
    SCOPED_TRACE(target);
    auto result = storage_->append_message(change("r", 3, "alice", "edit", target, "y"));
    EXPECT_EQ(refused(result), protocol::ErrorCode::not_found);
    EXPECT_EQ(refused_path(result), "/message/target");
    Message reply = message("r", 3);
    reply.replyTo = target;
    EXPECT_EQ(refused_path(storage_->append_message(reply)), "/message/replyTo");
  }
  EXPECT_EQ(ok(storage_->load_room("r"))->head_seq, 2);
  EXPECT_FALSE(ok(storage_->load_message("r", "m_other_1")));
}

TEST_P(StorageTest, ReactionsFromSeveralUsersConverge) {
  ASSERT_TRUE(ok(storage_->create_room(room("r"), {})));
  ok(storage_->append_message(message("r", 1)));
  std::int64_t seq = 1;
  auto toggle = [&](const std::string& user, const std::string& type, const std::string& emoji) {
    return storage_->append_message(change("r", ++seq, user, type, "m_r_1", emoji));
  };
  ASSERT_TRUE(toggle("alice", "react", "👍"));
  ASSERT_TRUE(toggle("bob", "react", "👍"));
  ASSERT_TRUE(toggle("bob", "react", "🎉"));
  ASSERT_TRUE(toggle("alice", "react", "👍")) << "reacting twice is no error, and counts once";
  ASSERT_TRUE(toggle("carol", "unreact", "👍")) << "nor is taking back what was never given";
  ASSERT_TRUE(toggle("alice", "unreact", "👍"));
  EXPECT_EQ(ok(storage_->load_message("r", "m_r_1"))->reactions,
            (std::vector<Reaction>{{"👍", 1, {"bob"}}, {"🎉", 1, {"bob"}}}));
  ASSERT_TRUE(toggle("bob", "unreact", "👍"));
  ASSERT_TRUE(toggle("bob", "unreact", "🎉"));
  EXPECT_FALSE(ok(storage_->load_message("r", "m_r_1"))->reactions) << "none left: no list";

  // At most kMaxReactionsPerMessage different emoji; more users on one are fine.
  const std::string emoji[] = {"😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆",    "😉",    "😊",   "😋",
                               "😎", "😍", "😘", "🥰", "😗", "😙", "😚", "🙂", "🤗", "🤩"};
  static_assert(std::size(emoji) == protocol::kMaxReactionsPerMessage + 1);
  for (std::size_t i = 0; i < protocol::kMaxReactionsPerMessage; ++i) ASSERT_TRUE(toggle("alice", "react", emoji[i]));
  auto too_many = toggle("alice", "react", emoji[protocol::kMaxReactionsPerMessage]);
  EXPECT_EQ(refused(too_many), protocol::ErrorCode::too_large);
  EXPECT_EQ(refused_path(too_many), "/message/content");
  --seq;  // nothing was stored
  for (int user = 0; user < 120; ++user) ASSERT_TRUE(toggle("u" + std::to_string(user), "react", emoji[0]));
  auto listed = ok(storage_->load_message("r", "m_r_1"))->reactions;
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), protocol::kMaxReactionsPerMessage);
  EXPECT_EQ(listed->front().count, 121) << "counts stay exact";
  EXPECT_EQ(listed->front().userIds.size(), protocol::kMaxListedReactors) << "the first reactors are listed";
  EXPECT_EQ(listed->front().userIds.front(), "alice");
  // The 121st reactor's unreact finds them although they are not listed.
  ASSERT_TRUE(toggle("u119", "unreact", emoji[0]));
  EXPECT_EQ(ok(storage_->load_message("r", "m_r_1"))->reactions->front().count, 120);
}

TEST_P(StorageTest, UnicodeContentRoundTrips) {
  ASSERT_TRUE(ok(storage_->create_room(room("salon-été"), {})));
  Message m = message("salon-été", 1, "zoë");
  m.senderName = "Zoë 🦊";
  m.content = "héllo wörld — 你好, мир 👋🏽 \"quoted\" 'single' \\ \n\ttabs";
  m.clientMsgId = "c-🦊";
  EXPECT_FALSE(ok(storage_->append_message(m)).duplicate);
  EXPECT_EQ(ok(storage_->messages_after("salon-été", 0, 1)), std::vector<Message>{m});
  EXPECT_EQ(ok(storage_->find_sent("salon-été", "zoë", "c-🦊")), m);
}

TEST_P(StorageTest, CountsRoomsAndMessages) {
  EXPECT_EQ(storage_->room_count(), 0);
  EXPECT_EQ(storage_->message_count(), 0);
  fill("a", 4);
  fill("b", 3);
  ASSERT_TRUE(ok(storage_->create_room(room("c"), {})));
  EXPECT_EQ(storage_->room_count(), 3);
  EXPECT_EQ(storage_->message_count(), 7);
}

TEST_P(StorageTest, ConcurrentAppendsToDifferentRoomsStayGapFree) {
  constexpr int kThreads = 4;
  constexpr std::int64_t kPerRoom = 150;
  for (int t = 0; t < kThreads; ++t) ASSERT_TRUE(ok(storage_->create_room(room("room" + std::to_string(t)), {})));

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Each room is serialised by its own thread, as the hub does with its lock.
    threads.emplace_back([&, t] {
      std::string id = "room" + std::to_string(t);
      try {
        for (std::int64_t seq = 1; seq <= kPerRoom; ++seq) {
          auto head = ok(storage_->load_room(id))->head_seq;
          if (ok(storage_->append_message(message(id, head + 1, "user" + std::to_string(t)))).duplicate) ++failures;
          ok(storage_->messages_before(id, head + 2, 5));  // reads interleave with the other rooms' writes
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(failures.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    std::string id = "room" + std::to_string(t);
    EXPECT_EQ(ok(storage_->load_room(id))->head_seq, kPerRoom);
    auto stored = ok(storage_->messages_after(id, 0, 1000));
    EXPECT_EQ(seqs(stored), range(1, kPerRoom)) << id;
    for (const auto& m : stored) EXPECT_EQ(m.senderId, "user" + std::to_string(t));
  }
  EXPECT_EQ(storage_->message_count(), kThreads * kPerRoom);
}

// Overlapping appends share transactions (group commit) where the backend
// has them: each still gets its own answer, refusals included, and a
// refused one takes nothing of the others with it.
TEST_P(StorageTest, OverlappingAppendsEachGetTheirOwnAnswer) {
  constexpr int kThreads = 8;
  constexpr std::int64_t kPerRoom = 40;
  for (int t = 0; t < kThreads; ++t) ASSERT_TRUE(ok(storage_->create_room(room("g" + std::to_string(t)), {})));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string id = "g" + std::to_string(t);
      std::string sender = "user" + std::to_string(t);
      try {
        for (std::int64_t seq = 1; seq <= kPerRoom; ++seq) {
          auto appended = ok(storage_->append_message(message(id, seq, sender)));
          if (appended.duplicate || appended.message.seq != seq) ++wrong;
          // A resend of the message before: the original, nothing written.
          auto again = ok(storage_->append_message(message(id, seq + 1, sender, id + "-c" + std::to_string(seq))));
          if (!again.duplicate || again.message.seq != seq) ++wrong;
          // A stale seq: conflict, nothing written.
          if (refused(storage_->append_message(message(id, seq, sender, id + "-stale" + std::to_string(seq)))) !=
              protocol::ErrorCode::conflict) {
            ++wrong;
          }
        }
      } catch (const std::exception&) {
        ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  for (int t = 0; t < kThreads; ++t) {
    std::string id = "g" + std::to_string(t);
    EXPECT_EQ(seqs(ok(storage_->messages_after(id, 0, 1000))), range(1, kPerRoom)) << id;
  }
  EXPECT_EQ(storage_->message_count(), kThreads * kPerRoom);
}

TEST_P(StorageTest, CountsRoomsByTenantPrefix) {
  for (const char* id : {"lobby", "acme/lobby", "acme/board", "acme_x/lobby", "acme-2/lobby"}) {
    ASSERT_TRUE(ok(storage_->create_room(RoomRecord{id, RoomKind::public_room, "e", 0, 1}, {})));
  }
  EXPECT_EQ(ok(storage_->count_rooms("")), 1) << "the default tenant's: no '/'";
  EXPECT_EQ(ok(storage_->count_rooms("acme/")), 2);
  EXPECT_EQ(ok(storage_->count_rooms("acme_x/")), 1) << "'_' is no wildcard";
  EXPECT_EQ(ok(storage_->count_rooms("acme-2/")), 1);
  EXPECT_EQ(ok(storage_->count_rooms("globex/")), 0);
}

// Group commit on its own, with a commit that the test holds: appends that
// arrive while a commit is under way share the next one, each with its own
// result.
TEST(GroupCommit, AppendsThatArriveDuringACommitShareTheNextEachWithItsOwnResult) {
  std::mutex mutex;
  std::condition_variable changed;
  bool release_first = false;
  std::vector<std::size_t> sizes;
  GroupCommit group([&](const std::vector<const protocol::Message*>& batch) {
    std::unique_lock lock(mutex);
    sizes.push_back(batch.size());
    changed.notify_all();
    if (sizes.size() == 1) changed.wait(lock, [&] { return release_first; });
    std::vector<StorageResult<Storage::Appended>> out;
    for (const protocol::Message* m : batch) {
      if (m->content == "refused") {
        out.emplace_back(protocol::Error{protocol::ErrorCode::conflict, "stale seq", ""});
      } else {
        out.emplace_back(Storage::Appended{*m, false});
      }
    }
    return out;
  });
  auto msg = [](const std::string& room, std::int64_t seq, const std::string& sender, const std::string& id,
                const std::string& content) {
    Message m = message(room, seq, sender, id);
    m.content = content;
    return m;
  };
  auto wait_until = [&](auto done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    return done();
  };
  std::optional<StorageResult<Storage::Appended>> first, second, third;
  std::thread a([&] { first = group.append(msg("a", 1, "alice", "c_first0001", "first")); });
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(mutex);
    return sizes.size() == 1;
  })) << "the first commit never started";
  std::thread b([&] { second = group.append(msg("b", 1, "bob", "c_second001", "second")); });
  std::thread c([&] { third = group.append(msg("c", 1, "carol", "c_third0001", "refused")); });
  ASSERT_TRUE(wait_until([&] { return group.queued() == 2; })) << "the later appends did not queue";
  {
    std::lock_guard lock(mutex);
    release_first = true;
  }
  changed.notify_all();
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 2})) << "the two that waited went in one commit";
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(first->value().message.content, "first");
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(second->value().message.content, "second");
  ASSERT_TRUE(third && !*third);
  EXPECT_EQ(third->error().code, protocol::ErrorCode::conflict) << "a refused append fails alone";
  GroupCommit::Stats stats = group.stats();
  EXPECT_EQ(stats.commits, 2u);
  EXPECT_EQ(stats.appends, 3u);
  EXPECT_EQ(stats.largest, 2u);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, StorageTest,
    ::testing::Values(Backend{"Memory", [](const fs::path&, std::shared_ptr<void>&) { return make_memory_storage(); }},
                      Backend{"Sqlite",
                              [](const fs::path& dir, std::shared_ptr<void>&) {
                                return open_sqlite_storage((dir / "data").string());
                              }},
                      Backend{"Postgres",
                              [](const fs::path&, std::shared_ptr<void>& keep) {
                                auto database = std::make_shared<test::PostgresDatabase>();
                                keep = database;
                                return open_postgres_storage(database->url());
                              }}),
    backend_name);

// ---- what the reopen and migration tests expect to find again

void write_sample(Storage& storage) {
  ASSERT_TRUE(ok(storage.create_room(RoomRecord{"lobby", RoomKind::public_room, "e-lobby", 0, 1111}, {})));
  ASSERT_TRUE(ok(storage.create_room(RoomRecord{"dm", RoomKind::direct, "e-dm", 0, 2222}, {})));
  for (std::int64_t seq = 1; seq <= 5; ++seq) ASSERT_FALSE(ok(storage.append_message(message("lobby", seq))).duplicate);
  Message with_extras = message("dm", 1, "bob");
  with_extras.metadata = Metadata{"a.png", 42, "image/png", std::nullopt, {}, {}, {}};
  with_extras.updatedAt = 77;
  ASSERT_FALSE(ok(storage.append_message(with_extras)).duplicate);
  done(storage.put_member(member("lobby", "alice", Role::owner)));
  done(storage.put_member(member("lobby", "bob")));
  ASSERT_EQ(ok(storage.advance_watermark("lobby", "alice", Watermark::read, 4)), 4);
  ASSERT_EQ(ok(storage.advance_watermark("lobby", "alice", Watermark::delivered, 5)), 5);
}

void expect_sample(Storage& storage) {
  EXPECT_EQ(storage.room_count(), 2);
  EXPECT_EQ(storage.message_count(), 6);
  EXPECT_EQ(ok(storage.load_room("lobby")), (RoomRecord{"lobby", RoomKind::public_room, "e-lobby", 5, 1111}));
  EXPECT_EQ(ok(storage.load_room("dm")), (RoomRecord{"dm", RoomKind::direct, "e-dm", 1, 2222}));
  EXPECT_EQ(ok(storage.messages_after("lobby", 0, 10)),
            (std::vector<Message>{message("lobby", 1), message("lobby", 2), message("lobby", 3), message("lobby", 4),
                                  message("lobby", 5)}));
  auto dm = ok(storage.messages_after("dm", 0, 10));
  ASSERT_EQ(dm.size(), 1u);
  EXPECT_EQ(dm[0].metadata, (Metadata{"a.png", 42, "image/png", std::nullopt, {}, {}, {}}));
  EXPECT_EQ(dm[0].updatedAt, 77);

  MemberRecord alice = member("lobby", "alice", Role::owner);
  alice.read_seq = 4;
  alice.delivered_seq = 5;
  EXPECT_EQ(ok(storage.members("lobby")), (std::vector<MemberRecord>{alice, member("lobby", "bob")}));

  // The dedup key is still known, and appends carry on from head_seq.
  auto retry = ok(storage.append_message(message("lobby", 6, "alice", "lobby-c3")));
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.message, message("lobby", 3));
  EXPECT_EQ(refused(storage.append_message(message("lobby", 5, "alice", "fresh"))), protocol::ErrorCode::conflict);
  EXPECT_FALSE(ok(storage.append_message(message("lobby", 6))).duplicate);
}

// ---- SQLite only

class SqliteStorageTest : public ::testing::Test {
 protected:
  std::string data_dir() const { return (dir_.path() / "data").string(); }
  std::string db_path() const { return (dir_.path() / "data" / "parley.db").string(); }

  // Reads one integer through a connection of the test's own.
  std::int64_t query_int(const std::string& sql) const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::int64_t value = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  TempDir dir_;
};

TEST_F(SqliteStorageTest, CreatesTheFolderAndAVersionedSchemaInWalMode) {
  ASSERT_FALSE(fs::exists(data_dir()));
  auto storage = open_sqlite_storage(data_dir());
  EXPECT_TRUE(fs::is_regular_file(db_path()));
  EXPECT_EQ(query_int("PRAGMA user_version"), 3);
  EXPECT_EQ(query_int("SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
  EXPECT_EQ(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                      "('rooms', 'members', 'messages')"),
            3);
  EXPECT_EQ(query_int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'messages_dedup'"), 1);
}

// A room kind or role this version does not know (a newer parleyd's file, or
// a damaged one) is a storage failure for the requests that meet it, never a
// guess, and the rest of the file is still served.
TEST_F(SqliteStorageTest, AnUnknownStoredKindOrRoleIsAStorageFailureNotAGuess) {
  {
    auto storage = open_sqlite_storage(data_dir());
    write_sample(*storage);
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "UPDATE rooms SET kind = 'broadcast' WHERE id = 'dm';"
                           "UPDATE members SET role = 'moderator' WHERE user_id = 'bob';",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto storage = open_sqlite_storage(data_dir());
  auto room = storage->load_room("dm");
  ASSERT_FALSE(room);
  EXPECT_EQ(room.error().code, protocol::ErrorCode::internal);
  EXPECT_NE(room.error().message.find("unknown room kind 'broadcast'"), std::string::npos) << room.error().message;
  auto bob = storage->load_member("lobby", "bob");
  ASSERT_FALSE(bob);
  EXPECT_NE(bob.error().message.find("unknown role 'moderator'"), std::string::npos) << bob.error().message;
  EXPECT_EQ(ok(storage->load_room("lobby")).value().kind, RoomKind::public_room) << "the rest is served";
  EXPECT_EQ(ok(storage->load_member("lobby", "alice")).value().role, Role::owner);
}

TEST_F(SqliteStorageTest, EverythingSurvivesCloseAndReopen) {
  {
    auto storage = open_sqlite_storage(data_dir());
    write_sample(*storage);
  }
  auto storage = open_sqlite_storage(data_dir());
  expect_sample(*storage);
}

TEST_F(SqliteStorageTest, EverythingSurvivesAProcessThatDiesWithoutClosing) {
  pid_t child = ::fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    // No destructor, no checkpoint: what is committed must already be safe.
    try {
      auto storage = open_sqlite_storage(data_dir());
      write_sample(*storage);
      storage.release();
      ::_exit(::testing::Test::HasFailure() ? 2 : 0);
    } catch (...) {
      ::_exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::exists(db_path() + "-wal"));  // the child really left without a clean close
  auto storage = open_sqlite_storage(data_dir());
  expect_sample(*storage);
}

TEST_F(SqliteStorageTest, FlushCheckpointsTheWal) {
  auto storage = open_sqlite_storage(data_dir());
  write_sample(*storage);
  ASSERT_GT(fs::file_size(db_path() + "-wal"), 0u);
  done(storage->flush());
  EXPECT_EQ(fs::file_size(db_path() + "-wal"), 0u);
  EXPECT_EQ(storage->message_count(), 6);
}

TEST_F(SqliteStorageTest, ThrowsAClearErrorForAnUnusableFolder) {
  fs::path file = dir_.path() / "not-a-folder";
  std::ofstream(file) << "x";
  std::string bad = (file / "data").string();
  try {
    open_sqlite_storage(bad);
    FAIL() << "opened a database under a regular file";
  } catch (const std::runtime_error& error) {
    std::string what = error.what();
    EXPECT_NE(what.find(bad), std::string::npos) << what;
    EXPECT_NE(what.find("data directory"), std::string::npos) << what;
  }
  EXPECT_THROW(open_sqlite_storage(""), std::runtime_error);
}

TEST_F(SqliteStorageTest, RefusesASchemaFromANewerVersion) {
  open_sqlite_storage(data_dir()).reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 4", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  try {
    open_sqlite_storage(data_dir());
    FAIL() << "opened a schema version 4 database";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("schema version 4"), std::string::npos) << error.what();
  }
}

// Turns a database of this version into what version 2 wrote: no columns
// for changes, tombstones, reactions and attachment URLs, no indexes by id.
constexpr const char* kBackToVersion2 =
    "DROP INDEX messages_target; DROP INDEX messages_id; ALTER TABLE messages DROP COLUMN target; "
    "ALTER TABLE messages DROP COLUMN deleted_at; ALTER TABLE messages DROP COLUMN reactions; "
    "ALTER TABLE messages DROP COLUMN url; ALTER TABLE messages DROP COLUMN width; "
    "ALTER TABLE messages DROP COLUMN height; PRAGMA user_version = 2";

TEST_F(SqliteStorageTest, MigratesAVersion2DatabaseAndChangesItsMessages) {
  {
    auto storage = open_sqlite_storage(data_dir());
    write_sample(*storage);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kBackToVersion2, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto storage = open_sqlite_storage(data_dir());
  EXPECT_EQ(query_int("PRAGMA user_version"), 3);
  expect_sample(*storage);
  // A message stored by version 2 can be edited, reacted to and answered.
  Message edit = change("lobby", 7, "alice", "edit", "m_lobby_1", "edited");  // expect_sample stored seq 6
  ASSERT_FALSE(ok(storage->append_message(edit)).duplicate);
  EXPECT_EQ(ok(storage->load_message("lobby", "m_lobby_1"))->content, "edited");
}

TEST_F(SqliteStorageTest, MigratesAVersion1DatabaseToPerRoomDedupKeys) {
  // A version 1 database: the dedup key without the room.
  {
    auto storage = open_sqlite_storage(data_dir());
    write_sample(*storage);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kBackToVersion2, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP INDEX messages_dedup; CREATE UNIQUE INDEX messages_dedup ON messages (sender_id, "
                         "client_msg_id); PRAGMA user_version = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  auto storage = open_sqlite_storage(data_dir());
  EXPECT_EQ(query_int("PRAGMA user_version"), 3);
  EXPECT_EQ(query_int("SELECT count(*) FROM pragma_index_info('messages_dedup')"), 3) << "room, sender, client id";
  expect_sample(*storage);
  // The same client id in another room is another message now.
  EXPECT_FALSE(ok(storage->append_message(message("dm", 2, "alice", "lobby-c3"))).duplicate);
}

// The checkpointer keeps the WAL bounded under writes that never pause,
// without the writer ever running a checkpoint itself.
TEST_F(SqliteStorageTest, CheckpointsOffTheWriterKeepTheWalBounded) {
  fs::create_directories(data_dir());
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(db_path().c_str(), &writer), SQLITE_OK);
  sqlite3_busy_timeout(writer, 5000);  // as parleyd's connection has
  ASSERT_EQ(sqlite3_exec(writer,
                         "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                         "CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  constexpr int kCheckpointPages = 100;
  constexpr int kRestartPages = 400;
  std::uintmax_t largest_wal = 0;
  SqliteCheckpointer::Stats stats;
  {
    SqliteCheckpointer checkpointer(writer, db_path(), kCheckpointPages, kRestartPages);
    sqlite3_stmt* insert = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(writer, "INSERT INTO t (body) VALUES (?1)", -1, &insert, nullptr), SQLITE_OK);
    std::string body(900, 'x');
    for (int i = 0; i < 6000; ++i) {  // one transaction each, as parleyd commits messages
      sqlite3_bind_text(insert, 1, body.c_str(), static_cast<int>(body.size()), SQLITE_STATIC);
      ASSERT_EQ(sqlite3_step(insert), SQLITE_DONE) << sqlite3_errmsg(writer);
      sqlite3_reset(insert);
      if (i % 100 == 0) largest_wal = std::max(largest_wal, fs::file_size(db_path() + "-wal"));
    }
    sqlite3_finalize(insert);
    stats = checkpointer.stats();
  }
  EXPECT_GT(stats.beside, 0) << "checkpoints ran beside the writer";
  EXPECT_GT(stats.inline_, 0) << "and the writer started the WAL over";
  // Without a restart 6000 commits leave about 9000 pages of WAL (36.6 MB,
  // measured). With them it stays within twice kRestartPages and the
  // commits of one checkpoint (about 3.5 MB), however busy the machine: the
  // hook waits for a checkpoint of the thread's that keeps its own out.
  // (Before it did, 11-18 MB in a third of the runs beside other suites.)
  EXPECT_LT(largest_wal, 9'000'000u) << stats.beside << " beside, " << stats.inline_ << " inline";
  sqlite3_stmt* count = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(writer, "SELECT count(*) FROM t", -1, &count, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(count), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(count, 0), 6000) << "nothing lost";
  sqlite3_finalize(count);
  sqlite3_close(writer);
}

// ---- PostgreSQL only

class PostgresStorageTest : public test::WithPostgresDatabase {
 protected:
  std::unique_ptr<Storage> open(std::size_t pool_size = kDefaultPostgresPoolSize) const {
    return open_postgres_storage(database_->url(), pool_size);
  }
  // The message open_postgres_storage throws for `url` ("" if it opens).
  static std::string open_error(const std::string& url) {
    try {
      open_postgres_storage(url);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
  // The dedup constraint's columns, in order.
  std::string dedup_columns() const {
    return database_->query(
        "SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_constraint c "
        "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum WHERE c.conname = 'messages_dedup'");
  }
};

TEST_F(PostgresStorageTest, CreatesAVersionedSchemaInAnEmptyDatabase) {
  auto storage = open();
  EXPECT_EQ(database_->query("SELECT version FROM parley_schema_version"), "3");
  EXPECT_EQ(database_->query("SELECT count(*) FROM pg_tables WHERE tablename IN ('rooms', 'members', 'messages')"),
            "3");
  EXPECT_EQ(dedup_columns(), "room_id,sender_id,client_msg_id") << "the dedup key is a UNIQUE constraint";
  // Opening again changes nothing.
  storage.reset();
  storage = open();
  EXPECT_EQ(database_->query("SELECT count(*) FROM parley_schema_version"), "1");
}

TEST_F(PostgresStorageTest, NodesStartingTogetherOnAnEmptyDatabaseTakeTurnsAtTheSchema) {
  constexpr int kNodes = 4;
  std::vector<std::string> errors(kNodes);
  std::vector<std::thread> nodes;
  for (int i = 0; i < kNodes; ++i) {
    nodes.emplace_back([&, i] {
      try {
        open();
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(i)] = e.what();
      }
    });
  }
  for (auto& node : nodes) node.join();
  for (const auto& error : errors) EXPECT_EQ(error, "");
  EXPECT_EQ(database_->query("SELECT version FROM parley_schema_version"), "3");
}

TEST_F(PostgresStorageTest, EverythingSurvivesCloseAndReopen) {
  {
    auto storage = open();
    write_sample(*storage);
  }
  auto storage = open();
  expect_sample(*storage);
}

// Turns a database of this version into what version 2 wrote.
constexpr const char* kPostgresBackToVersion2 =
    "DROP INDEX messages_target; DROP INDEX messages_id; ALTER TABLE messages DROP COLUMN target, "
    "DROP COLUMN deleted_at, DROP COLUMN reactions, DROP COLUMN url, DROP COLUMN width, DROP COLUMN height; "
    "UPDATE parley_schema_version SET version = 2";

TEST_F(PostgresStorageTest, MigratesAVersion2DatabaseAndChangesItsMessages) {
  {
    auto storage = open();
    write_sample(*storage);
  }
  database_->exec(kPostgresBackToVersion2);
  auto storage = open();
  EXPECT_EQ(database_->query("SELECT version FROM parley_schema_version"), "3");
  expect_sample(*storage);
  Message edit = change("lobby", 7, "alice", "edit", "m_lobby_1", "edited");  // expect_sample stored seq 6
  ASSERT_FALSE(ok(storage->append_message(edit)).duplicate);
  EXPECT_EQ(ok(storage->load_message("lobby", "m_lobby_1"))->content, "edited");
}

TEST_F(PostgresStorageTest, MigratesAVersion1DatabaseToPerRoomDedupKeys) {
  {
    auto storage = open();
    write_sample(*storage);
  }
  // A version 1 database: no columns of version 3, the dedup key without the room.
  database_->exec(kPostgresBackToVersion2);
  database_->exec(
      "ALTER TABLE messages DROP CONSTRAINT messages_dedup, "
      "ADD CONSTRAINT messages_dedup UNIQUE (sender_id, client_msg_id); "
      "UPDATE parley_schema_version SET version = 1");
  ASSERT_EQ(dedup_columns(), "sender_id,client_msg_id");

  auto storage = open();
  EXPECT_EQ(database_->query("SELECT version FROM parley_schema_version"), "3");
  EXPECT_EQ(dedup_columns(), "room_id,sender_id,client_msg_id");
  expect_sample(*storage);
  // The same client id in another room is another message now.
  EXPECT_FALSE(ok(storage->append_message(message("dm", 2, "alice", "lobby-c3"))).duplicate);
}

TEST_F(PostgresStorageTest, RefusesASchemaFromANewerVersion) {
  open().reset();
  database_->exec("UPDATE parley_schema_version SET version = 4");
  std::string error = open_error(database_->url());
  EXPECT_NE(error.find("schema version 4"), std::string::npos) << error;
  EXPECT_NE(error.find("knows version 3"), std::string::npos) << error;
  EXPECT_EQ(database_->query("SELECT version FROM parley_schema_version"), "4") << "left as it was";
}

// Two parleyd on one database: two Storage objects, each appending to the
// same room from its own thread the way the hub does (the seq after the head
// it knows, and on `conflict` the head read again). Every message is stored
// once, and the room's seqs are 1..N without a gap or a repeat.
TEST_F(PostgresStorageTest, TwoNodesAppendingToOneRoomKeepItsSeqGapFree) {
  auto first = open();
  auto second = open();
  ASSERT_TRUE(ok(first->create_room(room("r"), {})));
  constexpr int kPerNode = 150;
  std::atomic<int> conflicts{0};
  std::atomic<int> failures{0};
  auto node = [&](Storage& storage, const std::string& sender) {
    std::int64_t head = ok(storage.load_room("r"))->head_seq;
    for (int i = 0; i < kPerNode; ++i) {
      for (;;) {
        auto appended = storage.append_message(message("r", head + 1, sender, sender + "-" + std::to_string(i)));
        if (appended) {
          head = appended.value().message.seq;
          if (appended.value().duplicate) ++failures;
          break;
        }
        if (appended.error().code != protocol::ErrorCode::conflict) {
          ++failures;
          ADD_FAILURE() << appended.error().message;
          return;
        }
        ++conflicts;
        head = ok(storage.load_room("r"))->head_seq;
      }
    }
  };
  std::thread a(node, std::ref(*first), "alice");
  std::thread b(node, std::ref(*second), "bob");
  a.join();
  b.join();

  EXPECT_EQ(failures.load(), 0);
  auto stored = ok(first->messages_after("r", 0, 1000));
  EXPECT_EQ(seqs(stored), range(1, 2 * kPerNode));
  std::set<std::string> keys;
  for (const auto& m : stored) keys.insert(m.senderId + "/" + m.clientMsgId);
  EXPECT_EQ(keys.size(), 2u * kPerNode) << "each message once";
  EXPECT_EQ(ok(second->load_room("r"))->head_seq, 2 * kPerNode);
  std::cout << "[          ] " << conflicts.load() << " conflicts retried\n";
}

// Two nodes whose group commits batch the same rooms in opposite orders: the
// rows are locked in the rooms' order, so no batch waits on another in a
// cycle (PostgreSQL would abort one after deadlock_timeout, failing every
// send in it as `internal`; bench/repro-pg-deadlock.mjs found it).
TEST_F(PostgresStorageTest, NodesBatchingTheSameRoomsInOppositeOrdersNeverDeadlock) {
  std::vector<std::unique_ptr<Storage>> nodes;
  nodes.push_back(open());
  nodes.push_back(open());
  constexpr int kRooms = 6;
  for (int r = 0; r < kRooms; ++r) ASSERT_TRUE(ok(nodes[0]->create_room(room("r" + std::to_string(r)), {})));
  constexpr int kThreads = 4;
  constexpr int kRounds = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 2; ++n) {
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, n, t] {
        Storage& storage = *nodes[static_cast<std::size_t>(n)];
        std::string sender = "n" + std::to_string(n) + "t" + std::to_string(t);
        for (int k = 0; k < kRounds * kRooms; ++k) {
          int r = (t + k) % kRooms;
          std::string id = "r" + std::to_string(n == 0 ? r : kRooms - 1 - r);
          for (;;) {
            std::int64_t head = ok(storage.load_room(id))->head_seq;
            auto appended = storage.append_message(message(id, head + 1, sender, sender + "-" + std::to_string(k)));
            if (appended) break;
            if (appended.error().code == protocol::ErrorCode::conflict) continue;
            ++failures;
            ADD_FAILURE() << appended.error().message;
            return;
          }
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  std::int64_t total = 0;
  for (int r = 0; r < kRooms; ++r) total += ok(nodes[0]->load_room("r" + std::to_string(r)))->head_seq;
  EXPECT_EQ(total, 2 * kThreads * kRounds * kRooms);
}

// Both nodes retry the same messages (one client's sends reaching both):
// each dedup key is stored once, both nodes are answered with that one
// message, and the seqs stay gap-free.
TEST_F(PostgresStorageTest, TwoNodesStoringTheSameMessagesStoreEachOnce) {
  auto first = open();
  auto second = open();
  ASSERT_TRUE(ok(first->create_room(room("r"), {})));
  constexpr int kMessages = 100;
  std::vector<std::vector<Message>> answers(2, std::vector<Message>(kMessages));
  auto node = [&](Storage& storage, std::size_t which) {
    for (int i = 0; i < kMessages; ++i) {
      for (;;) {
        std::int64_t head = ok(storage.load_room("r"))->head_seq;
        Message m = message("r", head + 1, "alice", "c-" + std::to_string(i));
        m.id = "m_node" + std::to_string(which) + "_" + std::to_string(i);
        auto appended = storage.append_message(m);
        if (appended) {
          answers[which][static_cast<std::size_t>(i)] = appended.value().message;
          break;
        }
        if (appended.error().code != protocol::ErrorCode::conflict) {
          ADD_FAILURE() << appended.error().message;
          return;
        }
      }
    }
  };
  std::thread a(node, std::ref(*first), 0);
  std::thread b(node, std::ref(*second), 1);
  a.join();
  b.join();

  auto stored = ok(first->messages_after("r", 0, 1000));
  EXPECT_EQ(seqs(stored), range(1, kMessages));
  for (int i = 0; i < kMessages; ++i) {
    auto index = static_cast<std::size_t>(i);
    EXPECT_EQ(answers[0][index], answers[1][index]) << "both nodes answer with the stored message " << i;
    EXPECT_EQ(ok(first->find_sent("r", "alice", "c-" + std::to_string(i))), answers[0][index]);
  }
}

TEST_F(PostgresStorageTest, ManyThreadsShareAPoolOfOneConnection) {
  auto storage = open(1);
  constexpr int kThreads = 4;
  for (int t = 0; t < kThreads; ++t) ASSERT_TRUE(ok(storage->create_room(room("room" + std::to_string(t)), {})));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string id = "room" + std::to_string(t);
      for (std::int64_t seq = 1; seq <= 30; ++seq) {
        EXPECT_FALSE(ok(storage->append_message(message(id, seq))).duplicate);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ok(storage->load_room("room" + std::to_string(t)))->head_seq, 30);
  EXPECT_EQ(storage->message_count(), kThreads * 30);
}

// A server that goes away: the calls made while it is down come back as
// error values (nothing throws, nothing hangs), and once it is back the next
// call connects again and succeeds.
TEST_F(PostgresStorageTest, CallsDuringAnOutageFailAsValuesAndLaterCallsReconnect) {
  auto storage = open(2);
  ASSERT_TRUE(ok(storage->create_room(room("r"), {})));
  ASSERT_FALSE(ok(storage->append_message(message("r", 1))).duplicate);
  auto& cluster = test::PostgresCluster::instance();
  cluster.stop();
  auto during = storage->load_room("r");
  auto append_during = storage->append_message(message("r", 2));
  auto status_during = storage->touch_member("r", "alice", 5);
  cluster.start();
  ASSERT_FALSE(during);
  EXPECT_EQ(during.error().code, protocol::ErrorCode::internal);
  EXPECT_NE(during.error().message.find("postgres storage: load_room"), std::string::npos) << during.error().message;
  ASSERT_FALSE(append_during);
  EXPECT_EQ(append_during.error().code, protocol::ErrorCode::internal);
  EXPECT_TRUE(status_during.has_value());

  EXPECT_EQ(ok(storage->load_room("r"))->head_seq, 1) << "the append during the outage wrote nothing";
  EXPECT_FALSE(ok(storage->append_message(message("r", 2))).duplicate);
  EXPECT_EQ(seqs(ok(storage->messages_after("r", 0, 10))), range(1, 2));
}

// A restart between two calls: the pooled connections the server closed are
// replaced before use, so not even the first call after it fails.
TEST_F(PostgresStorageTest, ConnectionsTheServerClosedAreReplacedBeforeUse) {
  auto storage = open(3);
  ASSERT_TRUE(ok(storage->create_room(room("r"), {})));
  // Open the whole pool: three calls at once.
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back([&] { ok(storage->messages_after("r", 0, 10)); });
  for (auto& thread : threads) thread.join();
  auto& cluster = test::PostgresCluster::instance();
  cluster.stop();
  cluster.start();
  for (std::int64_t seq = 1; seq <= 5; ++seq) EXPECT_FALSE(ok(storage->append_message(message("r", seq))).duplicate);
  EXPECT_EQ(ok(storage->load_room("r"))->head_seq, 5);
}

TEST_F(PostgresStorageTest, AnUnknownStoredKindOrRoleIsAStorageFailureNotAGuess) {
  auto storage = open();
  write_sample(*storage);
  database_->exec(
      "UPDATE rooms SET kind = 'broadcast' WHERE id = 'dm'; UPDATE members SET role = 'moderator' "
      "WHERE user_id = 'bob'");
  auto dm = storage->load_room("dm");
  ASSERT_FALSE(dm);
  EXPECT_EQ(dm.error().code, protocol::ErrorCode::internal);
  EXPECT_NE(dm.error().message.find("unknown room kind 'broadcast'"), std::string::npos) << dm.error().message;
  auto bob = storage->load_member("lobby", "bob");
  ASSERT_FALSE(bob);
  EXPECT_NE(bob.error().message.find("unknown role 'moderator'"), std::string::npos) << bob.error().message;
  EXPECT_EQ(ok(storage->load_room("lobby")).value().kind, RoomKind::public_room) << "the rest is served";
  EXPECT_EQ(ok(storage->load_member("lobby", "alice")).value().role, Role::owner);
}

// PostgreSQL's text cannot hold U+0000 (SQLite's can): such a message is a
// storage error that writes nothing, not a message silently cut short.
TEST_F(PostgresStorageTest, ANulCharacterIsRefusedAndWritesNothing) {
  auto storage = open();
  ASSERT_TRUE(ok(storage->create_room(room("r"), {})));
  Message m = message("r", 1);
  m.content = std::string("before\0after", 12);
  auto appended = storage->append_message(m);
  ASSERT_FALSE(appended);
  EXPECT_EQ(appended.error().code, protocol::ErrorCode::internal);
  EXPECT_NE(appended.error().message.find("NUL"), std::string::npos) << appended.error().message;
  EXPECT_EQ(ok(storage->load_room("r"))->head_seq, 0);
  EXPECT_EQ(storage->message_count(), 0);
  EXPECT_FALSE(ok(storage->append_message(message("r", 1))).duplicate);
}

// Connection failures say what failed, with the URL's password replaced by
// *** wherever it could have shown.
TEST_F(PostgresStorageTest, ClearErrorsThatNeverShowThePassword) {
  auto& cluster = test::PostgresCluster::instance();
  const std::string secret = "s3cret-Passw0rd";

  std::string unreachable = open_error("postgresql://parley:" + secret + "@/nowhere?host=/nonexistent-dir&port=5");
  EXPECT_NE(unreachable.find("cannot connect to postgresql://parley:***@/nowhere"), std::string::npos) << unreachable;
  EXPECT_NE(unreachable.find("/nonexistent-dir"), std::string::npos) << unreachable;

  std::string bad_parameter = open_error("postgresql://parley:" + secret + "@/db?colour=blue");
  EXPECT_NE(bad_parameter.find("invalid URI query parameter"), std::string::npos) << bad_parameter;
  std::string bad_escape = open_error("postgresql://parley:" + secret + "%zz@/db");
  EXPECT_NE(bad_escape.find("percent-encoded"), std::string::npos) << bad_escape;
  std::string in_query = open_error("postgresql:///db?user=parley&password=" + secret + "&host=/nonexistent-dir");
  EXPECT_NE(in_query.find("password=***"), std::string::npos) << in_query;

  std::string wrong_password = open_error(cluster.url(database_->name(), test::PostgresCluster::kPasswordUser, secret));
  EXPECT_NE(wrong_password.find("password authentication failed"), std::string::npos) << wrong_password;

  std::string missing_database = open_error(cluster.url("no_such_database"));
  EXPECT_NE(missing_database.find("no_such_database"), std::string::npos) << missing_database;

  for (const auto& error : {unreachable, bad_parameter, bad_escape, in_query, wrong_password}) {
    EXPECT_EQ(error.find(secret), std::string::npos) << error;
    EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  }
  // The right password opens it.
  database_->exec(std::string("GRANT ALL ON SCHEMA public TO ") + test::PostgresCluster::kPasswordUser);
  auto storage = open_postgres_storage(
      cluster.url(database_->name(), test::PostgresCluster::kPasswordUser, test::PostgresCluster::kPassword));
  EXPECT_TRUE(ok(storage->create_room(room("r"), {})));
}

TEST(PostgresUrl, PasswordsAreRedactedWhereverAUrlHoldsThem) {
  EXPECT_EQ(redact_url_password("postgres://u:pw@host:5432/db"), "postgres://u:***@host:5432/db");
  EXPECT_EQ(redact_url_password("postgresql://u@host/db"), "postgresql://u@host/db");
  EXPECT_EQ(redact_url_password("postgresql://host/db?sslmode=require&password=pw&x=1"),
            "postgresql://host/db?sslmode=require&password=***&x=1");
  EXPECT_EQ(redact_url_password("postgresql://u:p/w@h1,h2/db"), "postgresql://u:***@h1,h2/db")
      << "an unencoded / in the password";
  EXPECT_EQ(redact_url_password("mysql://u:pw@h/db"), "mysql://u:***@h/db") << "any scheme";
  EXPECT_EQ(redact_url_password("cannot connect to postgres://a:b@h/d: refused"),
            "cannot connect to postgres://a:***@h/d: refused");
  EXPECT_EQ(redact_url_password("sqlite"), "sqlite");
  EXPECT_TRUE(is_postgres_url("postgres://"));
  EXPECT_TRUE(is_postgres_url("postgresql://h/db"));
  EXPECT_FALSE(is_postgres_url("postgres"));
  EXPECT_FALSE(is_postgres_url("postgresq://h"));
  EXPECT_EQ(check_postgres_url("postgresql://u:pw@h:5432/db?sslmode=require"), std::nullopt);
  EXPECT_NE(check_postgres_url("postgresql://h/db?nonsense=1"), std::nullopt);
}

}  // namespace
}  // namespace parley::server
