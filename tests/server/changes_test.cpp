// Edits, deletes, reactions, replies and attachments through real sockets to
// a running parleyd on a real SQLite file (issue 16): who may change what,
// changes replayed in order after a rejoin, content gone from the file once
// deleted, reactions from two clients converging, and hostile replies and
// attachment metadata refused with the field's path, after which a fresh
// client is still served.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/message_changes.hpp"
#include "support/parleyd_process.hpp"
#include "support/test_client.hpp"

namespace parley::test {
namespace {

TEST(Changes, SendersEditAndDeleteTheirOwnAndOwnersAndAdminsDeleteAnyones) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");  // creates the room: its owner
  TestClient bob(server.port(), "bob");
  TestClient carol(server.port(), "carol");
  for (auto* c : {&alice, &bob, &carol}) c->join("lobby");
  std::string bobs = id_of(bob.send_text("lobby", "c_bob_00001", "bob's words"));
  std::string carols = id_of(carol.send_text("lobby", "c_carol_0001", "carol's words"));

  Json refused = change(alice, "edit", bobs, "alice's words", "c_alice_0001");
  EXPECT_EQ(str(refused, "code"), "forbidden");
  EXPECT_EQ(str(refused, "path"), "/message/target");
  refused = change(carol, "delete", bobs, "", "c_carol_0002");
  EXPECT_EQ(str(refused, "code"), "forbidden");
  EXPECT_EQ(str(refused, "path"), "/message/target");

  Json edited = change(bob, "edit", bobs, "bob's better words", "c_bob_00002");
  ASSERT_EQ(str(edited, "type"), "ack") << str(edited, "message");
  EXPECT_EQ(str(edited["message"], "type"), "edit");
  EXPECT_EQ(str(edited["message"], "target"), bobs);
  // Everyone sees the change as a message with its own seq, after the two.
  for (auto* c : {&alice, &carol}) {
    c->next("message");
    c->next("message");
    Json event = c->next("message");
    EXPECT_EQ(str(event["message"], "type"), "edit");
    EXPECT_EQ(str(event["message"], "senderId"), "bob");
    EXPECT_EQ(seq_of(event), 3);
  }

  Json deleted = change(alice, "delete", bobs, "", "c_alice_0002");  // the owner deletes anyone's
  ASSERT_EQ(str(deleted, "type"), "ack") << str(deleted, "message");
  EXPECT_EQ(str(carol.next("message")["message"], "type"), "delete");
  Json again = change(bob, "edit", bobs, "back from the dead", "c_bob_00003");
  EXPECT_EQ(str(again, "code"), "not_found");
  EXPECT_EQ(str(again, "path"), "/message/target");

  // An admin token deletes anyone's too; nobody edits what does not exist.
  TestClient root(server.port(), "root",
                  token_with_claims(R"({"sub":"root","name":"Root","role":"admin","exp":9999999999})"));
  ASSERT_EQ(str(root.next("welcome"), "type"), "welcome");
  root.join("lobby");
  EXPECT_EQ(str(change(root, "delete", carols, "", "c_root_00001"), "type"), "ack");
  Json nothing = change(bob, "edit", "m_nothing_here", "x", "c_bob_00004");
  EXPECT_EQ(str(nothing, "code"), "not_found");
  EXPECT_EQ(str(nothing, "path"), "/message/target");

