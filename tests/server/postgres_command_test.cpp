// parleyd on PostgreSQL, run as a user runs it: --storage with a URL serves
// clients and keeps their history across a restart; a bad URL or a database
// it cannot reach stops it at start with one line that never shows the
// password; and `parleyd migrate` moves a SQLite store into PostgreSQL so
// that history, seqs, receipts and dedup carry on as they were. On a
// throw-away cluster of the binary's own (support/postgres_cluster.hpp).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/storage.hpp"
#include "support/parleyd_process.hpp"
#include "support/postgres_cluster.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

using protocol::Message;
using protocol::Metadata;
using server::MemberRecord;
using server::Role;
using server::RoomKind;
using server::RoomRecord;
using server::Storage;
using server::Watermark;

constexpr const char* kSecret = "s3cret-Passw0rd";

using Outcome = ParleydOutcome;
const auto run = run_parleyd;

std::string shell_quoted(const std::string& text) { return "'" + text + "'"; }

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// The URL of `database` with kSecret as its password: local connections are
// trusted, so it connects all the same, and the tests can look for it.
std::string url_with_secret(const PostgresDatabase& database) {
  return PostgresCluster::instance().url(database.name(), "parley", kSecret);
}

using PostgresCommandTest = WithPostgresDatabase;

TEST_F(PostgresCommandTest, ParleydServesFromPostgresAndKeepsHistoryAcrossARestart) {
  std::string url = url_with_secret(*database_);
  std::int64_t first_seq = 0;
  {
    ParleydProcess server({"--storage", url, "--storage-pool-size", "2"});
    EXPECT_NE(server.log().find("storage=\"postgresql://parley:***@/" + database_->name()), std::string::npos)
        << server.log();
    TestClient alice(server.port(), "alice");
    alice.join("lobby");
    Json ack = alice.send_text("lobby", "c_alice0001", "hello from postgres");
    ASSERT_EQ(str(ack, "type"), "ack") << server.log();
    first_seq = ack["message"]["seq"].GetInt64();
    EXPECT_EQ(first_seq, 1);
    EXPECT_EQ(server.log().find(kSecret), std::string::npos) << "the password was logged";
  }
  EXPECT_EQ(database_->query("SELECT content FROM messages WHERE seq = 1"), "hello from postgres");

  // The variable works as the flag does; the history is there, the dedup
  // key too, and seq carries on.
  ParleydProcess server({"--jwt-secret", ParleydProcess::kSecret}, SpawnOptions{{"PARLEY_STORAGE=" + url}, {}});
  TestClient alice(server.port(), "alice");
  Json joined = alice.join("lobby");
  ASSERT_TRUE(joined.IsObject()) << server.log();
  EXPECT_EQ(seqs(joined["messages"]), range(1, 1)) << server.log();
  Json resent = alice.send_text("lobby", "c_alice0001", "hello from postgres");
  EXPECT_EQ(resent["message"]["seq"].GetInt64(), first_seq) << "a resend is answered with the original";
  EXPECT_EQ(alice.send_text("lobby", "c_alice0002", "and more")["message"]["seq"].GetInt64(), 2);
  EXPECT_EQ(database_->query("SELECT count(*) FROM messages"), "2");
  EXPECT_EQ(server.log().find(kSecret), std::string::npos) << "the password was logged";
}

