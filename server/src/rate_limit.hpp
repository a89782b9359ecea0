// Rate limits: the classes of requests, declared once here (their flags,
// defaults and the requests they count), and token buckets, a burst then a
// steady rate. Time is passed in, so tests drive them with a fake clock.
// Buckets are not thread-safe: each belongs to one connection (its worker
// thread) or sits behind its owner's lock.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

namespace parley::server {

// A token bucket's refill rate (per second) and burst (bucket size).
struct Rate {
  double per_second = 10;
  double burst = 20;
};

// What a request counts against: each class has its own buckets, one per
// connection and one per user (docs/server.md, Limits).
enum class RateClass : std::uint8_t { messages, typing, receipts, other, reactions };
inline constexpr std::size_t kRateClassCount = 5;

// Every class, in RateClass order. Its flags are --rate-<name> (per
// connection) and --user-rate-<name> (per user, over all their connections).
struct RateClassInfo {
  RateClass which;
  const char* name;
  const char* counts;  // the requests it counts, for --help
  Rate per_connection;
  Rate per_user;
};
inline constexpr std::array<RateClassInfo, kRateClassCount> kRateClasses = {{
    {RateClass::messages, "messages", "send", {10, 20}, {20, 40}},
    {RateClass::typing, "typing", "typing", {3, 6}, {6, 12}},
    {RateClass::receipts, "receipts", "read and delivered", {10, 30}, {20, 60}},
    {RateClass::other, "other", "every other request", {20, 40}, {40, 80}},
    {RateClass::reactions, "reactions", "send of react and unreact", {5, 10}, {5, 10}},
}};

// One rate per class, indexed by RateClass.
struct Rates {
  std::array<Rate, kRateClassCount> by_class{};
  const Rate& operator[](RateClass c) const { return by_class[static_cast<std::size_t>(c)]; }
  Rate& operator[](RateClass c) { return by_class[static_cast<std::size_t>(c)]; }
};
inline Rates default_rates(bool per_user) {
  Rates r;
  for (const auto& c : kRateClasses) r[c.which] = per_user ? c.per_user : c.per_connection;
  return r;
}

// The rate is passed to each call rather than stored: the rates are the
// server's configuration, and a connection holds four buckets (16 bytes each).
class TokenBucket {
 public:
  explicit TokenBucket(const Rate& rate) : tokens_(rate.burst) {}

  // Takes one token if there is one; otherwise returns how many milliseconds
  // until there will be (always >= 1).
  std::int64_t take(const Rate& rate, std::int64_t now_ms);
  // Returns a token taken for a request that was refused after all.
  void give_back(const Rate& rate) { tokens_ = std::min(rate.burst, tokens_ + 1.0); }

 private:
  double tokens_;
  std::int64_t last_ms_ = -1;
};

// One bucket per class, full to start with.
class RateBuckets {
 public:
  explicit RateBuckets(const Rates& rates)
      : buckets_{TokenBucket(rates[RateClass::messages]), TokenBucket(rates[RateClass::typing]),
                 TokenBucket(rates[RateClass::receipts]), TokenBucket(rates[RateClass::other]),
                 TokenBucket(rates[RateClass::reactions])} {}
  TokenBucket& operator[](RateClass c) { return buckets_[static_cast<std::size_t>(c)]; }

 private:
  std::array<TokenBucket, kRateClassCount> buckets_;
};

}  // namespace parley::server
