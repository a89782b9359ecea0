// Starting the servers tests own (redis-server, HAProxy) as child processes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace parley::test {

// Runs argv[0] (a path) with its output appended to `log_path` and no stdin.
// fork + exec rather than posix_spawn: the child asks for SIGKILL when its
// parent dies, and closes what it inherits (Asio's sockets are not
// close-on-exec: a server holding a test's client socket would keep it
// open). Throws std::runtime_error when it cannot fork.
pid_t spawn_child(const std::vector<std::string>& argv, const std::string& log_path);

// A TCP port nobody listens on now on 127.0.0.1 (another process may still
// take it before the caller binds it). Throws std::runtime_error.
std::uint16_t free_loopback_port();

}  // namespace parley::test