TEST_F(PostgresCommandTest, ABadUrlOrAnUnreachableDatabaseStopsParleydWithOneLine) {
  // A secret long enough that parleyd has nothing to warn about: the error is its only line.
  const std::string secret_arg = " --jwt-secret 0123456789abcdef0123456789abcdef --port 0 ";
  // Refused as a bad value, before anything starts (exit 2).
  Outcome bad = run(
      "", secret_arg + "--storage " + shell_quoted("postgresql://parley:" + std::string(kSecret) + "@/db?colour=blue"));
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_EQ(bad.output.rfind("parleyd: bad value for --storage: postgresql://parley:***@/db?colour=blue: ", 0), 0u)
      << bad.output;
  EXPECT_NE(bad.output.find("invalid URI query parameter"), std::string::npos) << bad.output;

  Outcome typo =
      run("", secret_arg + "--storage " + shell_quoted("postgress://parley:" + std::string(kSecret) + "@h/db"));
  EXPECT_EQ(typo.exit_code, 2) << typo.output;
  EXPECT_NE(typo.output.find("postgress://parley:***@h/db"), std::string::npos) << typo.output;

  Outcome pool = run("", secret_arg + "--storage " + shell_quoted(database_->url()) + " --storage-pool-size 0");
  EXPECT_EQ(pool.exit_code, 2) << pool.output;
  EXPECT_NE(pool.output.find("bad value for --storage-pool-size: 0: at least 1"), std::string::npos) << pool.output;

  // A server that is not there: parleyd cannot start (exit 1), in one line.
  Outcome unreachable = run(
      "PARLEY_STORAGE=" + shell_quoted("postgresql://parley:" + std::string(kSecret) + "@/db?host=/nonexistent-dir"),
      secret_arg);
  EXPECT_EQ(unreachable.exit_code, 1) << unreachable.output;
  EXPECT_EQ(lines(unreachable.output), 1u) << unreachable.output;
  EXPECT_NE(unreachable.output.find("msg=\"cannot start\""), std::string::npos) << unreachable.output;
  EXPECT_NE(unreachable.output.find("cannot connect to postgresql://parley:***@/db?host=/nonexistent-dir"),
            std::string::npos)
      << unreachable.output;

  // A database that is there but refuses the password.
  Outcome refused = run("", secret_arg + "--storage " +
                                shell_quoted(PostgresCluster::instance().url(database_->name(),
                                                                             PostgresCluster::kPasswordUser, kSecret)));
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_EQ(lines(refused.output), 1u) << refused.output;
  EXPECT_NE(refused.output.find("password authentication failed"), std::string::npos) << refused.output;

  for (const auto* outcome : {&bad, &typo, &unreachable, &refused}) {
    EXPECT_EQ(outcome->output.find(kSecret), std::string::npos) << outcome->output;
  }
}

// ---- parleyd migrate

Message message(const std::string& room_id, std::int64_t seq, const std::string& sender, const std::string& content) {
  Message m;
  m.id = "m_" + room_id + "_" + std::to_string(seq);
  m.roomId = room_id;
  m.senderId = sender;
  m.senderName = "Name of " + sender;
  m.clientMsgId = "c_" + room_id + "_" + std::to_string(seq);
  m.seq = seq;
  m.content = content;
  m.createdAt = 1'700'000'000'000 + seq;
  return m;
}

template <class T>
T ok(server::StorageResult<T> result) {
  if (!result) {
    ADD_FAILURE() << "storage failed: " << result.error().message;
    return T{};
  }
  return std::move(result).value();
}

template <class T>
std::optional<protocol::ErrorCode> refused(const server::StorageResult<T>& result) {
  if (result) return std::nullopt;
  return result.error().code;
}

