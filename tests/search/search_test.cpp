// Search strategies: determinism, golden proposal sequences, known optima, failure handling.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "clgauge/device_limits.hpp"
#include "clgauge/error.hpp"
#include "clgauge/search.hpp"
#include "search/internal.hpp"

namespace {

using namespace clgauge;
namespace fs = std::filesystem;

fs::path data(const std::string& name) {
  return fs::path(CLGAUGE_TEST_DATA_DIR) / "search" / name;
}

// A synthetic recorded space with a known optimum: 4 parameters (8, 8, 6, 4 values), the
// constraint x0 + x1 <= 12, objective 1 + 0.1 (x0-5)^2 + 0.1 (x1-2)^2 + 0.2 |x2-3| +
// 0.3 [x3 != 1], unique minimum 1.0 at (5, 2, 3, 1). Failures::near_optimum: configs with
// x0 >= 6 and x2 >= 3, or x1 == 7, fail; Failures::far: configs with x0 <= 2 and x1 >= 4.
enum class Failures { none, near_optimum, far };
RecordedSpace synthetic(Failures failures) {
  RecordedSpace rs;
  rs.source = "synthetic";
  rs.format = "test";
  rs.space.family = "test.synthetic";
  rs.space.names = {"a", "b", "c", "d"};
  const std::uint32_t sizes[] = {8, 8, 6, 4};
  for (std::size_t p = 0; p < 4; ++p) {
    std::vector<double> v;
    std::vector<std::string> t;
    for (std::uint32_t i = 0; i < sizes[p]; ++i) {
      v.push_back(std::pow(2.0, i));
      t.push_back(std::to_string(1u << i));
    }
    rs.space.values.push_back(v);
    rs.value_text.push_back(t);
  }
  for (std::uint32_t a = 0; a < 8; ++a) {
    for (std::uint32_t b = 0; b < 8; ++b) {
      if (a + b > 12) continue;
      for (std::uint32_t c = 0; c < 6; ++c) {
        for (std::uint32_t d = 0; d < 4; ++d) {
          rs.space.configs.push_back({a, b, c, d});
          std::ostringstream id;
          id << "cfg-" << a << b << c << d;
          rs.space.ids.push_back(id.str());
          const bool fail =
              (failures == Failures::near_optimum && ((a >= 6 && c >= 3) || b == 7)) ||
              (failures == Failures::far && a <= 2 && b >= 4);
          if (fail) {
            rs.objective.push_back(std::nullopt);
            rs.outcome.push_back("build_failed");
          } else {
            const double f = 1 + 0.1 * (a - 5.0) * (a - 5.0) + 0.1 * (b - 2.0) * (b - 2.0) +
                             0.2 * std::abs(c - 3.0) + (d != 1 ? 0.3 : 0.0);
            rs.objective.push_back(f);
            rs.outcome.push_back("ok");
          }
          rs.cost_s.push_back(1.0);
        }
      }
    }
  }
  return rs;
}

std::vector<std::string> proposal_ids(const RecordedSpace& rs, const SimulationResult& r) {
  std::vector<std::string> ids;
  for (const auto& e : r.evaluations) ids.push_back(rs.space.ids[e.config]);
  return ids;
}

TEST(SearchStrategies, NamesAndFactory) {
  EXPECT_EQ(search_strategy_names(),
            (std::vector<std::string>{"exhaustive", "random", "local", "bo"}));
  for (const auto& n : search_strategy_names()) EXPECT_EQ(make_search_strategy(n, 1)->name(), n);
  try {
    make_search_strategy("annealing", 1);
    FAIL() << "unknown strategy accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("annealing"), std::string::npos);
  }
  EXPECT_EQ(default_search_strategy(100, 17956), "bo");
  EXPECT_EQ(default_search_strategy(17956, 17956), "exhaustive");
  EXPECT_EQ(default_search_strategy(20000, 17956), "exhaustive");
}

TEST(SearchStrategies, NeighboursDifferInOneParameterByOneStep) {
  const auto rs = synthetic(Failures::none);
  const NeighbourIndex nb(rs.space);
  for (std::size_t c = 0; c < rs.space.configs.size(); c += 37) {
    const auto& x = rs.space.configs[c];
    std::size_t expected = 0;
    for (std::size_t p = 0; p < 4; ++p) {
      for (const int step : {-1, 1}) {
        auto y = x;
        const int v = static_cast<int>(x[p]) + step;
        if (v < 0 || v >= static_cast<int>(rs.space.values[p].size())) continue;
        y[p] = static_cast<std::uint32_t>(v);
        expected += nb.find(y) ? 1 : 0;
      }
    }
    const auto ns = nb.neighbours(c);
    EXPECT_EQ(ns.size(), expected);
    for (const auto n : ns) {
      std::size_t differ = 0;
      for (std::size_t p = 0; p < 4; ++p) {
        const int d = static_cast<int>(rs.space.configs[n][p]) - static_cast<int>(x[p]);
        if (d != 0) {
          ++differ;
          EXPECT_EQ(std::abs(d), 1);
        }
      }
      EXPECT_EQ(differ, 1u);
    }
  }
}

// Golden proposal sequences on the toy cache (22 configs, 3 failures), seed 7, whole space.
// CLGAUGE_UPDATE_GOLDEN=1 rewrites the file.
TEST(SearchStrategies, GoldenProposalSequences) {
  const auto rs = load_recorded_space(data("toy_cache.json"));
  std::ostringstream got;
  for (const auto& s : search_strategy_names()) {
    const auto r = simulate(rs, s, 7, rs.space.configs.size());
    got << s << ":";
    for (const auto& id : proposal_ids(rs, r)) got << " " << id;
    got << "\n";
  }
  const auto golden = data("golden_proposals.txt");
  if (std::getenv("CLGAUGE_UPDATE_GOLDEN")) std::ofstream(golden) << got.str();
  std::ifstream in(golden);
  ASSERT_TRUE(in) << golden;
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got.str(), want.str());
}

