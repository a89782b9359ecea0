#include "descriptors.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "log.hpp"

namespace parley::server {

DescriptorPlan plan_descriptors(std::uint64_t soft, std::uint64_t hard, std::uint64_t in_use,
                                std::uint32_t max_connections) {
  DescriptorPlan plan;
  hard = std::max(hard, soft);
  std::uint64_t reserve = in_use + kDescriptorMargin;
  std::uint64_t needed = reserve + max_connections;
  plan.soft = std::max(soft, std::min(needed, hard));
  plan.raise = plan.soft > soft;
  std::uint64_t room = plan.soft > reserve ? plan.soft - reserve : 0;
  plan.max_connections = static_cast<std::uint32_t>(std::min<std::uint64_t>(max_connections, room));
  plan.lowered = plan.max_connections < max_connections;
  return plan;
}

namespace {

std::uint64_t open_descriptors() {
  std::error_code ec;
  std::uint64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  // Without /proc: a generous guess (stdio, storage, listener, event loops).
  return ec || n == 0 ? 64 : n;
}

std::string text(std::uint64_t v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

}  // namespace

std::uint32_t fit_descriptor_limit(std::uint32_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    log::warn("cannot read the descriptor limit", {{"error", std::strerror(errno)}});
    return max_connections;
  }
  std::uint64_t in_use = open_descriptors();
  DescriptorPlan plan = plan_descriptors(limit.rlim_cur, limit.rlim_max, in_use, max_connections);
  if (plan.raise) {
    rlimit wanted = limit;
    wanted.rlim_cur = static_cast<rlim_t>(plan.soft);
    if (setrlimit(RLIMIT_NOFILE, &wanted) != 0) {
      // E.g. a hard limit above what the kernel allows (fs.nr_open): keep the current one.
      log::warn("cannot raise the descriptor limit",
                {{"from", text(limit.rlim_cur)}, {"to", text(plan.soft)}, {"error", std::strerror(errno)}});
      plan = plan_descriptors(limit.rlim_cur, limit.rlim_cur, in_use, max_connections);
    } else {
      log::info("descriptor limit raised", {{"from", text(limit.rlim_cur)}, {"to", text(plan.soft)}});
    }
  }
  if (plan.lowered) {
    log::warn("descriptor limit too low for --max-connections: lowering the connection limit",
              {{"soft_limit", text(plan.soft)},
               {"hard_limit", text(limit.rlim_max)},
               {"in_use", std::to_string(in_use)},
               {"max_connections", std::to_string(max_connections)},
               {"effective_max_connections", std::to_string(plan.max_connections)},
               {"hint", "raise the hard limit (ulimit -Hn, systemd LimitNOFILE=) or lower --max-connections"}});
  }
  return plan.max_connections;
}

}  // namespace parley::server