// A SQLite store with what a migration must carry: every room kind, roles,
// watermarks and last-seen times, every optional message field, text that
// COPY must escape, and a room whose oldest messages were pruned (so its
// seqs start above 1, and the pruned messages' dedup keys are gone).
void fill_sqlite(Storage& s) {
  ASSERT_TRUE(ok(s.create_room(RoomRecord{"lobby", RoomKind::public_room, "e-lobby", 0, 1111},
                               {MemberRecord{"lobby", "alice", "Alice", Role::owner, 0, 0, 100, 200},
                                MemberRecord{"lobby", "bob", "Bob\tthe builder", Role::admin, 0, 0, 101, 201}})));
  ASSERT_TRUE(ok(s.create_room(RoomRecord{"plans", RoomKind::private_room, "e-plans", 0, 2222},
                               {MemberRecord{"plans", "alice", "Alice", Role::owner, 0, 0, 300, 400}})));
  ASSERT_TRUE(ok(s.create_room(RoomRecord{"dm:alice:bob", RoomKind::direct, "e-dm", 0, 3333}, {})));
  ASSERT_TRUE(ok(s.create_room(RoomRecord{"empty", RoomKind::public_room, "e-empty", 0, 4444}, {})));

  std::vector<std::string> contents = {
      "plain", "tab\there", "line\nbreak\r\n", "back\\slash \\N \\.", "héllo 👋🏽 你好", ""};
  for (std::size_t i = 0; i < contents.size(); ++i) {
    auto seq = static_cast<std::int64_t>(i) + 1;
    ASSERT_FALSE(ok(s.append_message(message("lobby", seq, i % 2 ? "bob" : "alice", contents[i]))).duplicate);
  }
  Message file = message("dm:alice:bob", 1, "alice", "https://cdn.example/report.pdf");
  file.type = "file";
  file.metadata = Metadata{"report.pdf", 123456, "application/pdf", "https://cdn.example/t.png", {}, {}, {}};
  ASSERT_FALSE(ok(s.append_message(file)).duplicate);
  Message reply = message("dm:alice:bob", 2, "bob", "edited reply");
  reply.replyTo = "m_dm:alice:bob_1";
  reply.updatedAt = 1'700'000'999'999;
  reply.metadata = Metadata{std::nullopt, 0, std::nullopt, std::nullopt, {}, {}, {}};
  ASSERT_FALSE(ok(s.append_message(reply)).duplicate);
  for (std::int64_t seq = 1; seq <= 10; ++seq) {
    ASSERT_FALSE(ok(s.append_message(message("plans", seq, "alice", "plan " + std::to_string(seq)))).duplicate);
  }
  ASSERT_EQ(ok(s.prune_messages("plans", 8)), 7u);

  ASSERT_TRUE(ok(s.advance_watermark("lobby", "alice", Watermark::read, 4)));
  ASSERT_TRUE(ok(s.advance_watermark("lobby", "alice", Watermark::delivered, 6)));
  ASSERT_TRUE(ok(s.advance_watermark("lobby", "bob", Watermark::read, 2)));
  ASSERT_FALSE(s.touch_member("lobby", "bob", 987654));
}

const std::vector<std::string> kRooms = {"lobby", "plans", "dm:alice:bob", "empty"};

// Everything the migrated store must answer as the SQLite one does.
void expect_same(Storage& from, Storage& to) {
  EXPECT_EQ(to.room_count(), from.room_count());
  EXPECT_EQ(to.message_count(), from.message_count());
  for (const auto& id : kRooms) {
    SCOPED_TRACE(id);
    EXPECT_EQ(ok(to.load_room(id)), ok(from.load_room(id)));
    EXPECT_EQ(ok(to.members(id)), ok(from.members(id)));
    auto messages = ok(from.messages_after(id, 0, 1000));
    EXPECT_EQ(ok(to.messages_after(id, 0, 1000)), messages);
    EXPECT_EQ(ok(to.messages_before(id, 1000, 3)), ok(from.messages_before(id, 1000, 3)));
    for (const auto& m : messages) EXPECT_EQ(ok(to.find_sent(id, m.senderId, m.clientMsgId)), m);
  }
}

std::string migrate(const std::string& from_dir, const std::string& url, int expected_exit) {
  Outcome r = run("", "migrate --from " + shell_quoted("sqlite:" + from_dir) + " --to " + shell_quoted(url));
  EXPECT_EQ(r.exit_code, expected_exit) << r.output;
  EXPECT_EQ(r.output.find(kSecret), std::string::npos) << "the password was printed: " << r.output;
  return r.output;
}

