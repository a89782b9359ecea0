// LoadGen's scenarios (fanout, saturation, idle, storm, soak), the setup of the connections and the measuring windows.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "load_gen.hpp"

namespace parley::loadgen {

// ---------------------------------------------------------------- setup

void LoadGen::start_more() {
  while (setup_in_flight_ < opt_.inflight && setup_next_ < conns_.size()) {
    Conn& c = *conns_[setup_next_++];
    c.setup_counted = true;
    ++setup_in_flight_;
    start_connect(c);
  }
}

net::awaitable<double> LoadGen::establish() {
  std::int64_t started = now_ns();
  start_more();
  std::size_t total = conns_.size();
  std::size_t last_report = 0;
  bool ok = co_await wait_until(
      [&] {
        if (static_cast<std::size_t>(joined_) >= last_report + 2000) {
          last_report = static_cast<std::size_t>(joined_);
          std::fprintf(stderr, "parley_loadgen: %zu/%zu joined\n", last_report, total);
        }
        return static_cast<std::size_t>(joined_) == total;
      },
      opt_.setup_timeout_s);
  if (!ok) {
    die("only " + std::to_string(joined_) + " of " + std::to_string(total) + " connections joined within " +
        std::to_string(static_cast<int>(opt_.setup_timeout_s)) + " s");
  }
  co_return static_cast<double>(now_ns() - started) / 1e9;
}

// ---------------------------------------------------------------- measuring

LoadGen::Window LoadGen::open_window() {
  latencies_.clear();
  max_latency_us_ = 0;
  win_received_ = 0;
  Window w{
      now_ns(),      0, own_cpu_s(), sample_server(opt_.server_pid, opt_.server_tree_pids), sample_proc(softirq_pid_),
      sample_cores()};
  win_start_ = w.start;
  win_end_ = INT64_MAX;
  return w;
}

// Closes the window and fills the common figures.
Json LoadGen::close_window(const Window& w, double offered_msgs) {
  std::int64_t end = now_ns();
  win_end_ = end;
  ProcSample server1 = sample_server(opt_.server_pid, opt_.server_tree_pids);
  ProcSample softirq1 = sample_proc(softirq_pid_);
  double own1 = own_cpu_s();
  double seconds = static_cast<double>(end - w.start) / 1e9;
  double deliveries = static_cast<double>(win_received_);
  Json j;
  j.num("rate_msgs", offered_msgs)
      .num("offered_deliveries_per_s", offered_msgs * opt_.per_room)
      .num("window_s", seconds)
      .num("deliveries_per_s", deliveries / seconds)
      .num("loadgen_cpu_frac", (own1 - w.own0) / seconds);
  if (server1.cpu_s >= 0 && w.server0.cpu_s >= 0) {
    double cpu = server1.cpu_s - w.server0.cpu_s;
    j.num("server_cpu_frac", cpu / seconds)
        .num("server_cpu_us_per_delivery", deliveries > 0 ? cpu * 1e6 / deliveries : -1);
  }
  if (softirq1.cpu_s >= 0 && w.softirq0.cpu_s >= 0) {
    double cpu = softirq1.cpu_s - w.softirq0.cpu_s;
    j.num("ksoftirqd0_cpu_frac", cpu / seconds)
        .num("ksoftirqd0_us_per_delivery", deliveries > 0 ? cpu * 1e6 / deliveries : -1);
  }
  if (server1.rss_kb >= 0) j.integer("server_rss_kb", server1.rss_kb);
  // Everything else that ran on the two cores (other builds on a shared machine):
  // core 0's busy time less the server's, core 1's less the load generator's.
  CoreTimes cores1 = sample_cores();
  if (cores1.busy[0] >= 0 && w.cores0.busy[0] >= 0) {
    double server_cpu = server1.cpu_s >= 0 && w.server0.cpu_s >= 0 ? server1.cpu_s - w.server0.cpu_s : 0;
    j.num("core0_others_frac", std::max(0.0, cores1.busy[0] - w.cores0.busy[0] - server_cpu) / seconds)
        .num("core1_others_frac", std::max(0.0, cores1.busy[1] - w.cores0.busy[1] - (own1 - w.own0)) / seconds)
        .num("steal_frac", (cores1.steal[0] - w.cores0.steal[0] + cores1.steal[1] - w.cores0.steal[1]) / seconds);
  }
  return j;
}

Json LoadGen::latency_figures(Json j) {
  j.num("p50_ms", percentile(latencies_, 0.50))
      .num("p99_ms", percentile(latencies_, 0.99))
      .num("max_ms", max_latency_us_ / 1000.0)
      .integer("latency_samples", static_cast<std::int64_t>(latencies_.size()));
  return j;
}

void LoadGen::reset_phase() {
  phase_sent_ = 0;
  phase_received_ = 0;
}

// ---------------------------------------------------------------- scenarios

net::awaitable<void> LoadGen::fanout() {
  double setup = co_await establish();
  std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
  co_await sleep_s(0.5);
  for (double rate : opt_.rates) {
    reset_phase();
    std::uint64_t errors0 = errors_, disc0 = disconnects_;
    win_start_ = INT64_MAX;
    set_rate(rate);
    co_await sleep_s(opt_.warmup_s);
    Window w = open_window();
    co_await sleep_s(opt_.window_s);
    Json j = close_window(w, rate);
    set_rate(0);
    std::int64_t drain_start = now_ns();
    co_await wait_until([&] { return phase_received_ >= expected(); }, opt_.drain_s);
    double drain_s = static_cast<double>(now_ns() - drain_start) / 1e9;
    std::uint64_t exp = expected();
    j = latency_figures(std::move(j));
    j.integer("sent", static_cast<std::int64_t>(phase_sent_))
        .integer("expected", static_cast<std::int64_t>(exp))
        .integer("received", static_cast<std::int64_t>(phase_received_))
        .integer("lost", static_cast<std::int64_t>(exp > phase_received_ ? exp - phase_received_ : 0))
        .num("drain_s", drain_s)
        .integer("errors", static_cast<std::int64_t>(errors_ - errors0))
        .integer("disconnects", static_cast<std::int64_t>(disconnects_ - disc0))
        .integer("connections", static_cast<std::int64_t>(conns_.size()))
        .num("setup_s", setup);
    emit(Json().str("scenario", "fanout").raw("result", j.done()).done());
    co_await sleep_s(0.3);
  }
}

net::awaitable<void> LoadGen::saturation() {
  double setup = co_await establish();
  std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
  co_await sleep_s(0.5);
  lat_by_recv_ = true;
  reset_phase();
  std::vector<std::string> steps;
  double best = 0, best_rate = 0, best_loadgen = 0, fail_loadgen = 0;
  bool failed = false;
  std::string why;
  // A step that falls behind is tried once more after the backlog drained
  // (a shared machine has hiccups); a second failure ends the ladder.
  bool retried = false;
  for (double rate = opt_.start_rate; rate <= opt_.max_rate;) {
    std::uint64_t disc0 = disconnects_;
    set_rate(rate);
    co_await sleep_s(opt_.step_warmup_s);
    Window w = open_window();
    co_await sleep_s(opt_.step_s);
    Json j = latency_figures(close_window(w, rate));
    double seconds = static_cast<double>(win_end_ - w.start) / 1e9;
    double got = static_cast<double>(win_received_) / seconds;
    double offered = rate * opt_.per_room;
    double own = (own_cpu_s() - w.own0) / seconds;
    double p99 = percentile(latencies_, 0.99);
    bool kept_up = got >= 0.95 * offered && p99 >= 0 && p99 < opt_.max_p99_ms && disconnects_ == disc0;
    j.boolean("kept_up", kept_up).boolean("retry", retried);
    steps.push_back(j.done());
    std::fprintf(stderr,
                 "parley_loadgen: step %.0f msgs/s: %.0f deliveries/s of %.0f, p99 %.1f ms, loadgen %.2f core%s\n",
                 rate, got, offered, p99, own, kept_up ? "" : "  <- fell behind");
    if (!kept_up && !retried) {
      retried = true;
      set_rate(0);
      co_await wait_until([&] { return phase_received_ >= expected(); }, opt_.drain_s);
      co_await sleep_s(0.2);
      continue;
    }
    if (!kept_up) {
      failed = true;
      fail_loadgen = own;
      why = got < 0.95 * offered    ? "deliveries below 95% of offered"
            : disconnects_ != disc0 ? "disconnects"
                                    : "p99 at or above " + std::to_string(static_cast<int>(opt_.max_p99_ms)) + " ms";
      break;
    }
    if (got > best) {
      best = got;
      best_rate = rate;
      best_loadgen = own;
    }
    retried = false;
    rate *= opt_.factor;
  }
  set_rate(0);
  co_await wait_until([&] { return phase_received_ >= expected(); }, opt_.drain_s);
  std::string list = "[";
  for (std::size_t i = 0; i < steps.size(); ++i) list += (i ? "," : "") + steps[i];
  list += "]";
  bool lower_bound = best_loadgen > 0.9 || fail_loadgen > 0.9 || !failed;
  Json j;
  j.num("best_deliveries_per_s", best)
      .num("best_rate_msgs", best_rate)
      .num("best_loadgen_cpu_frac", best_loadgen)
      .num("fail_loadgen_cpu_frac", fail_loadgen)
      .boolean("reached_limit", failed)
      .str("stopped_because", failed ? why : "max rate reached")
      .boolean("lower_bound", lower_bound)
      .integer("sent", static_cast<std::int64_t>(phase_sent_))
      .integer("received", static_cast<std::int64_t>(phase_received_))
      .integer("expected", static_cast<std::int64_t>(expected()))
      .integer("disconnects", static_cast<std::int64_t>(disconnects_))
      .integer("errors", static_cast<std::int64_t>(errors_))
      .raw("steps", list);
  emit(Json().str("scenario", "saturation").raw("result", j.done()).done());
}

net::awaitable<void> LoadGen::idle() {
  ProcSample before = sample_server(opt_.server_pid, opt_.server_tree_pids);
  double own0 = own_cpu_s();
  double setup = co_await establish();
  double own_setup = own_cpu_s() - own0;
  std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
  ProcSample at_setup = sample_server(opt_.server_pid, opt_.server_tree_pids);
  co_await sleep_s(opt_.settle_s);
  ProcSample after_settle = sample_server(opt_.server_pid, opt_.server_tree_pids);
  auto n = static_cast<double>(conns_.size());
  Json j;
  j.integer("connections", static_cast<std::int64_t>(conns_.size()))
      .integer("rooms", opt_.rooms)
      .num("establish_s", setup)
      .num("connections_per_s", n / setup)
      .num("loadgen_cpu_frac", own_setup / setup)
      .integer("server_rss_before_kb", before.rss_kb)
      .integer("server_rss_after_kb", after_settle.rss_kb)
      .num("server_rss_per_conn_bytes", static_cast<double>(after_settle.rss_kb - before.rss_kb) * 1024.0 / n)
      .num("server_cpu_setup_s", at_setup.cpu_s - before.cpu_s)
      .num("server_cpu_us_per_conn", (at_setup.cpu_s - before.cpu_s) * 1e6 / n)
      .integer("disconnects", static_cast<std::int64_t>(disconnects_))
      .integer("errors", static_cast<std::int64_t>(errors_));
  emit(Json().str("scenario", "idle").raw("result", j.done()).done());
}

net::awaitable<void> LoadGen::storm() {
  track_seen_ = true;
  double setup = co_await establish();
  std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
  set_rate(opt_.storm_rate);
  co_await sleep_s(1.0);
  track_losses_ = true;
  track_attempts_ = true;
  emit(R"({"event":"ready"})");
  if (!co_await wait_until([&] { return first_loss_ns_ >= 0; }, 20))
    die("the server was not restarted (no connection lost)");
  std::size_t total = conns_.size();
  auto all_back = [&] { return rejoin_times_.size() >= total; };
  bool complete = co_await wait_until(all_back, opt_.storm_timeout_s);
  std::int64_t back_all_ns = now_ns() - first_loss_ns_;
  co_await sleep_s(1.0);  // keep publishing on the restored connections
  set_rate(0);
  co_await wait_until(
      [&] {
        for (auto& p : publishers_) {
          if (!p.pending.empty()) return false;
        }
        return true;
      },
      opt_.drain_s);
  // Then every member should have every committed message of its room.
  co_await wait_until([&] { return missing() == 0; }, opt_.drain_s, 0.1);

  std::vector<std::int64_t> back = rejoin_times_;
  std::sort(back.begin(), back.end());
  auto at_fraction = [&](double f) -> double {
    auto need = static_cast<std::size_t>(std::ceil(f * static_cast<double>(total)));
    if (need == 0 || back.size() < need) return -1;
    return static_cast<double>(back[need - 1]) / 1e6;
  };
  // Reconnect attempts per 100 ms bucket from the first loss to the last attempt;
  // the herd rule looks at the buckets until 99 % were back.
  std::vector<std::int64_t> buckets;
  for (std::int64_t t : attempts_) {
    if (t < first_loss_ns_) continue;
    auto b = static_cast<std::size_t>((t - first_loss_ns_) / 100'000'000);
    if (buckets.size() <= b) buckets.resize(b + 1, 0);
    ++buckets[b];
  }
  std::int64_t attempts = 0, peak = 0;
  for (auto b : buckets) {
    attempts += b;
    peak = std::max(peak, b);
  }
  double mean = buckets.empty() ? 0 : static_cast<double>(attempts) / static_cast<double>(buckets.size());
  double back99 = at_fraction(0.99);
  std::size_t storm_buckets =
      back99 < 0 ? buckets.size() : std::min(buckets.size(), static_cast<std::size_t>(std::ceil(back99 / 100.0)));
  std::int64_t storm_attempts = 0, storm_peak = 0;
  for (std::size_t i = 0; i < storm_buckets; ++i) {
    storm_attempts += buckets[i];
    storm_peak = std::max(storm_peak, buckets[i]);
  }
  double storm_mean = storm_buckets ? static_cast<double>(storm_attempts) / static_cast<double>(storm_buckets) : 0;
  std::string list = "[";
  for (std::size_t i = 0; i < buckets.size(); ++i) list += (i ? "," : "") + std::to_string(buckets[i]);
  list += "]";
  std::uint64_t committed = 0, unsent = 0;
  for (auto& p : publishers_) {
    committed += p.committed_count;
    unsent += p.pending.size();
  }
  Json j;
  j.integer("connections", static_cast<std::int64_t>(total))
      .integer("rooms", opt_.rooms)
      .num("setup_s", setup)
      .num("back_50_ms", at_fraction(0.50))
      .num("back_99_ms", at_fraction(0.99))
      .num("back_all_ms", complete ? static_cast<double>(back_all_ns) / 1e6 : -1)
      .integer("back", static_cast<std::int64_t>(back.size()))
      .integer("attempts", attempts)
      .num("bucket_mean", mean)
      .integer("bucket_max", peak)
      .num("bucket_max_over_mean", mean > 0 ? static_cast<double>(peak) / mean : -1)
      .integer("storm_buckets", static_cast<std::int64_t>(storm_buckets))
      .num("storm_bucket_mean", storm_mean)
      .num("storm_bucket_max_over_mean", storm_mean > 0 ? static_cast<double>(storm_peak) / storm_mean : -1)
      .raw("attempts_per_100ms", list)
      .integer("messages_committed", static_cast<std::int64_t>(committed))
      .integer("messages_unsent", static_cast<std::int64_t>(unsent))
      .integer("lost", static_cast<std::int64_t>(missing()))
      .integer("replayed", static_cast<std::int64_t>(replayed_))
      .integer("duplicates", static_cast<std::int64_t>(duplicates_))
      .integer("errors", static_cast<std::int64_t>(errors_));
  emit(Json().str("scenario", "storm").raw("result", j.done()).done());
}

// Soak: many connections, light traffic and a trickle of dropped connections
// (each resumes with sinceSeq) for a long time, sampling the server's memory:
// what leaks per connection, per message or per reconnect shows as growth.
// At the end every member must hold every committed message of its room.
net::awaitable<void> LoadGen::soak() {
  track_seen_ = true;
  double setup = co_await establish();
  std::fprintf(stderr, "parley_loadgen: %zu connections joined in %.2f s\n", conns_.size(), setup);
  co_await sleep_s(opt_.settle_s);
  ProcSample first = sample_server(opt_.server_pid, opt_.server_tree_pids);
  std::uint64_t disconnects0 = disconnects_;
  std::uint64_t churned = 0;
  std::vector<std::pair<double, std::int64_t>> samples{{0.0, first.rss_kb}};
  set_rate(opt_.soak_rate);
  std::int64_t start = now_ns();
  double next_sample = opt_.sample_every_s;
  double churn_due = 0;
  for (;;) {
    co_await sleep_s(0.25);
    double elapsed = static_cast<double>(now_ns() - start) / 1e9;
    churn_due += opt_.churn_per_s * 0.25;
    for (; churn_due >= 1; churn_due -= 1) {
      Conn& c = *conns_[rng_() % conns_.size()];
      if (c.publisher || c.state != State::joined) continue;
      ++churned;
      lost(c, "churn");
    }
    if (elapsed >= next_sample) {
      ProcSample now = sample_server(opt_.server_pid, opt_.server_tree_pids);
      samples.emplace_back(elapsed, now.rss_kb);
      std::fprintf(stderr, "parley_loadgen: soak %4.0f s: server RSS %lld kB, %d joined\n", elapsed,
                   static_cast<long long>(now.rss_kb), joined_);
      next_sample += opt_.sample_every_s;
    }
    if (elapsed >= opt_.duration_s) break;
  }
  set_rate(0);
  // Every publisher's messages acknowledged, every member back and caught up.
  co_await wait_until(
      [&] {
        for (auto& p : publishers_) {
          if (!p.pending.empty()) return false;
        }
        return joined_ == static_cast<int>(conns_.size());
      },
      30);
  co_await wait_until([&] { return missing() == 0; }, 30, 0.1);
  ProcSample last = sample_server(opt_.server_pid, opt_.server_tree_pids);
  samples.emplace_back(static_cast<double>(now_ns() - start) / 1e9, last.rss_kb);

  // Growth over the second half (SQLite's page cache, 2 MB a connection, and
  // the allocator's arenas fill during the first): the least-squares slope,
  // and the end against the half-way mark.
  std::size_t from = samples.size() / 2;
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  std::int64_t peak = 0;
  for (std::size_t i = from; i < samples.size(); ++i) {
    double x = samples[i].first / 60.0, y = static_cast<double>(samples[i].second);
    n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  for (const auto& s : samples) peak = std::max(peak, s.second);
  double slope = n > 1 && (n * sxx - sx * sx) > 0 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
  std::string list = "[";
  for (std::size_t i = 0; i < samples.size(); ++i) {
    list += (i ? "," : "") + std::string("[") + std::to_string(samples[i].first) + "," +
            std::to_string(samples[i].second) + "]";
  }
  list += "]";
  std::uint64_t committed = 0;
  for (auto& p : publishers_) committed += p.committed_count;
  Json j;
  j.integer("connections", static_cast<std::int64_t>(conns_.size()))
      .integer("rooms", opt_.rooms)
      .num("setup_s", setup)
      .num("duration_s", opt_.duration_s)
      .num("rate_msgs", opt_.soak_rate)
      .integer("messages_committed", static_cast<std::int64_t>(committed))
      .integer("churned", static_cast<std::int64_t>(churned))
      .integer("unexpected_disconnects", static_cast<std::int64_t>(disconnects_ - disconnects0 - churned))
      .integer("lost", static_cast<std::int64_t>(missing()))
      .integer("duplicates", static_cast<std::int64_t>(duplicates_))
      .integer("errors", static_cast<std::int64_t>(errors_))
      .integer("rss_start_kb", first.rss_kb)
      .integer("rss_half_kb", samples[from].second)
      .integer("rss_end_kb", last.rss_kb)
      .integer("rss_peak_kb", peak)
      .num("rss_slope_kb_per_min", slope)
      .num("server_cpu_s", last.cpu_s - first.cpu_s)
      .raw("rss_samples", list);
  emit(Json().str("scenario", "soak").raw("result", j.done()).done());
}

// Storm: committed messages that some member of the room has not received.
std::uint64_t LoadGen::missing() const {
  std::uint64_t lost = 0;
  for (const auto& c : conns_) {
    const Publisher& p = publishers_[c->room];
    for (std::uint32_t n = 0; n < p.next; ++n) {
      if (n < p.committed.size() && p.committed[n] && (n >= c->seen.size() || !c->seen[n])) ++lost;
    }
  }
  return lost;
}

}  // namespace parley::loadgen
