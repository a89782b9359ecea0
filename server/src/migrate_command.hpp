// `parleyd migrate --from sqlite:<dir> --to postgres://...`: the command
// line around migrate_sqlite_to_postgres (storage/migrate.hpp).
#pragma once

#include <string>

namespace parley::server {

// Runs the command; argv[0] is "migrate". Returns the exit code: 0 done
// (the counts on stdout), 1 failed, 2 a bad command line (on stderr).
int run_migrate_command(int argc, const char* const* argv);
// Its usage text.
std::string migrate_usage();

}  // namespace parley::server
