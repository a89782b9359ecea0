#include "tenants/tenant_storage.hpp"

namespace parley::server {

namespace {

void strip(std::string& id, const std::string& prefix) {
  if (!prefix.empty() && id.compare(0, prefix.size(), prefix) == 0) id.erase(0, prefix.size());
}

}  // namespace

std::string TenantStorage::prefix_of(const std::string& tenant) {
  return tenant == "default" ? std::string() : tenant + "/";
}

TenantStorage::TenantStorage(Storage& shared, const std::string& tenant, std::int64_t rooms)
    : shared_(shared), prefix_(prefix_of(tenant)), rooms_(rooms) {}

protocol::Error TenantStorage::local(protocol::Error error) const {
  if (prefix_.empty()) return error;
  for (auto at = error.message.find(prefix_); at != std::string::npos; at = error.message.find(prefix_, at)) {
    error.message.erase(at, prefix_.size());
  }
  return error;
}

void TenantStorage::local(protocol::Message& message) const { strip(message.roomId, prefix_); }
void TenantStorage::local(RoomRecord& room) const { strip(room.id, prefix_); }
void TenantStorage::local(MemberRecord& member) const { strip(member.room_id, prefix_); }

StorageResult<std::optional<RoomRecord>> TenantStorage::load_room(std::string_view room_id) {
  auto room = shared_.load_room(key(room_id));
  if (!room) return local(room.error());
  if (room.value()) local(*room.value());
  return room;
}

StorageResult<bool> TenantStorage::create_room(const RoomRecord& room, const std::vector<MemberRecord>& members) {
  RoomRecord stored = room;
  stored.id = key(room.id);
  std::vector<MemberRecord> first = members;
  for (auto& m : first) m.room_id = key(m.room_id);
  auto created = shared_.create_room(stored, first);
  if (!created) return local(created.error());
  if (created.value()) rooms_.fetch_add(1, std::memory_order_relaxed);
  return created;
}

StorageResult<Storage::Appended> TenantStorage::append_message(const protocol::Message& message) {
  protocol::Message stored = message;
  stored.roomId = key(message.roomId);
  auto appended = shared_.append_message(stored);
  if (!appended) return local(appended.error());
  local(appended.value().message);
  return appended;
}

StorageResult<std::optional<protocol::Message>> TenantStorage::find_sent(std::string_view room_id,
                                                                         std::string_view sender_id,
                                                                         std::string_view client_msg_id) {
  auto found = shared_.find_sent(key(room_id), sender_id, client_msg_id);
  if (!found) return local(found.error());
  if (found.value()) local(*found.value());
  return found;
}

StorageResult<std::optional<protocol::Message>> TenantStorage::load_message(std::string_view room_id,
                                                                            std::string_view id) {
  auto found = shared_.load_message(key(room_id), id);
  if (!found) return local(found.error());
  if (found.value()) local(*found.value());
  return found;
}

StorageResult<std::vector<protocol::Message>> TenantStorage::messages_after(std::string_view room_id,
                                                                            std::int64_t after_seq, std::size_t limit) {
  auto page = shared_.messages_after(key(room_id), after_seq, limit);
  if (!page) return local(page.error());
  for (auto& m : page.value()) local(m);
  return page;
}

StorageResult<std::vector<protocol::Message>> TenantStorage::messages_before(std::string_view room_id,
                                                                             std::int64_t before_seq,
                                                                             std::size_t limit) {
  auto page = shared_.messages_before(key(room_id), before_seq, limit);
  if (!page) return local(page.error());
  for (auto& m : page.value()) local(m);
  return page;
}

StorageResult<std::size_t> TenantStorage::prune_messages(std::string_view room_id, std::int64_t below_seq) {
  auto pruned = shared_.prune_messages(key(room_id), below_seq);
  if (!pruned) return local(pruned.error());
  return pruned;
}

StorageResult<std::optional<MemberRecord>> TenantStorage::load_member(std::string_view room_id,
                                                                      std::string_view user_id) {
  auto member = shared_.load_member(key(room_id), user_id);
  if (!member) return local(member.error());
  if (member.value()) local(*member.value());
  return member;
}

StorageResult<std::vector<MemberRecord>> TenantStorage::members(std::string_view room_id) {
  auto all = shared_.members(key(room_id));
  if (!all) return local(all.error());
  for (auto& m : all.value()) local(m);
  return all;
}

StorageStatus TenantStorage::put_member(const MemberRecord& member) {
  MemberRecord stored = member;
  stored.room_id = key(member.room_id);
  if (auto failed = shared_.put_member(stored)) return local(*failed);
  return std::nullopt;
}

StorageResult<bool> TenantStorage::remove_member(std::string_view room_id, std::string_view user_id) {
  auto removed = shared_.remove_member(key(room_id), user_id);
  if (!removed) return local(removed.error());
  return removed;
}

StorageResult<std::optional<std::int64_t>> TenantStorage::advance_watermark(std::string_view room_id,
                                                                            std::string_view user_id, Watermark which,
                                                                            std::int64_t seq) {
  auto now = shared_.advance_watermark(key(room_id), user_id, which, seq);
  if (!now) return local(now.error());
  return now;
}

StorageStatus TenantStorage::touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) {
  if (auto failed = shared_.touch_member(key(room_id), user_id, last_seen)) return local(*failed);
  return std::nullopt;
}

}  // namespace parley::server
