// One tenant's view of the shared storage: its room ids live under the
// tenant's prefix ("acme/lobby"; no room id can hold a '/'), and come back
// without it. The hub of a tenant sees only this view, so no request of a
// tenant's user can name, read or count another tenant's room, whatever it
// sends. The default tenant has no prefix: a deployment that starts using
// tenants keeps its data as the default tenant's.
#pragma once

#include <atomic>
#include <string>

#include "storage/storage.hpp"

namespace parley::server {

class TenantStorage final : public Storage {
 public:
  // `tenant`: the tenant's name ("default": no prefix). `rooms`: how many of
  // the shared store's rooms are the tenant's (counted once by the caller).
  TenantStorage(Storage& shared, const std::string& tenant, std::int64_t rooms);

  StorageResult<std::optional<RoomRecord>> load_room(std::string_view room_id) override;
  StorageResult<bool> create_room(const RoomRecord& room, const std::vector<MemberRecord>& members) override;
  // The tenant's rooms, kept by create_room (the per-tenant room limit reads it).
  std::int64_t room_count() const override { return rooms_.load(std::memory_order_relaxed); }
  StorageResult<std::int64_t> count_rooms(std::string_view prefix) override {
    return shared_.count_rooms(prefix_ + std::string(prefix));
  }
  StorageResult<Appended> append_message(const protocol::Message& message) override;
  StorageResult<std::optional<protocol::Message>> find_sent(std::string_view room_id, std::string_view sender_id,
                                                            std::string_view client_msg_id) override;
  StorageResult<std::optional<protocol::Message>> load_message(std::string_view room_id, std::string_view id) override;
  StorageResult<std::vector<protocol::Message>> messages_after(std::string_view room_id, std::int64_t after_seq,
                                                               std::size_t limit) override;
  StorageResult<std::vector<protocol::Message>> messages_before(std::string_view room_id, std::int64_t before_seq,
                                                                std::size_t limit) override;
  // Every tenant's: the shared store does not count per tenant.
  std::int64_t message_count() const override { return shared_.message_count(); }
  StorageResult<std::size_t> prune_messages(std::string_view room_id, std::int64_t below_seq) override;
  StorageResult<std::optional<MemberRecord>> load_member(std::string_view room_id, std::string_view user_id) override;
  StorageResult<std::vector<MemberRecord>> members(std::string_view room_id) override;
  StorageStatus put_member(const MemberRecord& member) override;
  StorageResult<bool> remove_member(std::string_view room_id, std::string_view user_id) override;
  StorageResult<std::optional<std::int64_t>> advance_watermark(std::string_view room_id, std::string_view user_id,
                                                               Watermark which, std::int64_t seq) override;
  StorageStatus touch_member(std::string_view room_id, std::string_view user_id, std::int64_t last_seen) override;
  StorageStatus flush() override { return shared_.flush(); }

  // The prefix of a tenant's room ids in the shared store ("" for the default tenant).
  static std::string prefix_of(const std::string& tenant);

 private:
  std::string key(std::string_view room_id) const { return prefix_ + std::string(room_id); }
  // Errors name rooms by their ids in the store: say them as the tenant does.
  protocol::Error local(protocol::Error error) const;
  void local(protocol::Message& message) const;
  void local(RoomRecord& room) const;
  void local(MemberRecord& member) const;

  Storage& shared_;
  std::string prefix_;
  std::atomic<std::int64_t> rooms_;
};

}  // namespace parley::server
