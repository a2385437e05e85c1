// Property tests over many random spaces: the pruned enumeration is the brute-force
// filter of the raw product (same set, same order), ids are unique, shards partition
// the space, counts agree, and seeds do not depend on enumeration order.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "clgauge/plan.hpp"
#include "clgauge/space.hpp"

namespace clgauge {
namespace {

// splitmix64: the tests' own generator, so the spaces are the same everywhere.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::int64_t in(std::int64_t lo, std::int64_t hi) {  // [lo, hi]
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
};

using Values = std::vector<std::int64_t>;
using Check = std::function<bool(const Values&)>;

struct RandomSpace {
  ParameterSpace space;
  std::vector<Check> checks;  // C++ twins of the constraints
};

constexpr std::int64_t kMaxWg = 24;  // DeviceLimits::max_wg_size of these tests

// C semantics of the space's `%`: sign of the dividend; x % 0 never holds.
std::optional<std::int64_t> rem(std::int64_t a, std::int64_t b) {
  if (b == 0) return std::nullopt;
  return a % b;
}

RandomSpace make_space(Rng& rng) {
  RandomSpace out;
  out.space.family = "random.f" + std::to_string(rng.in(0, 3));
  out.space.source = "random";
  const int n = static_cast<int>(rng.in(1, 5));
  for (int i = 0; i < n; ++i) {
    Parameter p{"P" + std::to_string(i), {}};
    const int k = static_cast<int>(rng.in(1, 5));
    while (static_cast<int>(p.values.size()) < k) {
      const auto v = rng.in(-3, 12);
      if (std::find(p.values.begin(), p.values.end(), v) == p.values.end()) p.values.push_back(v);
    }
    out.space.parameters.push_back(std::move(p));
  }
  const int nc = static_cast<int>(rng.in(0, 5));
  for (int c = 0; c < nc; ++c) {
    const auto a = static_cast<std::size_t>(rng.in(0, n - 1));
    const auto b = static_cast<std::size_t>(rng.in(0, n - 1));
    const std::string A = "P" + std::to_string(a), B = "P" + std::to_string(b);
    const auto k = rng.in(-2, 40), d = rng.in(1, 5);
    switch (rng.in(0, 6)) {
      case 0:
        out.space.constraints.push_back(A + " % " + B + " == 0");
        out.checks.push_back([=](const Values& v) { return rem(v[a], v[b]) == 0; });
        break;
      case 1:
        out.space.constraints.push_back(A + " * " + B + " <= " + std::to_string(k));
        out.checks.push_back([=](const Values& v) { return v[a] * v[b] <= k; });
        break;
      case 2:
        out.space.constraints.push_back(A + " - " + B + " != " + std::to_string(k % 5));
        out.checks.push_back([=](const Values& v) { return v[a] - v[b] != k % 5; });
        break;
      case 3:
        out.space.constraints.push_back("(" + A + " + " + B + ") % " + std::to_string(d) + " < " +
                                        std::to_string(d / 2 + 1));
        out.checks.push_back([=](const Values& v) { return *rem(v[a] + v[b], d) < d / 2 + 1; });
        break;
      case 4:
        out.space.constraints.push_back(A + " * " + B + " <= max_wg_size");
        out.checks.push_back([=](const Values& v) { return v[a] * v[b] <= kMaxWg; });
        break;
      case 5:
        out.space.constraints.push_back(A + " == " + std::to_string(k % 7) + " || " + B + " > 2");
        out.checks.push_back([=](const Values& v) { return v[a] == k % 7 || v[b] > 2; });
        break;
      default:
        out.space.constraints.push_back("max_wg_size >= " + std::to_string(k));
        out.checks.push_back([=](const Values&) { return kMaxWg >= k; });
        break;
    }
  }
  return out;
}

DeviceLimits test_limits() {
  DeviceLimits l;
  l.max_wg_size = kMaxWg;
  return l;
}

// Every raw combination in lexicographic order (first parameter slowest), filtered.
std::vector<Values> brute_force(const ParameterSpace& s,
                                const std::function<bool(const Values&)>& ok) {
  std::vector<Values> out;
  std::vector<std::size_t> digit(s.parameters.size(), 0);
  for (;;) {
    Values v;
    for (std::size_t i = 0; i < digit.size(); ++i) v.push_back(s.parameters[i].values[digit[i]]);
    if (ok(v)) out.push_back(v);
    std::size_t i = digit.size();
    while (i > 0 && ++digit[i - 1] == s.parameters[i - 1].values.size()) digit[--i] = 0;
    if (i == 0) return out;
  }
}

constexpr int kSpaces = 300;

TEST(SchedulerProperty, PrunedEnumerationEqualsBruteForce) {
  Rng rng{1};
  for (int t = 0; t < kSpaces; ++t) {
    const auto rs = make_space(rng);
    CompiledSpace space(rs.space, test_limits());
    const auto expected = brute_force(rs.space, [&](const Values& v) {
      for (const auto& c : rs.checks) {
        if (!c(v)) return false;
      }
      return true;
    });
    // The compiled constraints evaluated without pruning agree with their C++ twins.
    const auto unpruned =
        brute_force(rs.space, [&](const Values& v) { return space.satisfies(v); });
    ASSERT_EQ(unpruned, expected) << rs.space.to_json();
    const auto listed = space.candidates();
    ASSERT_EQ(listed.size(), expected.size()) << rs.space.to_json();
    for (std::size_t i = 0; i < listed.size(); ++i) {
      ASSERT_EQ(listed[i].values, expected[i]) << rs.space.to_json();
      ASSERT_EQ(listed[i].index, i);
    }
    ASSERT_EQ(space.count(), expected.size()) << rs.space.to_json();
  }
}

TEST(SchedulerProperty, IdsAreUniqueAndShardsPartition) {
  Rng rng{2};
  for (int t = 0; t < kSpaces; ++t) {
    const auto rs = make_space(rng);
    CompiledSpace space(rs.space, test_limits());
    const auto all = space.candidates();
    std::set<std::string> ids;
    for (const auto& c : all) ids.insert(c.id);
    ASSERT_EQ(ids.size(), all.size());
    for (std::uint64_t n = 1; n <= 5; ++n) {
      std::vector<int> owner(all.size(), -1);
      for (std::uint64_t i = 0; i < n; ++i) {
        const Shard shard{i, n};
        const auto part = space.candidates(shard);
        ASSERT_EQ(part.size(), space.count(shard));
        for (const auto& c : part) {
          ASSERT_EQ(c.index % n, i);
          ASSERT_EQ(owner[c.index], -1) << "candidate in two shards";
          owner[c.index] = static_cast<int>(i);
          ASSERT_EQ(c, all[c.index]);
        }
      }
      for (const int o : owner) ASSERT_NE(o, -1) << "candidate in no shard";
    }
  }
}

TEST(SchedulerProperty, SeedsDoNotDependOnEnumerationOrder) {
  Rng rng{3};
  const std::vector<std::string> shapes = {"64x64x64", "7x13x31"};
  for (int t = 0; t < kSpaces / 3; ++t) {
    const auto rs = make_space(rng);
    auto reversed = rs.space;  // same configs, other enumeration order
    for (auto& p : reversed.parameters) std::reverse(p.values.begin(), p.values.end());
    CompiledSpace a(rs.space, test_limits());
    CompiledSpace b(reversed, test_limits());
    std::vector<std::string> ids_a, ids_b;
    for (const auto& c : a.candidates()) ids_a.push_back(c.id);
    for (const auto& c : in_random_order(b.candidates(), 9)) ids_b.push_back(c.id);
    ASSERT_EQ(std::set<std::string>(ids_a.begin(), ids_a.end()),
              std::set<std::string>(ids_b.begin(), ids_b.end()));
    if (ids_a.empty()) continue;
    const auto plan_a = ReplayPlan::make(ids_a, shapes, 2, 2, 42);
    const auto plan_b = ReplayPlan::make(ids_b, shapes, 2, 2, 42);
    std::map<std::string, std::uint64_t> seed_a;
    for (const auto& e : plan_a.entries) seed_a[e.tag + "/" + e.shape] = e.seed;
    ASSERT_EQ(plan_b.entries.size(), plan_a.entries.size());
    for (const auto& e : plan_b.entries) ASSERT_EQ(seed_a.at(e.tag + "/" + e.shape), e.seed);
  }
}

}  // namespace
}  // namespace clgauge
