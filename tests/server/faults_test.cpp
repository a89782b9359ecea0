// Faults outside parleyd's control, on a real SQLite file: a full disk, a
// database held by another process, and a SIGKILL in the middle of a burst of
// writes. Each test says what the client sees, and shows that nothing
// acknowledged is lost.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "support/parleyd_process.hpp"
#include "support/test_client.hpp"
#include "support/ws_client.hpp"

namespace parley::test {
namespace {

namespace fs = std::filesystem;

std::string send_frame(const std::string& ref, const std::string& room, const std::string& client_msg_id,
                       const std::string& content) {
  return R"({"type":"send","ref":")" + ref + R"(","roomId":")" + room + R"(","clientMsgId":")" + client_msg_id +
         R"(","message":{"type":"text","content":")" + content + R"("}})";
}

// Every message of a room, oldest first, read through history pages.
std::vector<Json> all_messages(TestClient& client, const std::string& room) {
  std::vector<Json> out;
  std::int64_t before = client.join(room)["headSeq"].GetInt64() + 1;
  while (before > 1) {
    Json page = client.request(R"({"type":"history","ref":"h","roomId":")" + room + R"(","limit":100,"beforeSeq":)" +
                                   std::to_string(before) + "}",
                               "h");
    if (!page.IsObject() || !page.HasMember("messages") || page["messages"].Empty()) break;
    std::vector<Json> chunk;
    for (const auto& m : page["messages"].GetArray()) {
      Json copy;
      copy.CopyFrom(m, copy.GetAllocator());
      chunk.push_back(std::move(copy));
    }
    before = chunk.front()["seq"].GetInt64();
    out.insert(out.begin(), std::make_move_iterator(chunk.begin()), std::make_move_iterator(chunk.end()));
  }
  return out;
}

// Asserts that the room holds exactly seqs 1..n, each client id once, and
// every acknowledged message with the id and seq its ack gave.
void expect_nothing_acknowledged_lost(TestClient& reader, const std::string& room,
                                      const std::map<std::string, std::pair<std::string, std::int64_t>>& acked) {
  auto stored = all_messages(reader, room);
  std::map<std::string, std::pair<std::string, std::int64_t>> by_client_id;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i]["seq"].GetInt64(), static_cast<std::int64_t>(i + 1)) << "seqs are gap-free";
    bool fresh = by_client_id
                     .emplace(stored[i]["clientMsgId"].GetString(),
                              std::pair{std::string(stored[i]["id"].GetString()), stored[i]["seq"].GetInt64()})
                     .second;
    EXPECT_TRUE(fresh) << "stored twice: " << stored[i]["clientMsgId"].GetString();
  }
  for (const auto& [client_id, id_seq] : acked) {
    auto it = by_client_id.find(client_id);
    ASSERT_NE(it, by_client_id.end()) << "acknowledged and lost: " << client_id;
    EXPECT_EQ(it->second, id_seq) << client_id << " was acknowledged with another id or seq";
  }
}

