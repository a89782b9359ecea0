#include "migrate_command.hpp"

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "storage/migrate.hpp"
#include "storage/storage.hpp"

namespace parley::server {
namespace {

int refuse(const std::string& error) {
  std::fprintf(stderr, "parleyd migrate: %s\n(parleyd migrate --help says how)\n", error.c_str());
  return 2;
}

}  // namespace

std::string migrate_usage() {
  return "usage: parleyd migrate --from sqlite:<data dir> --to postgres://user@host:port/database\n"
         "\n"
         "Copies the SQLite store in <data dir> (its parley.db) into an empty PostgreSQL database: rooms,\n"
         "members (roles, receipt watermarks, last seen) and messages (ids, seqs, every field) with their\n"
         "dedup keys, in one transaction. Stop parleyd first; then start it with --storage <the URL>.\n"
         "A target that already holds rooms is refused. The password may be in the URL, in PGPASSWORD or\n"
         "in ~/.pgpass; it is never printed.\n";
}

int run_migrate_command(int argc, const char* const* argv) {
  std::optional<std::string> from;
  std::optional<std::string> to;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(migrate_usage().c_str(), stdout);
      return 0;
    }
    std::optional<std::string> value;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg != "--from" && arg != "--to") {
      // Never echo a value: it may be a URL with a password.
      return refuse(arg.rfind("--", 0) == 0 ? "unknown option " + arg : "unexpected argument");
    }
    if (!value) {
      if (i + 1 >= argc) return refuse("missing value for " + arg);
      value = argv[++i];
    }
    (arg == "--from" ? from : to) = *value;
  }
  if (!from || !to) return refuse("both --from sqlite:<data dir> and --to postgres://... are needed");
  constexpr std::string_view kSqlite = "sqlite:";
  if (from->rfind(kSqlite, 0) != 0 || from->size() == kSqlite.size()) {
    return refuse("--from takes sqlite:<data dir>, the folder of parley.db");
  }
  std::string data_dir = from->substr(kSqlite.size());
  if (auto why = check_postgres_url(*to)) {
    return refuse("bad value for --to: " + redact_url_password(*to) + ": " + *why);
  }
  try {
    MigrationReport report = migrate_sqlite_to_postgres(data_dir, *to);
    std::printf(
        "parleyd migrate: copied %lld rooms, %lld members and %lld messages (with their dedup keys) from %s to %s\n",
        static_cast<long long>(report.rooms), static_cast<long long>(report.members),
        static_cast<long long>(report.messages), from->c_str(), redact_url_password(*to).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parleyd migrate: %s\n", redact_url_password(e.what()).c_str());
    return 1;
  }
}

}  // namespace parley::server