TEST(SearchStrategies, SameSeedSameAnswerAndAPureFunctionOfHistory) {
  const auto rs = synthetic(Failures::near_optimum);
  for (const auto& s : search_strategy_names()) {
    for (std::uint64_t seed : {1u, 2u, 99u}) {
      const auto a = simulate(rs, s, seed, 60);
      const auto b = simulate(rs, s, seed, 60);
      EXPECT_EQ(proposal_ids(rs, a), proposal_ids(rs, b)) << s << " seed " << seed;
      // A fresh strategy given the same history proposes what the long-lived one did.
      std::vector<Observation> h;
      for (std::size_t i = 0; i < 40; ++i)
        h.push_back({a.evaluations[i].config, a.evaluations[i].objective});
      auto fresh = make_search_strategy(s, seed);
      fresh->set_budget(60);
      const auto next = fresh->propose(rs.space, h, 1);
      ASSERT_EQ(next.size(), 1u);
      EXPECT_EQ(next[0], a.evaluations[40].config) << s << " seed " << seed;
    }
  }
  // Different seeds give different random orders.
  EXPECT_NE(proposal_ids(rs, simulate(rs, "random", 1, 30)),
            proposal_ids(rs, simulate(rs, "random", 2, 30)));
}

TEST(SearchStrategies, RandomFollowsRandomOrder) {
  const auto rs = synthetic(Failures::none);
  const auto r = simulate(rs, "random", 5, 50);
  const auto perm = random_order(rs.space.configs.size(), 5);
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(r.evaluations[i].config, perm[i]);
  const auto e = simulate(rs, "exhaustive", 5, 50);
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(e.evaluations[i].config, i);
}

TEST(SearchStrategies, EveryStrategyFindsTheKnownOptimum) {
  const auto rs = synthetic(Failures::none);
  ASSERT_EQ(rs.optimum(), 1.0);
  const auto n = rs.space.configs.size();
  for (const auto& s : {"exhaustive", "random"}) {
    const auto r = simulate(rs, s, 3, n);
    EXPECT_EQ(r.evaluations.size(), n) << s;
    ASSERT_TRUE(r.best);
    EXPECT_EQ(*r.evaluations[*r.best].objective, 1.0) << s;
  }
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    for (const auto& s : {"local", "bo"}) {
      if (std::string(s) == "bo" && seed > 2) continue;  // the slow one: two seeds suffice
      const auto r = simulate(rs, s, seed, 120);
      ASSERT_TRUE(r.best) << s;
      EXPECT_EQ(*r.evaluations[*r.best].objective, 1.0) << s << " seed " << seed;
      EXPECT_EQ(rs.space.ids[r.evaluations[*r.best].config], "cfg-5231");
    }
  }
}

TEST(SearchStrategies, BoBeatsRandomOnTheSyntheticSpace) {
  const auto rs = synthetic(Failures::none);
  const auto bo = simulate_repeat(rs, "bo", 1, 3, 100);
  const auto random = simulate_repeat(rs, "random", 1, 3, rs.space.configs.size());
  ASSERT_TRUE(bo.within[0].median);
  ASSERT_TRUE(random.within[0].median);
  EXPECT_LT(*bo.within[0].median * 3, *random.within[0].median);
}