TEST_F(PostgresCommandTest, MigrateCopiesASqliteStoreSoThatEverythingCarriesOn) {
  TempDir dir;
  std::string url = url_with_secret(*database_);
  auto sqlite = server::open_sqlite_storage(dir.path());
  fill_sqlite(*sqlite);
  ASSERT_FALSE(testing::Test::HasFailure());

  std::string output = migrate(dir.path(), url, 0);
  EXPECT_NE(output.find("copied 4 rooms, 3 members and 11 messages"), std::string::npos) << output;
  EXPECT_NE(output.find("to postgresql://parley:***@/" + database_->name()), std::string::npos) << output;

  auto postgres = server::open_postgres_storage(url);
  expect_same(*sqlite, *postgres);
  MemberRecord bob = ok(postgres->load_member("lobby", "bob")).value();
  EXPECT_EQ(bob.role, Role::admin);
  EXPECT_EQ(bob.read_seq, 2);
  EXPECT_EQ(bob.last_seen, 987654);

  // Dedup: a resend of an old clientMsgId is answered with the original, as
  // SQLite would; a pruned message's key is gone on both.
  Message resend = message("lobby", 7, "bob", "again");
  resend.clientMsgId = "c_lobby_2";
  auto again = ok(postgres->append_message(resend));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.message, ok(sqlite->append_message(resend)).message);
  EXPECT_EQ(ok(postgres->find_sent("plans", "alice", "c_plans_3")), std::nullopt);
  // seq carries on from each room's head.
  Message stale = message("plans", 10, "alice", "x");
  stale.clientMsgId = "c_stale_plan";
  EXPECT_EQ(refused(postgres->append_message(stale)), protocol::ErrorCode::conflict);
  EXPECT_FALSE(ok(postgres->append_message(message("plans", 11, "alice", "after the move"))).duplicate);
  EXPECT_FALSE(ok(postgres->append_message(message("empty", 1, "alice", "first"))).duplicate);
  postgres.reset();

  // Again into the same database: refused, and nothing changes.
  std::string twice = migrate(dir.path(), url, 1);
  EXPECT_NE(twice.find("already holds rooms"), std::string::npos) << twice;
  EXPECT_EQ(database_->query("SELECT count(*) FROM messages"), "13");

  // parleyd on the migrated database: the history, and a resend answered
  // with the original.
  sqlite.reset();
  ParleydProcess server({"--storage", url});
  TestClient bob_client(server.port(), "bob");
  Json joined = bob_client.join("lobby");
  ASSERT_TRUE(joined.IsObject()) << server.log();
  EXPECT_EQ(seqs(joined["messages"]), range(1, 6)) << server.log();
  Json resent = bob_client.send_text("lobby", "c_lobby_4", "back\\\\slash");
  EXPECT_EQ(resent["message"]["seq"].GetInt64(), 4);
  EXPECT_EQ(str(resent["message"], "content"), "back\\slash \\N \\.");
  EXPECT_EQ(bob_client.send_text("lobby", "c_bob_new01", "new")["message"]["seq"].GetInt64(), 7);
}

TEST_F(PostgresCommandTest, MigrateRefusesWhatItCannotDoWithoutPrintingThePassword) {
  TempDir dir;
  std::string url = url_with_secret(*database_);
  std::string missing = migrate(dir.path() + "/nothing-here", url, 1);
  EXPECT_NE(missing.find("no SQLite store at " + dir.path() + "/nothing-here/parley.db"), std::string::npos) << missing;

  server::open_sqlite_storage(dir.path()).reset();
  std::string unreachable =
      migrate(dir.path(), "postgresql://parley:" + std::string(kSecret) + "@/db?host=/nonexistent-dir", 1);
  EXPECT_NE(unreachable.find("cannot connect to postgresql://parley:***@/db"), std::string::npos) << unreachable;

  // The command line.
  for (const auto& [args, expected] : std::vector<std::pair<std::string, std::string>>{
           {"migrate --to " + shell_quoted(url), "both --from sqlite:<data dir> and --to postgres://... are needed"},
           {"migrate --from " + shell_quoted(dir.path()) + " --to " + shell_quoted(url),
            "--from takes sqlite:<data dir>"},
           {"migrate --from sqlite:x --to " + shell_quoted("postgresql://u:" + std::string(kSecret) + "@h/db?colour=1"),
            "bad value for --to: postgresql://u:***@h/db?colour=1"},
           {"migrate --from sqlite:x --to", "missing value for --to"},
           {"migrate --frm sqlite:x", "unknown option --frm"},
       }) {
    Outcome r = run("", args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("parleyd migrate: " + expected), std::string::npos) << args << "\n" << r.output;
    EXPECT_EQ(r.output.find(kSecret), std::string::npos) << r.output;
  }
  Outcome help = run("", "migrate --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("usage: parleyd migrate --from sqlite:<data dir> --to postgres://"), std::string::npos)
      << help.output;
  EXPECT_EQ(database_->query("SELECT to_regclass('rooms') IS NULL"), "t") << "nothing was created";
}

}  // namespace
}  // namespace parley::test
