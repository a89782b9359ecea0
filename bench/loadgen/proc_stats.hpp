// Clocks and /proc sampling of the load generator: its own CPU, the server's CPU and RSS, the cores' busy time.
#pragma once

#include <vector>

#include <chrono>
#include <cstdint>

namespace parley::loadgen {

// Steady clock, nanoseconds: send times in message bodies, windows, deadlines.
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The load generator's own CPU time (user + system), seconds.
double own_cpu_s();

struct ProcSample {
  double cpu_s = -1;  // utime + stime of every thread
  long rss_kb = -1;   // VmRSS
};

// CPU and RSS of process `pid` (-1 figures when pid <= 0 or unreadable).
ProcSample sample_proc(int pid);
// The server's CPU and RSS: `pid`'s, plus the CPU of `tree` and of its
// children, live (their own) and gone (what `tree` reaped), when tree > 0.
ProcSample sample_server(int pid, const std::vector<int>& trees);

// Busy and stolen time of cores 0 and 1 (/proc/stat, seconds): what else ran
// on the benchmark's cores during a window.
struct CoreTimes {
  double busy[2] = {-1, -1};
  double steal[2] = {-1, -1};
};

CoreTimes sample_cores();

// The kernel thread that runs core 0's deferred softirq work (the server's
// loopback packets when the kernel defers them), or 0.
int ksoftirqd0_pid();

}  // namespace parley::loadgen
