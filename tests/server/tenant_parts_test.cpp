// The tenants' parts on their own: the limits file, a tenant's view of the
// shared storage (the same room id in two tenants is two rooms, and nothing
// a tenant reads names another's), and the counts and limits of a tenant.
#include <gtest/gtest.h>

#include "support/parleyd_process.hpp"
#include "tenants/tenant_limits.hpp"
#include "tenants/tenant_storage.hpp"
#include "tenants/tenants.hpp"

namespace parley::server {
namespace {

RoomRecord room(const std::string& id) { return RoomRecord{id, RoomKind::public_room, "e1", 0, 1}; }
MemberRecord owner(const std::string& room_id, const std::string& user) {
  return MemberRecord{room_id, user, user, Role::owner, 0, 0, 1, 1};
}
protocol::Message message(const std::string& room_id, std::int64_t seq, const std::string& sender,
                          const std::string& content) {
  protocol::Message m;
  m.id = "m_" + room_id + std::to_string(seq);
  m.roomId = room_id;
  m.seq = seq;
  m.senderId = sender;
  m.senderName = sender;
  m.clientMsgId = "c_" + sender + "_" + std::to_string(seq) + "xxxx";
  m.content = content;
  m.createdAt = seq;
  return m;
}

TEST(TenantLimits, AreReadFromTheFileWithOthersAsTheDefault) {
  auto file = parse_tenant_limits(
      R"({"acme": {"maxConnections": 5000, "messagesPerSecond": 500, "maxRooms": 1000}, "*": {"maxConnections": 100}})");
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file.value().for_tenant("acme"), (TenantLimits{5000, 500, 1000}));
  EXPECT_EQ(file.value().for_tenant("globex"), (TenantLimits{100, 0, 0}));
  EXPECT_EQ(parse_tenant_limits("{}").value().for_tenant("default"), TenantLimits{}) << "no limits";
}

TEST(TenantLimits, ABadFileIsRefusedNamingWhatIsWrong) {
  for (const auto& [json, why] : std::vector<std::pair<std::string, std::string>>{
           {"", "not a JSON object"},
           {"[]", "not a JSON object"},
           {R"({"acme": 5})", "acme must be an object"},
           {R"({"acme": {"maxConections": 5}})", "acme.maxConections is not a limit"},
           {R"({"acme": {"maxRooms": -1}})", "acme.maxRooms must be a whole number"},
           {R"({"acme": {"maxRooms": 1.5}})", "acme.maxRooms must be a whole number"},
           {R"({"acme": {"maxRooms": 100000001}})", "acme.maxRooms must be a whole number"},
           {R"({"Acme": {}})", "tenant \"Acme\": 1-64 of a-z"},
           {R"({"a/b": {}})", "tenant \"a/b\""},
           {R"({"-x": {}})", "tenant \"-x\""},
           {"{\"" + std::string(65, 'a') + "\": {}}", "1-64 of a-z"},
       }) {
    auto parsed = parse_tenant_limits(json);
    ASSERT_FALSE(parsed) << json;
    EXPECT_NE(parsed.error().message.find(why), std::string::npos) << json << ": " << parsed.error().message;
  }
  EXPECT_FALSE(check_tenant_name("acme-2_b"));
  EXPECT_TRUE(check_tenant_name(""));
}

TEST(TenantStorage, TheSameRoomIdInTwoTenantsIsTwoRoomsAndNothingReadNamesTheOther) {
  auto shared = make_memory_storage();
  TenantStorage acme(*shared, "acme", 0);
  TenantStorage globex(*shared, "globex", 0);
  TenantStorage plain(*shared, "default", 0);

  ASSERT_TRUE(acme.create_room(room("lobby"), {owner("lobby", "alice")}).value());
  EXPECT_FALSE(globex.load_room("lobby").value()) << "acme's lobby is not globex's";
  ASSERT_TRUE(globex.create_room(room("lobby"), {owner("lobby", "mallory")}).value());
  ASSERT_TRUE(plain.create_room(room("lobby"), {owner("lobby", "dora")}).value());
  EXPECT_EQ(shared->room_count(), 3);
  EXPECT_EQ(acme.room_count(), 1);
  EXPECT_EQ(shared->load_room("acme/lobby").value()->id, "acme/lobby") << "stored under the tenant's prefix";
  EXPECT_TRUE(shared->load_room("lobby").value()) << "the default tenant's room has no prefix";

  ASSERT_TRUE(acme.append_message(message("lobby", 1, "alice", "for acme")));
  auto appended = globex.append_message(message("lobby", 1, "mallory", "for globex"));
  ASSERT_TRUE(appended);
  EXPECT_EQ(appended.value().message.roomId, "lobby");
  auto page = acme.messages_after("lobby", 0, 10).value();
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].content, "for acme");
  EXPECT_EQ(page[0].roomId, "lobby") << "the tenant's own room id";
  EXPECT_EQ(globex.messages_before("lobby", 10, 10).value()[0].content, "for globex");
  EXPECT_TRUE(plain.messages_after("lobby", 0, 10).value().empty());
  EXPECT_FALSE(globex.find_sent("lobby", "alice", message("lobby", 1, "alice", "").clientMsgId).value());

  auto members = acme.members("lobby").value();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].user_id, "alice");
  EXPECT_EQ(members[0].room_id, "lobby");
  EXPECT_FALSE(globex.load_member("lobby", "alice").value());
  EXPECT_FALSE(globex.advance_watermark("lobby", "alice", Watermark::read, 1).value()) << "not globex's member";
  EXPECT_EQ(acme.advance_watermark("lobby", "alice", Watermark::read, 1).value(), 1);
  EXPECT_EQ(acme.put_member(owner("nowhere", "alice"))->code, protocol::ErrorCode::not_found);

  auto conflict = acme.append_message(message("lobby", 5, "alice", "a gap"));
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().message.find("acme/"), std::string::npos)
      << "errors name the room as the tenant knows it: " << conflict.error().message;
}