  Timeline now = stored(bob);
  EXPECT_EQ(now[bobs], (Shown{"", true, {}}));
  EXPECT_EQ(now[carols], (Shown{"", true, {}}));
  EXPECT_EQ(now.size(), 2u) << "history pages hold messages, not changes";
}

TEST(Changes, ARejoinAfterSinceSeqReplaysChangesInOrderToTheFinalState) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  std::string first = id_of(alice.send_text("lobby", "c_alice_0001", "first"));
  Timeline bobs_view;
  std::int64_t seen = 0;
  {
    TestClient bob(server.port(), "bob");
    Json joined = bob.join("lobby");
    seen = joined["headSeq"].GetInt64();
    for (const auto& m : joined["messages"].GetArray()) apply_event(bobs_view, m);
  }  // bob goes offline
  std::string second = id_of(alice.send_text("lobby", "c_alice_0002", "second"));
  ASSERT_EQ(str(change(alice, "edit", first, "first, edited", "c_alice_0003"), "type"), "ack");
  ASSERT_EQ(str(change(alice, "react", first, "🎉", "c_alice_0004"), "type"), "ack");
  ASSERT_EQ(str(change(alice, "edit", first, "first, edited twice", "c_alice_0005"), "type"), "ack");
  ASSERT_EQ(str(change(alice, "edit", second, "second, edited", "c_alice_0006"), "type"), "ack");
  ASSERT_EQ(str(change(alice, "delete", second, "", "c_alice_0007"), "type"), "ack");

  TestClient bob(server.port(), "bob");
  Json joined = bob.join("lobby", seen);
  EXPECT_FALSE(joined.HasMember("reset"));
  EXPECT_EQ(seqs(joined["messages"]), range(2, 7)) << "every change in its place";
  std::vector<std::string> types;
  for (const auto& m : joined["messages"].GetArray()) types.push_back(str(m, "type"));
  EXPECT_EQ(types, (std::vector<std::string>{"text", "edit", "react", "edit", "edit", "delete"}));
  for (const auto& m : joined["messages"].GetArray()) apply_event(bobs_view, m);
  Timeline expected{{first, Shown{"first, edited twice", false, {{"🎉", {"alice"}}}}}, {second, Shown{"", true, {}}}};
  EXPECT_EQ(bobs_view, expected);
  EXPECT_EQ(stored(bob), expected);
  // The edits of the deleted message lost their text too.
  for (const auto& m : joined["messages"].GetArray()) {
    if (str(m, "target") == second) {
      EXPECT_EQ(str(m, "content"), "") << "seq " << m["seq"].GetInt64();
    }
  }
}

