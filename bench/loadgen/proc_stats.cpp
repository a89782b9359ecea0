#include "proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace parley::loadgen {

double own_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

ProcSample sample_proc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && (fields >> field); ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    s.cpu_s = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::stol(line.substr(6));
  }
  return s;
}

namespace {

// utime, stime, cutime, cstime and ppid of a process, from /proc/<pid>/stat.
struct StatFields {
  double own_s = 0;
  double reaped_s = 0;
  int ppid = 0;
  bool ok = false;
};

StatFields stat_fields(const std::string& pid) {
  StatFields f;
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return f;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double v[18] = {};
  for (int i = 3; i <= 17 && (fields >> field); ++i) {
    if (i == 4 || i >= 14) v[i] = std::stod(field);
  }
  double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  f.ppid = static_cast<int>(v[4]);
  f.own_s = (v[14] + v[15]) / tick;
  f.reaped_s = (v[16] + v[17]) / tick;
  f.ok = true;
  return f;
}

}  // namespace

ProcSample sample_server(int pid, const std::vector<int>& trees) {
  ProcSample s = sample_proc(pid);
  for (int tree : trees) {
    if (tree <= 0 || s.cpu_s < 0) continue;
    StatFields root = stat_fields(std::to_string(tree));
    if (!root.ok) continue;
    s.cpu_s += root.own_s + root.reaped_s;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::string name = entry.path().filename().string();
      if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
      StatFields child = stat_fields(name);
      if (child.ok && child.ppid == tree) s.cpu_s += child.own_s;
    }
  }
  return s;
}

CoreTimes sample_cores() {
  CoreTimes t;
  std::ifstream stat("/proc/stat");
  std::string line;
  auto hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  while (std::getline(stat, line)) {
    for (int core = 0; core < 2; ++core) {
      std::string name = "cpu" + std::to_string(core) + " ";
      if (line.rfind(name, 0) != 0) continue;
      std::istringstream fields(line.substr(name.size()));
      double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
      fields >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
      t.busy[core] = (user + nice + system + irq + softirq) / hz;
      t.steal[core] = steal / hz;
    }
  }
  return t;
}

int ksoftirqd0_pid() {
  for (int pid = 1; pid < 200; ++pid) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    if (std::getline(comm, name) && name == "ksoftirqd/0") return pid;
  }
  return 0;
}

}  // namespace parley::loadgen
