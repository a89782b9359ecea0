// `parleyd migrate`: a SQLite store's whole content copied into PostgreSQL,
// so that parleyd on the new database carries on where the old one stopped.
#pragma once

#include <cstdint>
#include <string>

namespace parley::server {

struct MigrationReport {
  std::int64_t rooms = 0;
  std::int64_t members = 0;
  std::int64_t messages = 0;  // and as many dedup keys: they are the messages' own columns
};

// Copies every room (kind, epoch, head_seq), member (role, watermarks, last
// seen) and message (id, seq, every field; its dedup key with it) of the
// SQLite store in `data_dir` into the PostgreSQL database at `url`, whose
// schema is created or upgraded first. The SQLite file is upgraded to the
// current schema if it is older, then read in one read transaction (a
// consistent snapshot, even if a parleyd still writes to it; stop it first
// all the same, or its later writes are not copied). Everything is written in
// one PostgreSQL transaction: a failure leaves the target as it was.
//
// Refuses a target that already holds a room (nothing is merged), and a
// message PostgreSQL cannot store (a NUL character), naming its room and seq.
// Throws std::runtime_error with a clear message, never the password.
MigrationReport migrate_sqlite_to_postgres(const std::string& data_dir, const std::string& url);

}  // namespace parley::server