TEST(SearchStrategies, FailuresAreNeverProposedTwiceAndNeverRegressedOn) {
  const auto rs = synthetic(Failures::near_optimum);
  for (const auto& s : search_strategy_names()) {
    const std::size_t budget = std::string(s) == "bo" ? 120 : 400;
    const auto r = simulate(rs, s, 11, budget);
    std::set<std::size_t> seen;
    for (const auto& e : r.evaluations) EXPECT_TRUE(seen.insert(e.config).second) << s;
    EXPECT_EQ(r.evaluations.size(), budget);
    // Proposals never repeat anything in the history, failed or not.
    std::vector<Observation> h;
    for (const auto& e : r.evaluations) h.push_back({e.config, e.objective});
    auto st = make_search_strategy(s, 11);
    for (const auto c : st->propose(rs.space, h, 25)) EXPECT_FALSE(seen.count(c)) << s;
    if (std::string(s) == "bo") {
      const auto trained = search_detail::bo_regression_configs(h);
      std::size_t ok = 0;
      for (const auto& e : r.evaluations) ok += e.objective ? 1 : 0;
      EXPECT_EQ(trained.size(), ok);
      for (const auto c : trained) EXPECT_TRUE(rs.objective[c].has_value());
    }
  }
  // The whole toy space, 3 of its 22 configs failing: each config exactly once.
  const auto toy = load_recorded_space(data("toy_cache.json"));
  for (const auto& s : search_strategy_names()) {
    const auto r = simulate(toy, s, 3, 1000);
    EXPECT_EQ(r.evaluations.size(), 22u) << s;
    std::set<std::size_t> seen;
    for (const auto& e : r.evaluations) seen.insert(e.config);
    EXPECT_EQ(seen.size(), 22u) << s;
  }
}

TEST(SearchStrategies, BoLearnsWhereConfigsFail) {
  // While it converges (the first 40 evaluations), bo proposes fewer configs of a failing
  // region away from the optimum than random search does. (Later, with nothing promising left
  // near the best, its exploration does visit that region: see docs/search.md.)
  const auto rs = synthetic(Failures::far);
  std::size_t bo_failures = 0, random_failures = 0;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    for (const auto& e : simulate(rs, "bo", seed, 40).evaluations)
      bo_failures += e.objective ? 0 : 1;
    for (const auto& e : simulate(rs, "random", seed, 40).evaluations)
      random_failures += e.objective ? 0 : 1;
  }
  EXPECT_LT(bo_failures * 2, random_failures);
}

TEST(SearchStrategies, BatchesAreDistinctAndNew) {
  const auto rs = synthetic(Failures::near_optimum);
  for (const auto& s : search_strategy_names()) {
    auto st = make_search_strategy(s, 4);
    std::vector<Observation> h;
    for (int round = 0; round < 6; ++round) {
      const auto batch = st->propose(rs.space, h, 7);
      ASSERT_EQ(batch.size(), 7u) << s;
      std::set<std::size_t> b(batch.begin(), batch.end());
      EXPECT_EQ(b.size(), 7u) << s;
      for (const auto c : batch) {
        for (const auto& o : h) EXPECT_NE(o.config, c) << s;
        h.push_back({c, rs.objective[c]});
      }
    }
    // Past the end of the space: what is left, then nothing.
    std::vector<Observation> all;
    for (std::size_t c = 0; c + 2 < rs.space.configs.size(); ++c)
      all.push_back({c, rs.objective[c]});
    EXPECT_EQ(st->propose(rs.space, all, 5).size(), 2u) << s;
    for (std::size_t c = rs.space.configs.size() - 2; c < rs.space.configs.size(); ++c) {
      all.push_back({c, rs.objective[c]});
    }
    EXPECT_TRUE(st->propose(rs.space, all, 5).empty()) << s;
  }
}

TEST(SearchStrategies, SpaceFromACompiledSpaceFile) {
  auto limits =
      DeviceLimits::load(fs::path(CLGAUGE_SOURCE_DIR) / "tuning" / "limits" / "example_gpu.json");
  CompiledSpace compiled = compile_space(find_space_file("regtile_basic"), limits);
  const auto cands = compiled.candidates();
  const SearchSpace s = search_space_from(compiled);
  EXPECT_EQ(s.family, compiled.space().family);
  EXPECT_EQ(s.names, compiled.space().parameter_names());
  ASSERT_EQ(s.configs.size(), cands.size());
  for (std::size_t i = 0; i < cands.size(); ++i) {
    EXPECT_EQ(s.ids[i], cands[i].id);
    for (std::size_t p = 0; p < s.names.size(); ++p) {
      EXPECT_EQ(s.values[p][s.configs[i][p]], static_cast<double>(cands[i].values[p]));
    }
  }
  const SearchSpace shard = search_space_from(compiled, Shard::parse("1/3"));
  EXPECT_EQ(shard.configs.size(), compiled.count(Shard::parse("1/3")));
  // bo runs on it.
  auto bo = make_search_strategy("bo", 1);
  std::vector<Observation> h;
  for (int i = 0; i < 15; ++i) {
    const auto next = bo->propose(s, h, 1);
    ASSERT_EQ(next.size(), 1u);
    h.push_back({next[0], 1.0 + static_cast<double>(next[0] % 7)});
  }
}

TEST(SearchStrategies, HistoryOutsideTheSpaceIsBadInput) {
  const auto rs = synthetic(Failures::none);
  const std::vector<Observation> h = {{rs.space.configs.size() + 3, 1.0}};
  for (const auto& s : search_strategy_names()) {
    EXPECT_THROW(make_search_strategy(s, 1)->propose(rs.space, h, 1), Error) << s;
  }
}

}  // namespace
