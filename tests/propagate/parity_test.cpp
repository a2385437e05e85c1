// Bitwise device-vs-CPU parity over seeded random graphs and batch compositions.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "clgauge/error.hpp"
#include "clgauge/hash.hpp"
#include "clgauge/propagate.hpp"
#include "clgauge/random.hpp"
#include "propagate/device_batch.hpp"

namespace clgauge {
namespace {

std::optional<Device>& shared_device() {
  static std::optional<Device> device;
  if (!device && !list_devices().empty()) device = Device::open();
  return device;
}

ProgramCache test_cache() {
  return ProgramCache::from_environment();
}

// A seeded random case: graph kind, size, seeds and some edge values chosen to hit
// the corners (negative weights, parallel edges, self loops, denormal inputs).
std::uint32_t pick(std::uint64_t seed, std::uint64_t index, std::uint32_t bound) {
  const float u = random_element(seed, index, Distribution::uniform);  // [-1, 1)
  return static_cast<std::uint32_t>((static_cast<double>(u) + 1.0) * 0.5 * bound) % bound;
}

Graph random_graph(std::uint64_t seed) {
  const std::int32_t n = 1 + static_cast<std::int32_t>(pick(seed, 0, 200));
  const std::int64_t e = pick(seed, 1, static_cast<std::uint32_t>(4 * n + 1));
  Graph g = pick(seed, 2, 2) ? generate_rmat(n, e, seed) : generate_uniform(n, e, seed);
  // Ties in key_rank, tiny and denormal weights, a few exact cancellations.
  for (std::size_t j = 0; j < g.weights.size(); ++j) {
    switch (pick(seed, 100 + j, 23)) {
      case 0:
        g.weights[j] = 1e-39f;
        break;  // denormal input, read as 0
      case 1:
        g.weights[j] = 3e-20f;
        break;  // products fall below FLT_MIN
      case 2:
        g.weights[j] = -g.weights[j > 0 ? j - 1 : 0];
        break;
      case 3:
        g.rel_mult[j] = 0.0f;
        break;
      default:
        break;
    }
  }
  if (pick(seed, 3, 3) == 0) {
    for (auto& k : g.key_rank) k %= 3;
  }
  return g;
}

Seeds random_seeds(std::uint64_t seed, std::int32_t n) {
  Seeds s;
  const auto k = 1 + pick(seed, 50, 6);
  for (std::uint32_t i = 0; i < k; ++i) {
    s.nodes.push_back(static_cast<std::int32_t>(pick(seed, 60 + i, static_cast<std::uint32_t>(n))));
    s.weights.push_back(random_element(seed, 70 + i, Distribution::uniform) * 4.0f);
  }
  return s;
}

PropagateParams random_params(std::uint64_t seed) {
  PropagateParams p;
  p.rate = 0.25f + 0.75f * static_cast<float>(pick(seed, 80, 4)) / 3.0f;
  p.floor = pick(seed, 81, 3) == 0 ? 0.05f : 0.0f;
  p.radius_cap = static_cast<std::int32_t>(pick(seed, 82, 7));
  p.iter_cap_layers = static_cast<std::int32_t>(pick(seed, 83, 7));
  p.node_budget = pick(seed, 84, 3) == 0 ? 1.5f : std::numeric_limits<float>::infinity();
  p.eps = pick(seed, 85, 2) ? 1e-8f : 1e-3f;
  return p;
}

// Caps that let the layers run `cap` deep (several rounds from 5), nothing cut by eps.
PropagateParams deep_params(std::int32_t cap) {
  PropagateParams p;
  p.rate = 0.9f;
  p.radius_cap = cap;
  p.iter_cap_layers = cap + 1;
  p.eps = 1e-30f;
  return p;
}

// A chain 0 -> 1 -> ... -> n-1 (each node's one edge; the last has none).
Graph chain(std::int32_t n) {
  Graph g;
  for (std::int32_t u = 0; u <= n; ++u) g.indptr.push_back(u < n ? u : n - 1);
  for (std::int32_t u = 0; u + 1 < n; ++u) g.indices.push_back(u + 1);
  g.weights.assign(g.indices.size(), 1.5f);
  g.rel_code.assign(g.indices.size(), 0);
  g.rel_mult.assign(g.indices.size(), 1.25f);
  g.key_rank.assign(static_cast<std::size_t>(n), 0);
  return g;
}

TEST(PropagateParity, SingleGraphsMatchBitForBit) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  for (std::uint64_t i = 0; i < 40; ++i) {
    const std::uint64_t seed = xxh3_64("single/" + std::to_string(i));
    const Graph g = random_graph(seed);
    const Seeds s = random_seeds(seed, g.nodes());
    const PropagateParams p = random_params(seed);
    const auto want = propagate_cpu_layered(g, s, p);
    const auto got = propagate_device(*dev, test_cache(), g, s, p);
    ASSERT_EQ(want, got) << "seed " << seed << ": " << to_json(want) << "\nvs\n" << to_json(got);
  }
}

TEST(PropagateParity, BatchesMatchBitForBit) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  std::int64_t graphs_checked = 0;
  PropagateMetrics seen;  // the random cases must reach every counter
  for (std::uint64_t b = 0; b < 24; ++b) {
    const std::uint64_t bseed = xxh3_64("batch/" + std::to_string(b));
    const auto count = 1 + pick(bseed, 0, 40);
    std::vector<Graph> graphs;
    std::vector<Seeds> seeds;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint64_t seed = xxh3_64(std::to_string(bseed) + "/" + std::to_string(i));
      graphs.push_back(random_graph(seed));
      seeds.push_back(random_seeds(seed, graphs.back().nodes()));
      if (pick(seed, 90, 9) == 0) seeds.back() = Seeds{};  // a graph with no seeds
    }
    const PropagateParams p = random_params(bseed);
    const auto want = propagate_batch_cpu(graphs, seeds, p);
    const auto got = propagate_batch_device(*dev, test_cache(), graphs, seeds, p);
    const auto diff = first_difference(want, got);
    ASSERT_FALSE(diff.has_value()) << "batch " << b << ": " << diff->describe();
    ASSERT_EQ(want, got);
    graphs_checked += static_cast<std::int64_t>(count);
    seen.propagations += want.totals.propagations;
    seen.radius_cap_hits += want.totals.radius_cap_hits;
    seen.layer_cap_hits += want.totals.layer_cap_hits;
    seen.node_budget_hits += want.totals.node_budget_hits;
    seen.iters = std::max(seen.iters, want.totals.iters);
  }
  EXPECT_GE(graphs_checked, 200);
  EXPECT_GT(seen.propagations, 1000);
  EXPECT_GT(seen.radius_cap_hits, 0);
  EXPECT_GT(seen.layer_cap_hits, 0);
  EXPECT_GT(seen.node_budget_hits, 0);
  EXPECT_GE(seen.iters, 3);
}