TEST(TenantStorage, RoomsAreCountedPerTenant) {
  auto shared = make_memory_storage();
  TenantStorage acme(*shared, "acme", 0);
  TenantStorage plain(*shared, "default", 0);
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(acme.create_room(room(id), {}).value());
  ASSERT_TRUE(plain.create_room(room("d"), {}).value());
  EXPECT_EQ(shared->count_rooms(TenantStorage::prefix_of("acme")).value(), 3);
  EXPECT_EQ(shared->count_rooms(TenantStorage::prefix_of("default")).value(), 1) << "not the tenants' rooms";
  EXPECT_EQ(shared->count_rooms(TenantStorage::prefix_of("acm")).value(), 0);
  test::TempDir dir;
  auto sqlite = open_sqlite_storage(dir.path());
  TenantStorage on_disk(*sqlite, "acme", 0);
  ASSERT_TRUE(on_disk.create_room(room("x"), {}).value());
  ASSERT_TRUE(sqlite->create_room(room("y"), {}).value());
  ASSERT_TRUE(sqlite->create_room(room("acme-2/z"), {}).value());
  EXPECT_EQ(sqlite->count_rooms("acme/").value(), 1);
  EXPECT_EQ(sqlite->count_rooms("").value(), 1);
  EXPECT_EQ(sqlite->count_rooms("acme-2/").value(), 1);
}

class NoDispatch : public Dispatch {
 public:
  void deliver(std::size_t, Delivery) override {}
};

TEST(Tenants, ATenantsConnectionsAndSendsAreCappedAndItsLimitsChangeAtRunTime) {
  auto shared = make_memory_storage();
  NoDispatch dispatch;
  Config config;
  TenantLimitsFile file;
  file.named.emplace_back("acme", TenantLimits{2, 3, 0});
  Tenants tenants(*shared, dispatch, config, file);
  Tenant& acme = *tenants.get("acme").value();
  EXPECT_EQ(tenants.get("acme").value(), &acme) << "one per name";
  EXPECT_TRUE(acme.add_connection());
  EXPECT_TRUE(acme.add_connection());
  EXPECT_FALSE(acme.add_connection()) << "at the limit";
  acme.remove_connection();
  EXPECT_TRUE(acme.add_connection());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(acme.take_send(1'000), 0) << i;
  std::int64_t wait = acme.take_send(1'000);
  EXPECT_GT(wait, 0);
  EXPECT_LE(wait, 334);
  EXPECT_EQ(acme.take_send(1'000 + wait), 0) << "one more after a third of a second";
  Tenant::Usage usage = acme.usage();
  EXPECT_EQ(usage.connections, 2);
  EXPECT_EQ(usage.messages, 4);
  EXPECT_EQ(usage.refused_connections, 1);
  EXPECT_EQ(usage.refused_messages, 1);

  Tenant& other = *tenants.get("globex").value();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(other.add_connection()) << "no limit for the others";
  ASSERT_TRUE(tenants.set_limits("globex", TenantLimits{0, 0, 5}));
  EXPECT_EQ(other.limits().max_rooms, 5u);
}

}  // namespace
}  // namespace parley::server