// Everything of a deleted message leaves the database file, not just the
// rows parleyd reads: secure_delete zeroes freed space, and the shutdown's
// checkpoint empties the WAL.
TEST(Changes, ADeletedMessagesWordsAreGoneFromTheDatabaseFiles) {
  TempDir data;
  {
    ParleydProcess server({"--data-dir", data.path()});
    TestClient alice(server.port(), "alice");
    alice.join("lobby");
    std::string secret = id_of(alice.send_text("lobby", "c_alice_0001", "xyzzy-plugh the password"));
    std::string ps = R"({"type":"image","content":"xyzzy-caption","metadata":{"url":"/u/xyzzy.png",)"
                     R"("fileName":"xyzzy.png","fileSize":10,"mimeType":"image/png","width":2,"height":2}})";
    Json image = alice.request(send_frame("i", "lobby", "c_alice_0002", ps), "i");
    ASSERT_EQ(str(image, "type"), "ack") << str(image, "message");
    ASSERT_EQ(str(change(alice, "edit", secret, "xyzzy-plugh edited", "c_alice_0003"), "type"), "ack");
    ASSERT_EQ(str(change(alice, "delete", secret, "", "c_alice_0004"), "type"), "ack");
    ASSERT_EQ(str(change(alice, "delete", id_of(image), "", "c_alice_0005"), "type"), "ack");
    alice.send_text("lobby", "c_alice_0006", "something else");
    EXPECT_EQ(server.stop(), 0);
  }
  std::string db = (std::filesystem::path(data.path()) / "parley.db").string();
  sqlite3* handle = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(handle,
                               "SELECT count(*) FROM messages WHERE content LIKE '%xyzzy%' OR file_name IS NOT NULL "
                               "OR url IS NOT NULL",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 0);
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  for (const auto& entry : std::filesystem::directory_iterator(data.path())) {
    std::ifstream file(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << file.rdbuf();
    EXPECT_EQ(bytes.str().find("xyzzy"), std::string::npos) << entry.path() << " still holds the words";
  }
}

TEST(Changes, ReactionTogglesFromTwoClientsConverge) {
  ParleydProcess server({"--rate-reactions", "1000/1000", "--user-rate-reactions", "1000/1000"});
  TestClient alice(server.port(), "alice");
  TestClient bob(server.port(), "bob");
  alice.join("lobby");
  bob.join("lobby");
  std::string target = id_of(alice.send_text("lobby", "c_alice_0001", "react to me"));
  // Both toggle two emoji, interleaved, without waiting for answers.
  const std::string emoji[] = {"👍", "🎉"};
  std::map<std::pair<std::string, std::string>, bool> on;  // what each asked last
  int n = 0;
  for (int round = 0; round < 15; ++round) {
    for (auto* c : {&alice, &bob}) {
      const std::string& e = emoji[(round + (c == &bob ? 1 : 0)) % 2];
      bool& mine = on[{c->user, e}];
      mine = !mine;
      ++n;
      c->send(send_frame("t" + std::to_string(n), "lobby", cmid("t" + c->user, n),
                         change_draft(mine ? "react" : "unreact", target, e)));
    }
  }
  for (int i = 1; i <= n; ++i) {
    TestClient& c = (i % 2 == 1) ? alice : bob;
    ASSERT_EQ(str(c.answer("t" + std::to_string(i)), "type"), "ack") << i;
  }
  Timeline expected = stored(alice);
  std::map<std::string, std::set<std::string>> wanted;
  for (const auto& [key, value] : on) {
    if (value) wanted[key.second].insert(key.first);
  }
  EXPECT_EQ(expected[target].reactions, wanted);
  // Each client's view, from the live events in order, is the server's.
  for (auto* c : {&alice, &bob}) {
    Timeline view;
    view[target] = Shown{"react to me", false, {}};
    Json first = c->next("message");  // the message itself
    for (int i = 0; i < n; ++i) {
      Json event = c->next("message");
      ASSERT_TRUE(event.IsObject()) << c->user << " got " << i << " of " << n;
      apply_event(view, event["message"]);
    }
    EXPECT_EQ(view, expected) << c->user;
  }
}

TEST(Changes, RepliesQuoteTheirOriginalAsItIsNow) {
  ParleydProcess server;
  TestClient alice(server.port(), "alice");
  TestClient bob(server.port(), "bob");
  alice.join("lobby");
  bob.join("lobby");
  std::string original = id_of(alice.send_text("lobby", "c_alice_0001", "shall we ship on Friday?"));
  Json reply = bob.request(
      send_frame("r", "lobby", "c_bob_00001", R"({"type":"text","content":"yes","replyTo":")" + original + R"("})"),
      "r");
  ASSERT_EQ(str(reply, "type"), "ack") << str(reply, "message");
  EXPECT_EQ(str(reply["message"]["quote"], "senderId"), "alice");
  EXPECT_EQ(str(reply["message"]["quote"], "senderName"), "alice");  // TestClient's users are named by their id
  EXPECT_EQ(str(reply["message"]["quote"], "excerpt"), "shall we ship on Friday?");
  alice.next("message");
  Json seen = alice.next("message");
  EXPECT_EQ(str(seen["message"]["quote"], "excerpt"), "shall we ship on Friday?") << "the live event quotes too";

  ASSERT_EQ(str(change(alice, "delete", original, "", "c_alice_0002"), "type"), "ack");
  Json page = bob.request(R"({"type":"history","ref":"h","roomId":"lobby"})", "h");
  ASSERT_EQ(page["messages"].Size(), 2u);
  const auto& answer = page["messages"][1];
  EXPECT_EQ(str(answer, "replyTo"), original);
  EXPECT_TRUE(answer["quote"]["deleted"].GetBool());
  EXPECT_EQ(str(answer["quote"], "excerpt"), "");
}

TEST(Changes, ReactionsHaveARateOfTheirOwn) {
  ParleydProcess server({"--rate-reactions", "1/2"});
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  std::string target = id_of(alice.send_text("lobby", "c_alice_0001", "hi"));
  EXPECT_EQ(str(change(alice, "react", target, "👍", "c_alice_0002"), "type"), "ack");
  EXPECT_EQ(str(change(alice, "react", target, "🎉", "c_alice_0003"), "type"), "ack");
  Json limited = change(alice, "react", target, "👀", "c_alice_0004");
  EXPECT_EQ(str(limited, "code"), "rate_limited");
  EXPECT_GT(limited["retryAfterMs"].GetInt64(), 0);
  // Messages are another budget.
  alice.request(R"({"type":"ping","ref":"p"})", "p");
  Json text = alice.request(send_frame("s", "lobby", "c_alice_0005", R"({"type":"text","content":"still"})"), "s");
  EXPECT_EQ(str(text, "code"), "rate_limited") << "held behind the refused reaction, to keep the order";
}

TEST(Changes, HostileRepliesChangesAndAttachmentsAreRefusedWithTheFieldsPath) {
  ParleydProcess server({"--rate-messages", "1000/1000", "--user-rate-messages", "1000/1000"});
  TestClient alice(server.port(), "alice");
  alice.join("lobby");
  alice.join("other");
  std::string here = id_of(alice.send_text("lobby", "c_alice_0001", "here"));
  std::string elsewhere = id_of(alice.send_text("other", "c_alice_0002", "elsewhere"));
  std::string edit = id_of(change(alice, "edit", here, "here, edited", "c_alice_0003"));
  ASSERT_FALSE(edit.empty());
  const std::string image_head = R"({"type":"image","content":"","metadata":{"fileName":"a.png","fileSize":1,)";
  struct Case {
    std::string name;
    std::string draft;
    std::string code;
    std::string path;
  };
  const std::string long_url(3000, 'a');
  const std::vector<Case> cases = {
      {"reply to nothing", R"({"type":"text","content":"x","replyTo":"m_nothing"})", "not_found", "/message/replyTo"},
      {"reply into another room", R"({"type":"text","content":"x","replyTo":")" + elsewhere + R"("})", "not_found",
       "/message/replyTo"},
      {"reply to a change", R"({"type":"text","content":"x","replyTo":")" + edit + R"("})", "not_found",
       "/message/replyTo"},
      {"reply id with a quote", R"({"type":"text","content":"x","replyTo":"m_\"or 1=1"})", "bad_request",
       "/message/replyTo"},
      {"reply id too long", R"({"type":"text","content":"x","replyTo":")" + std::string(65, 'm') + R"("})", "too_large",
       "/message/replyTo"},
      {"change in another room", change_draft("edit", elsewhere, "x"), "not_found", "/message/target"},
      {"change of a change", change_draft("edit", edit, "x"), "not_found", "/message/target"},
      {"change without target", R"({"type":"edit","content":"x"})", "bad_request", "/message/target"},
      {"target on a text", R"({"type":"text","content":"x","target":")" + here + R"("})", "bad_request",
       "/message/target"},
      {"edit with a reply", R"({"type":"edit","content":"x","target":")" + here + R"(","replyTo":")" + here + R"("})",
       "bad_request", "/message/replyTo"},
      {"delete with words", change_draft("delete", here, "x"), "bad_request", "/message/content"},
      {"reaction of letters", change_draft("react", here, "lol"), "bad_request", "/message/content"},
      {"reaction too long", change_draft("react", here, "👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍👍"), "bad_request", "/message/content"},
      {"javascript url",
       image_head + R"js("mimeType":"image/png","url":"javascript:alert(1)","width":1,"height":1}})js", "bad_request",
       "/message/metadata/url"},
      {"data url", image_head + R"("mimeType":"image/png","url":"data:image/png;base64,AAAA","width":1,"height":1}})",
       "bad_request", "/message/metadata/url"},
      {"http url", image_head + R"("mimeType":"image/png","url":"http://evil.example/a.png","width":1,"height":1}})",
       "bad_request", "/message/metadata/url"},
      {"protocol-relative url",
       image_head + R"("mimeType":"image/png","url":"//evil.example/a.png","width":1,"height":1}})", "bad_request",
       "/message/metadata/url"},
      {"huge url",
       image_head + R"("mimeType":"image/png","url":"https://x/)" + long_url + R"(","width":1,"height":1}})",
       "too_large", "/message/metadata/url"},
      {"thumbnail data url",
       image_head + R"("mimeType":"image/png","url":"/a.png","thumbnailUrl":"data:x","width":1,"height":1}})",
       "bad_request", "/message/metadata/thumbnailUrl"},
      {"image without size", image_head + R"("mimeType":"image/png","url":"/a.png"}})", "bad_request",
       "/message/metadata/width"},
      {"image of zero width", image_head + R"("mimeType":"image/png","url":"/a.png","width":0,"height":1}})",
       "bad_request", "/message/metadata/width"},
      {"image of huge height", image_head + R"("mimeType":"image/png","url":"/a.png","width":1,"height":99999999}})",
       "bad_request", "/message/metadata/height"},
      {"image that is html", image_head + R"("mimeType":"text/html","url":"/a.png","width":1,"height":1}})",
       "bad_request", "/message/metadata/mimeType"},
      {"mime type with parameters",
       image_head + R"("mimeType":"image/png; charset=x","url":"/a.png","width":1,"height":1}})", "bad_request",
       "/message/metadata/mimeType"},
      {"file name with a path",
       R"({"type":"file","content":"","metadata":{"fileName":"../../etc/passwd","fileSize":1,"mimeType":"text/plain","url":"/f"}})",
       "bad_request", "/message/metadata/fileName"},
      {"negative file size",
       R"({"type":"file","content":"","metadata":{"fileName":"a","fileSize":-1,"mimeType":"text/plain","url":"/f"}})",
       "bad_request", "/message/metadata/fileSize"},
      {"file without metadata", R"({"type":"file","content":""})", "bad_request", "/message/metadata"},
      {"text with metadata", R"({"type":"text","content":"x","metadata":{"url":"/f"}})", "bad_request",
       "/message/metadata"},
      {"unknown metadata field",
       R"({"type":"file","content":"","metadata":{"fileName":"a","fileSize":1,"mimeType":"a/b","url":"/f","onload":"x"}})",
       "bad_request", "/message/metadata/onload"},
      {"system from a client", R"({"type":"system","content":"x"})", "forbidden", "/message/type"},
  };
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string ref = "h" + std::to_string(++n);
    Json answer = alice.request(send_frame(ref, "lobby", cmid("hostile", n), c.draft), ref);
    EXPECT_EQ(str(answer, "code"), c.code) << str(answer, "message");
    EXPECT_EQ(str(answer, "path"), c.path) << str(answer, "message");
  }
  // Nothing was stored, the connection is still served, and so is a fresh one.
  Json good = alice.request(send_frame("g", "lobby", "c_alice_0009",
                                       R"({"type":"image","content":"a cat","metadata":{"fileName":"cat.png",)"
                                       R"("fileSize":2048,"mimeType":"image/png","url":"/uploads/cat.png",)"
                                       R"("width":640,"height":480}})"),
                            "g");
  ASSERT_EQ(str(good, "type"), "ack") << str(good, "message");
  EXPECT_EQ(seq_of(good), 3);
  TestClient fresh(server.port(), "fresh");
  Json joined = fresh.join("lobby");
  EXPECT_EQ(joined["headSeq"].GetInt64(), 3);
  EXPECT_EQ(str(fresh.send_text("lobby", "c_fresh_0001", "hello"), "type"), "ack");
}

}  // namespace
}  // namespace parley::test