TEST(PropagateParity, LargerGraphsSpanManyWorkGroups) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  // 300,000 edges: the host builds this in-CSR with the radix path (>= 2^18 edges).
  std::vector<Graph> graphs{generate_rmat(20000, 120000, 5), generate_uniform(3000, 9000, 6),
                            generate_rmat(7, 30, 7), generate_rmat(5000, 40000, 8, {0.4, 0.3, 0.2}),
                            generate_rmat(30000, 300000, 9)};
  for (auto& k : graphs[4].key_rank) k %= 50;  // many key_rank ties
  std::vector<Seeds> seeds;
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    seeds.push_back(random_seeds(xxh3_64("large/" + std::to_string(i)), graphs[i].nodes()));
  }
  PropagateParams p;
  p.rate = 0.9f;
  p.radius_cap = 6;
  p.iter_cap_layers = 5;
  p.node_budget = 2.0f;
  const auto want = propagate_batch_cpu(graphs, seeds, p);
  const auto got = propagate_batch_device(*dev, test_cache(), graphs, seeds, p);
  const auto diff = first_difference(want, got);
  ASSERT_FALSE(diff.has_value()) << diff->describe();
  EXPECT_GT(want.totals.propagations, 50000);
  // One graph at a time gives the same bits as the batch.
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    EXPECT_EQ(propagate_device(*dev, test_cache(), graphs[i], seeds[i], p), want.results[i]);
  }
}

TEST(PropagateParity, OneShotCallsOfChangingSizesReusePooledMemory) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  // Each call gives its device memory back to the pool and the next takes what fits:
  // a larger, a smaller, the same size again, a batch, with different seeds, so any
  // stale value read from reused memory would show up as a difference.
  const std::vector<Graph> graphs{generate_rmat(20000, 150000, 21), generate_rmat(300, 2000, 22),
                                  generate_rmat(20000, 150000, 23),
                                  generate_uniform(9000, 40000, 24),
                                  generate_rmat(20000, 150000, 21)};
  PropagateParams p;
  p.rate = 0.8f;
  p.radius_cap = 5;
  p.iter_cap_layers = 6;
  for (std::size_t i = 0; i < graphs.size(); ++i) {
    const Seeds s = random_seeds(xxh3_64("pool/" + std::to_string(i)), graphs[i].nodes());
    EXPECT_EQ(propagate_device(*dev, test_cache(), graphs[i], s, p),
              propagate_cpu_layered(graphs[i], s, p))
        << "call " << i;
  }
  std::vector<Seeds> seeds;
  for (std::size_t i = 0; i < graphs.size(); ++i)
    seeds.push_back(random_seeds(xxh3_64("pool-batch/" + std::to_string(i)), graphs[i].nodes()));
  const auto diff = first_difference(propagate_batch_cpu(graphs, seeds, p),
                                     propagate_batch_device(*dev, test_cache(), graphs, seeds, p));
  ASSERT_FALSE(diff.has_value()) << diff->describe();
}