// A tmpfs of `size` mounted on a fresh folder for the test's data: a disk
// that can be filled and freed. Needs root (CI runs as root).
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    if (::geteuid() != 0) {
      error_ = "mounting a small filesystem needs root";
      return;
    }
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0) {
      error_ = std::string("mount tmpfs: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  const std::string& error() const { return error_; }
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }

  // Writes a file until the disk is full; returns its size.
  std::uintmax_t fill() {
    std::FILE* f = std::fopen(path("filler").c_str(), "wb");
    if (!f) return 0;
    std::string chunk(4096, 'f');
    std::uintmax_t written = 0;
    while (std::fwrite(chunk.data(), 1, chunk.size(), f) == chunk.size() && std::fflush(f) == 0) {
      written += chunk.size();
    }
    std::fclose(f);
    return written;
  }
  void free() { fs::remove(path("filler")); }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

TEST(Faults, AFullDiskAnswersInternalThenRecoversAndLosesNothingAcknowledged) {
  SmallDisk disk("6m");
  if (!disk.error().empty()) GTEST_SKIP() << disk.error();
  std::string data = disk.path("data");
  std::map<std::string, std::pair<std::string, std::int64_t>> acked;
  {
    ParleydProcess server({"--data-dir", data});
    TestClient alice(server.port(), "alice");
    TestClient bob(server.port(), "bob");
    alice.join("lobby");
    bob.join("lobby");
    std::string content(1500, 'x');
    for (int i = 0; i < 5; ++i) {
      Json ack = alice.send_text("lobby", cmid("before", i), content);
      ASSERT_EQ(str(ack, "type"), "ack");
      acked[cmid("before", i)] = {str(ack["message"], "id"), ack["message"]["seq"].GetInt64()};
    }

    ASSERT_GT(disk.fill(), 0u);
    // Sends go on until one needs space the disk no longer has.
    std::string failed_id;
    for (int i = 0; i < 3000 && failed_id.empty(); ++i) {
      Json answer = alice.send_text("lobby", cmid("full", i), content);
      if (str(answer, "type") == "ack") {
        acked[cmid("full", i)] = {str(answer["message"], "id"), answer["message"]["seq"].GetInt64()};
        continue;
      }
      ASSERT_EQ(str(answer, "code"), "internal") << str(answer, "message");
      ASSERT_TRUE(answer.HasMember("retryAfterMs")) << "the client is told when to try again";
      EXPECT_GT(answer["retryAfterMs"].GetInt64(), 0);
      failed_id = cmid("full", i);
    }
    ASSERT_FALSE(failed_id.empty()) << "the disk never filled up";

    // The rest of the server goes on: other connections, reads, metrics.
    EXPECT_EQ(str(bob.request(R"({"type":"ping","ref":"p"})", "p"), "type"), "pong");
    EXPECT_GT(all_messages(bob, "lobby").size(), 0u);
    TestClient carol(server.port(), "carol");
    EXPECT_EQ(str(carol.request(R"({"type":"ping","ref":"p"})", "p"), "type"), "pong");
    EXPECT_GE(metric_now(server.port(), "parley_errors_total{code=\"internal\"}"), 1);
    EXPECT_TRUE(server.running());

    // Space returns: the same send goes through, once.
    disk.free();
    Json retried = alice.send_text("lobby", failed_id, content);
    ASSERT_EQ(str(retried, "type"), "ack") << str(retried, "message");
    acked[failed_id] = {str(retried["message"], "id"), retried["message"]["seq"].GetInt64()};
    Json again = alice.send_text("lobby", failed_id, content);
    EXPECT_EQ(str(again["message"], "id"), acked[failed_id].first) << "deduplicated";
    expect_nothing_acknowledged_lost(bob, "lobby", acked);
    EXPECT_EQ(server.stop(), 0) << "a clean exit after the fault";
  }
  // And after a restart, from the file.
  ParleydProcess restarted({"--data-dir", data});
  TestClient reader(restarted.port(), "reader");
  expect_nothing_acknowledged_lost(reader, "lobby", acked);
}

TEST(Faults, AStalledDatabaseStallsOnlyTheRequestsThatWaitForIt) {
  // One I/O thread: before the storage threads, alice's send blocked it, and
  // every other connection of the process with it.
  TempDir dir;
  ParleydProcess server({"--storage", "sqlite", "--data-dir", dir.path(), "--threads", "1", "--storage-threads", "2"});
  TestClient alice(server.port(), "alice");
  TestClient bob(server.port(), "bob");
  ASSERT_EQ(str(alice.join("lobby"), "type"), "joined");
  ASSERT_EQ(str(bob.join("lobby"), "type"), "joined");

  // Another process takes the database's write lock and keeps it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/parley.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  alice.send(send_frame("stuck", "lobby", "c_stuck0001", "waits for the lock"));

  // Meanwhile the same I/O thread serves bob (a ping answered by the session,
  // on its own lane), new connections and /healthz.
  Json pong = bob.request(R"({"type":"ping","ref":"p"})", "p");
  EXPECT_EQ(str(pong, "type"), "pong") << "a stalled database stalled another connection";
  TestClient carol(server.port(), "carol");
  EXPECT_EQ(http_get(server.port(), "/healthz").substr(0, 3), "200");

  ASSERT_EQ(sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Json ack = alice.answer("stuck");
  ASSERT_EQ(str(ack, "type"), "ack") << "the send goes through once the lock is gone";
  EXPECT_EQ(ack["message"]["seq"].GetInt64(), 1);
  EXPECT_EQ(seq_of(bob.next("message")), 1);
}

TEST(Faults, SigkillDuringABurstLosesNothingAcknowledged) {
  TempDir data;
  constexpr int kBurst = 300;
  std::map<std::string, std::pair<std::string, std::int64_t>> acked;
  std::string closed_how;
  {
    ParleydProcess server(
        {"--data-dir", data.path(), "--rate-messages", "100000/100000", "--user-rate-messages", "100000/100000"});
    TestClient alice(server.port(), "alice");
    alice.join("lobby");
    // The whole burst in flight, then the kill once a third is acknowledged.
    for (int i = 0; i < kBurst; ++i) alice.send(send_frame("s" + std::to_string(i), "lobby", cmid("b", i), "burst"));
    auto take_ack = [&](const Json& f) {
      if (str(f, "type") == "ack" && f.HasMember("message")) {
        acked[str(f["message"], "clientMsgId")] = {str(f["message"], "id"), f["message"]["seq"].GetInt64()};
      }
    };
    while (acked.size() < kBurst / 3) {
      Json f = alice.next("ack");
      ASSERT_TRUE(f.IsObject()) << "acks stopped before the kill";
      take_ack(f);
    }
    server.kill_hard();
    // Whatever acks were already on their way still count: the client saw them.
    for (Json f = alice.next("ack", std::chrono::seconds(2)); f.IsObject(); f = alice.next("ack")) take_ack(f);
    ASSERT_TRUE(alice.closed());
    EXPECT_EQ(alice.closed()->code, 1006) << "the client sees the connection drop, without a close frame";
  }
  ParleydProcess restarted(
      {"--data-dir", data.path(), "--rate-messages", "100000/100000", "--user-rate-messages", "100000/100000"});
  TestClient reader(restarted.port(), "reader");
  expect_nothing_acknowledged_lost(reader, "lobby", acked);

  // The client's outbox sends everything again: each message lands exactly once.
  TestClient alice(restarted.port(), "alice");
  alice.join("lobby");
  for (int i = 0; i < kBurst; ++i) {
    Json ack = alice.send_text("lobby", cmid("b", i), "burst");
    ASSERT_EQ(str(ack, "type"), "ack");
    auto it = acked.find(cmid("b", i));
    if (it != acked.end()) {
      EXPECT_EQ(str(ack["message"], "id"), it->second.first) << "the original, not a copy";
    }
  }
  auto stored = all_messages(reader, "lobby");
  EXPECT_EQ(stored.size(), static_cast<std::size_t>(kBurst));
}

}  // namespace
}  // namespace parley::test