TEST(PropagateParity, LongChainsRunLayersInRounds) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  // Layers are launched several at a time before the host reads their counters: a
  // chain of 40 nodes with caps of 30 runs in rounds, and one of 10 nodes empties its
  // frontier in the middle of a round.
  const std::vector<Graph> graphs{chain(40), chain(10)};
  const std::vector<Seeds> seeds{Seeds{{0}, {1.0f}}, Seeds{{0, 3}, {1.0f, -2.0f}}};
  for (const std::int32_t cap : {30, 7, 4, 3, 0}) {
    const PropagateParams p = deep_params(cap);
    const auto want = propagate_batch_cpu(graphs, seeds, p);
    const auto diff =
        first_difference(want, propagate_batch_device(*dev, test_cache(), graphs, seeds, p));
    ASSERT_FALSE(diff.has_value()) << "cap " << cap << ": " << diff->describe();
    EXPECT_EQ(want.results[0].metrics.iters, std::min(cap, 39)) << cap;  // the radius cap
    for (std::size_t i = 0; i < graphs.size(); ++i) {
      EXPECT_EQ(propagate_device(*dev, test_cache(), graphs[i], seeds[i], p), want.results[i]);
    }
  }
}

// A pull may leave the next frontier's marks out and let the next pull visit every
// node ("Dense layers" in kernels_cl/propagate.cl). Forced on at every layer, forced
// off, and at the default threshold, every result must be the same bits: across
// rounds (the host hands the decision on), in batches and in prepared batches.
TEST(PropagateParity, DenseAndSparseLayersGiveTheSameBits) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  struct Reset {
    ~Reset() { propagate_detail::set_dense_threshold_for_tests(std::nullopt); }
  } reset;
  std::vector<Graph> graphs{chain(40), generate_rmat(5000, 40000, 5), chain(9)};
  for (std::uint64_t i = 0; i < 12; ++i)
    graphs.push_back(random_graph(xxh3_64("dense/" + std::to_string(i))));
  std::vector<Seeds> seeds;
  for (std::size_t i = 0; i < graphs.size(); ++i)
    seeds.push_back(random_seeds(xxh3_64("dense-seeds/" + std::to_string(i)), graphs[i].nodes()));
  for (const std::int32_t cap : {30, 6, 2}) {
    const PropagateParams p = deep_params(cap);
    const auto want = propagate_batch_cpu(graphs, seeds, p);
    for (const std::optional<std::int64_t> threshold :
         {std::optional<std::int64_t>(0), std::optional<std::int64_t>(1),
          std::optional<std::int64_t>(std::nullopt),
          std::optional<std::int64_t>(std::int64_t{1} << 40)}) {
      propagate_detail::set_dense_threshold_for_tests(threshold);
      const std::string what = "cap " + std::to_string(cap) + ", threshold " +
                               (threshold ? std::to_string(*threshold) : std::string("default"));
      const auto diff =
          first_difference(want, propagate_batch_device(*dev, test_cache(), graphs, seeds, p));
      ASSERT_FALSE(diff.has_value()) << what << ": " << diff->describe();
      for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(propagate_device(*dev, test_cache(), graphs[i], seeds[i], p), want.results[i])
            << what << ", graph " << i;
      }
      PropagateDeviceBatch prepared(*dev, test_cache(), graphs);
      const auto again = first_difference(want, prepared.run(seeds, p));
      ASSERT_FALSE(again.has_value()) << what << " (prepared): " << again->describe();
    }
  }
}

TEST(PropagateParity, PreparedBatchRunsManySeedSets) {
  auto& dev = shared_device();
  if (!dev) GTEST_SKIP() << "no OpenCL device";
  std::vector<Graph> graphs;
  for (std::uint64_t i = 0; i < 30; ++i)
    graphs.push_back(random_graph(xxh3_64("prepared/" + std::to_string(i))));
  PropagateDeviceBatch batch(*dev, test_cache(), graphs);
  ASSERT_EQ(batch.graphs(), graphs.size());
  for (std::uint64_t turn = 0; turn < 6; ++turn) {
    std::vector<Seeds> seeds;
    for (std::size_t i = 0; i < graphs.size(); ++i) {
      seeds.push_back(random_seeds(
          xxh3_64("turn/" + std::to_string(turn) + "/" + std::to_string(i)), graphs[i].nodes()));
    }
    const PropagateParams p = random_params(xxh3_64("turn/" + std::to_string(turn)));
    const auto want = propagate_batch_cpu(graphs, seeds, p);
    const auto got = batch.run(seeds, p);
    const auto diff = first_difference(want, got);
    ASSERT_FALSE(diff.has_value()) << "turn " << turn << ": " << diff->describe();
  }
  // Seeds are checked against the uploaded graphs before any device work.
  std::vector<Seeds> bad(graphs.size());
  bad[3] = Seeds{{graphs[3].nodes()}, {1.0f}};
  try {
    (void)batch.run(bad, {});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ReasonCode::bad_input);
    EXPECT_NE(std::string(e.what()).find("graph 3: seed_nodes[0]"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)batch.run(std::span(bad).first(2), {}), Error);
}

}  // namespace
}  // namespace clgauge
